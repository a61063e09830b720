package dev.llmkit.data.prepare;

import java.util.concurrent.ArrayBlockingQueue;

/**
 * Recycles the large batch buffers between reader, workers and consumer, so a run allocates a
 * fixed set of buffers instead of new ones per batch (fresh heap pages cost page faults).
 */
final class BufferPool {
    private final ArrayBlockingQueue<byte[]> free;

    BufferPool(int capacity) {
        free = new ArrayBlockingQueue<>(capacity);
    }

    /** A buffer of at least {@code min} bytes (contents undefined). */
    byte[] take(int min) {
        byte[] b = free.poll();
        return b != null && b.length >= min ? b : new byte[min];
    }

    void give(byte[] b) {
        if (b != null) free.offer(b);
    }
}
