package dev.llmkit.data.prepare;

import com.github.luben.zstd.RecyclingBufferPool;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import dev.llmkit.core.StorageException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Reads input files one after another and cuts them into batches at line boundaries, in constant
 * memory: a batch is at most {@code chunkBytes}, or one line of at most max_doc_bytes; a longer line
 * is skipped to its end and reported as one oversized record. Decompression errors end the file
 * with a FILE_END batch that carries the error; disk errors are thrown as {@link StorageException}.
 */
final class BatchReader {
    /** Receives batches in input order. */
    interface Sink {
        void accept(Batch b) throws InterruptedException;
    }

    private final int chunkBytes;
    private final long maxDocBytes;
    private final BufferPool pool;

    BatchReader(int chunkBytes, long maxDocBytes, BufferPool pool) {
        this.chunkBytes = chunkBytes;
        this.maxDocBytes = maxDocBytes;
        this.pool = pool;
    }

    void read(int source, InputFiles.Input input, Sink sink) throws InterruptedException {
        RawInput raw;
        try {
            raw = new RawInput(input.path());
        } catch (IOException e) {
            throw new StorageException("cannot open " + input.path() + ": " + e.getMessage(), "check that the file exists and is readable", e);
        }
        String error = null;
        String sha = null;
        try (raw) {
            try (InputStream in = open(input, raw)) {
                if (input.format() == InputFormat.TXT) readText(source, in, raw, sink);
                else readLines(source, in, raw, sink);
                sha = raw.finishSha256();
            }
        } catch (RawInput.DiskException e) {
            throw new StorageException("cannot read " + input.path() + ": " + e.getMessage(), "check the disk and the file", e);
        } catch (IOException | RuntimeException e) {
            error = describe(e);
            sha = dev.llmkit.core.util.Text.sha256(input.path());
        }
        sink.accept(new Batch(source, Batch.Kind.FILE_END, null, 0, input.size(), 0, error, sha));
    }

    private static InputStream open(InputFiles.Input input, RawInput raw) throws IOException {
        InputStream buffered = new BufferedInputStream(raw, 1 << 17);
        if (input.format().gzip()) return new GZIPInputStream(buffered, 1 << 17);
        if (input.format().zstd()) return new ZstdInputStreamNoFinalizer(buffered, RecyclingBufferPool.INSTANCE);
        return buffered;
    }

    private void readLines(int source, InputStream in, RawInput raw, Sink sink) throws IOException, InterruptedException {
        byte[] buf = pool.take(chunkBytes);
        int filled = 0;
        while (true) {
            int want = buf.length - filled;
            int n = in.readNBytes(buf, filled, want);
            filled += n;
            if (n < want) { // end of input
                if (filled > 0) sink.accept(new Batch(source, Batch.Kind.LINES, buf, filled, raw.position(), filled, null, null));
                else pool.give(buf);
                return;
            }
            int last = lastNewline(buf, filled);
            if (last >= 0) {
                int rest = filled - last - 1;
                byte[] next = pool.take(Math.max(chunkBytes, rest + chunkBytes / 2));
                System.arraycopy(buf, last + 1, next, 0, rest);
                sink.accept(new Batch(source, Batch.Kind.LINES, buf, last + 1, raw.position(), last + 1, null, null));
                buf = next;
                filled = rest;
            } else if (buf.length <= maxDocBytes + 1) { // one long line: grow up to max_doc_bytes + newline
                buf = Arrays.copyOf(buf, (int) Math.min((long) buf.length * 2, maxDocBytes + 2));
            } else { // longer than max_doc_bytes: skip to its end, keep what follows the newline
                long skipped = filled;
                int rest = 0;
                int m;
                while ((m = in.read(buf, 0, buf.length)) >= 0) {
                    int nl = RecordParser.indexOfNewline(buf, 0, m);
                    if (nl >= 0) {
                        skipped += nl + 1;
                        rest = m - nl - 1;
                        break;
                    }
                    skipped += m;
                }
                byte[] next = pool.take(Math.max(chunkBytes, rest + chunkBytes / 2));
                if (rest > 0) System.arraycopy(buf, m - rest, next, 0, rest);
                sink.accept(new Batch(source, Batch.Kind.OVERSIZED_LINE, null, 0, raw.position(), skipped, null, null));
                pool.give(buf);
                buf = next;
                filled = rest;
                if (m < 0) return;
            }
        }
    }

    private void readText(int source, InputStream in, RawInput raw, Sink sink) throws IOException, InterruptedException {
        byte[] doc = in.readNBytes((int) Math.min(maxDocBytes + 1, Integer.MAX_VALUE - 16));
        if (doc.length > maxDocBytes) {
            long total = doc.length + in.transferTo(java.io.OutputStream.nullOutputStream());
            sink.accept(new Batch(source, Batch.Kind.OVERSIZED_LINE, null, 0, raw.position(), total, null, null));
        } else {
            sink.accept(new Batch(source, Batch.Kind.TEXT_FILE, doc, doc.length, raw.position(), doc.length, null, null));
        }
    }


    private static int lastNewline(byte[] b, int end) {
        for (int i = end - 1; i >= 0; i--) if (b[i] == '\n') return i;
        return -1;
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        String what = e instanceof java.io.EOFException || (m != null && m.toLowerCase().contains("truncat"))
                ? "truncated" : "corrupt";
        return what + " compressed data (" + e.getClass().getSimpleName() + (m == null ? "" : ": " + m) + ")";
    }
}
