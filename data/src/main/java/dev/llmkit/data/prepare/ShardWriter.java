package dev.llmkit.data.prepare;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import dev.llmkit.core.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Writes one split as zstd-compressed JSON Lines shards ({@code PREFIX-00000.jsonl.zst}, ...) of at
 * most {@code shardBytes} uncompressed bytes. Output is a sequence of independent zstd frames (each
 * at most {@link #FRAME_BYTES}), which lets {@link #mark()}/{@link #rollback(Mark)} drop everything
 * written since a mark: how a corrupt input file is skipped whole.
 */
public final class ShardWriter implements AutoCloseable {
    static final int FRAME_BYTES = 4 << 20;

    /** A finished shard. */
    public record Shard(String file, String split, long documents, long textBytes, long bytes, long fileBytes, String sha256) implements java.io.Serializable {}

    /** A position to roll back to. */
    record Mark(int shard, long filePos, long shardBytes, long shardDocs, long shardText, int closedShards) {}

    private final Path dir;
    private final String split;
    private final String prefix;          // file names: PREFIX-00000.jsonl.zst, ...
    private final long shardBytes;
    private final int level;
    private final ExecutorService executor;   // compresses frames in parallel; null: on the caller
    private final int maxInFlight;
    private final ArrayDeque<Future<Frame>> inFlight = new ArrayDeque<>();
    private final BufferPool frames = new BufferPool(16);
    private final BufferPool outputs = new BufferPool(16);
    private byte[] frame = new byte[FRAME_BYTES];
    private int frameLen;

    private final List<Shard> closed = new ArrayList<>();
    private FileChannel ch;
    private int shard = -1;
    private long filePos;
    private long bytes;
    private long docs;
    private long text;

    ShardWriter(Path dir, String split, long shardBytes, int level, ExecutorService executor, int maxInFlight) {
        this(dir, split, split, shardBytes, level, executor, maxInFlight);
    }

    /**
     * A writer that compresses on the calling thread and names its shards {@code PREFIX-00000.jsonl.zst},
     * ... (the Spark engine: one writer per split and partition, renamed in order when the job commits).
     */
    public ShardWriter(Path dir, String split, String prefix, long shardBytes, int level) {
        this(dir, split, prefix, shardBytes, level, null, 1);
    }

    private ShardWriter(Path dir, String split, String prefix, long shardBytes, int level, ExecutorService executor, int maxInFlight) {
        this.dir = dir;
        this.split = split;
        this.prefix = prefix;
        this.shardBytes = shardBytes;
        this.level = level;
        this.executor = executor;
        this.maxInFlight = Math.max(1, maxInFlight);
    }

    private static final ThreadLocal<ZstdCompressCtx> CTX = ThreadLocal.withInitial(ZstdCompressCtx::new);

    /** A compressed frame: {@code buf[0, len)}. */
    private record Frame(byte[] buf, int len) {}

    /** One independent zstd frame (with checksum and content size) of {@code b[off, off+len)}. */
    private Frame compress(byte[] b, int off, int len) {
        ZstdCompressCtx ctx = CTX.get();
        ctx.setLevel(level);
        ctx.setChecksum(true);
        ctx.setContentSize(true);
        byte[] dst = outputs.take((int) Zstd.compressBound(len));
        int n = ctx.compressByteArray(dst, 0, dst.length, b, off, len);
        return new Frame(dst, n);
    }

    /** Appends one output line ({@code b[off, end)}, newline included) holding {@code textBytes} of text. */
    public void write(byte[] b, int off, int end, int textBytes) {
        int len = end - off;
        if (ch == null || (bytes > 0 && bytes + len > shardBytes)) nextShard();
        if (frameLen + len > FRAME_BYTES) flushFrame();
        if (len > FRAME_BYTES) {
            drain(0);
            writeBytes(compress(b, off, len));
        } else {
            System.arraycopy(b, off, frame, frameLen, len);
            frameLen += len;
        }
        bytes += len;
        docs++;
        text += textBytes;
    }

    Mark mark() {
        flushFrame();
        drain(0);
        return new Mark(shard, filePos, bytes, docs, text, closed.size());
    }

    /** Drops everything written after {@code m}. */
    void rollback(Mark m) {
        frameLen = 0;
        for (Future<Frame> f : inFlight) f.cancel(false);
        inFlight.clear();
        try {
            if (ch != null) ch.close();
            ch = null;
            for (int s = Math.max(m.shard() + 1, 0); s <= shard; s++) Files.deleteIfExists(path(s));
            while (closed.size() > m.closedShards()) closed.remove(closed.size() - 1);
            shard = m.shard();
            if (shard >= 0) {
                ch = FileChannel.open(path(shard), StandardOpenOption.WRITE);
                ch.truncate(m.filePos());
                ch.position(m.filePos());
            }
            filePos = m.filePos();
            bytes = m.shardBytes();
            docs = m.shardDocs();
            text = m.shardText();
        } catch (IOException e) {
            throw ioError(e);
        }
    }

    /** Finishes the last shard and returns all shards of this split. */
    public List<Shard> finish() {
        closeShard();
        return List.copyOf(closed);
    }

    @Override
    public void close() {
        for (Future<Frame> f : inFlight) f.cancel(false);
        inFlight.clear();
        try {
            if (ch != null) ch.close();
        } catch (IOException ignored) {
            // the staging directory is removed after a failure
        }
    }

    private void nextShard() {
        closeShard();
        shard++;
        try {
            ch = FileChannel.open(path(shard), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw ioError(e);
        }
        filePos = 0;
        bytes = 0;
        docs = 0;
        text = 0;
    }

    private void closeShard() {
        if (ch == null) return;
        flushFrame();
        drain(0);
        try {
            ch.close();
        } catch (IOException e) {
            throw ioError(e);
        }
        ch = null;
        Path p = path(shard);
        closed.add(new Shard(p.getFileName().toString(), split, docs, text, bytes, filePos, dev.llmkit.core.util.Text.sha256(p)));
    }

    /** Hands the current frame to compression; frames are written in order by {@link #drain}. */
    private void flushFrame() {
        if (frameLen == 0) return;
        if (executor == null) {
            writeBytes(compress(frame, 0, frameLen));
        } else {
            byte[] src = frame;
            int len = frameLen;
            inFlight.add(executor.submit(() -> {
                Frame c = compress(src, 0, len);
                frames.give(src);
                return c;
            }));
            frame = frames.take(FRAME_BYTES);
            drain(maxInFlight);
        }
        frameLen = 0;
    }

    /** Writes finished frames in order until at most {@code keep} are in flight. */
    private void drain(int keep) {
        while (inFlight.size() > keep || (!inFlight.isEmpty() && inFlight.peek().isDone())) {
            try {
                writeBytes(inFlight.poll().get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while compressing", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("compression failed", e.getCause());
            }
        }
    }

    private void writeBytes(Frame c) {
        try {
            ByteBuffer bb = ByteBuffer.wrap(c.buf(), 0, c.len());
            while (bb.hasRemaining()) ch.write(bb);
        } catch (IOException e) {
            throw ioError(e);
        }
        filePos += c.len();
        outputs.give(c.buf());
    }

    private Path path(int s) {
        return dir.resolve(String.format("%s-%05d.jsonl.zst", prefix, s));
    }

    private StorageException ioError(IOException e) {
        return new StorageException("cannot write " + split + " shard in " + dir + ": " + e.getMessage(),
                "check free disk space and permissions", e);
    }

}
