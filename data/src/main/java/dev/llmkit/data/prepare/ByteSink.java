package dev.llmkit.data.prepare;

import java.util.Arrays;

/** A growable byte buffer without synchronisation or bounds re-checks per byte. */
final class ByteSink {
    byte[] buf;
    int size;

    ByteSink(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    ByteSink(byte[] buf) {
        this.buf = buf;
    }

    void ensure(int extra) {
        if (size + extra > buf.length) {
            long want = Math.max((long) buf.length * 2, (long) size + extra);
            if (want > Integer.MAX_VALUE - 16) throw new IllegalStateException("buffer over 2 GiB");
            buf = Arrays.copyOf(buf, (int) want);
        }
    }

    void put(byte b) {
        buf[size++] = b;
    }

    void put(byte[] src, int from, int to) {
        int n = to - from;
        if (n <= 0) return;
        ensure(n);
        System.arraycopy(src, from, buf, size, n);
        size += n;
    }

    void putAscii(String s) {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) buf[size++] = (byte) s.charAt(i);
    }
}
