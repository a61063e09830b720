package dev.llmkit.data.prepare;

import dev.llmkit.core.config.PrepareConfig;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The per-file half of {@code data prepare}, for engines that spread input files over machines (the
 * Spark engine): reads one input file with the same reader and record rules as the single-machine
 * path ({@link BatchReader}, {@link RecordParser}) and yields its good records in input order, each
 * with its dedup key and split. Bad records, blank lines and the file's status are counted in
 * {@link #tally()}, complete once the iteration has ended. Deduplication, the rollback of a corrupt
 * file and --strict are decided later, over all files, by {@link FileStage.Merge}.
 *
 * <p>A reader thread decompresses and cuts batches while the calling thread parses them.
 */
public final class FileRecords extends dev.llmkit.core.util.Lookahead<FileRecords.Doc> implements AutoCloseable {
    /**
     * A good record: the source it comes from within the file (0, or the archive member), its index
     * among that source's records (bad ones included), the 1-based line where it starts, the first and
     * second 64 bits of the SHA-256 of its normalised text, its split, and its output line (JSON with
     * a newline) holding {@code textBytes} bytes of text.
     */
    public record Doc(int member, long seq, long line, long hashHi, long hashLo, boolean val, byte[] json, int textBytes) {}

    private static final Batch END = new Batch(-1, Batch.Kind.FILE_END, null, 0, 0, 0, null, null);

    private final double valFraction;
    private final Sources sources = new Sources(1);
    private final Tally tally;
    private final RecordParser parser;
    private final BufferPool buffers = new BufferPool(8);
    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(4);
    private final Thread reader;
    private Parsed parsed;
    private int index;
    private boolean done;

    private FileRecords(PrepareConfig cfg, InputSource input) {
        this.valFraction = cfg.valFraction();
        this.tally = new Tally(sources, cfg.maxBadExamples());
        this.parser = new RecordParser(cfg, i -> sources.get(i).name(), buffers);
        BatchReader batches = new BatchReader(Corpus.CHUNK_BYTES, cfg.maxDocBytes(), buffers, cfg.txtSplit(), cfg.txtDocBytes());
        this.reader = new Thread(() -> {
            try {
                batches.read(0, input, sources, queue::put);
                queue.put(END);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable t) {
                try {
                    queue.put(t);                   // put: a full queue must not lose the error
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "prepare-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts reading {@code input}; close it when done (or abandoned). */
    public static FileRecords open(PrepareConfig cfg, InputSource input) {
        return new FileRecords(cfg, input);
    }

    /** The file's counts: complete after {@link #hasNext()} returned false (or threw: then up to the failure). */
    public Tally tally() {
        if (!done) throw new IllegalStateException("the file is still being read");
        return tally;
    }

    /** The sha256 of the input file's bytes on disk (for provenance.json); after the iteration. */
    public String fileSha256() {
        return sources.fileSha(0);
    }

    @Override
    protected Doc advance() {
        while (true) {
            if (parsed != null && index < parsed.count) {
                Doc d = record(parsed, index++);
                if (d != null) return d;
            } else if (!nextBatch()) {
                return null;
            }
        }
    }

    /** Ends the current batch and takes the next; false at the end of the file. */
    private boolean nextBatch() {
        if (parsed != null) {
            tally.src(parsed.batch.source).add(parsed);
            if (parsed.batch.kind == Batch.Kind.LINES || parsed.batch.kind == Batch.Kind.TEXT_DOCS) {     // both come from the pool
                buffers.give(parsed.batch.buf);
                buffers.give(parsed.out.buf);
            }
            parsed = null;
        }
        Object o;
        try {
            o = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading", e);
        }
        if (o instanceof Throwable t) {
            done = true;                            // the tally holds what was read before the failure
            if (t instanceof RuntimeException re) throw re;
            throw new IllegalStateException(t);
        }
        Batch b = (Batch) o;
        if (b == END) {
            done = true;
            return false;
        }
        if (b.kind == Batch.Kind.FILE_END) {
            Tally.Src st = tally.src(b.source);
            st.sha256 = b.sha256;
            if (b.error != null) {
                st.status = "skipped";          // FileStage.Merge decides: an error (--strict, or not rollbackable) or skipped whole
                st.error = b.error;
                st.unsupported = b.unsupported;
            }
        } else {
            parsed = parser.parse(b);
            index = 0;
        }
        return true;
    }

    /** Counts record {@code i} of {@code p}; returns it when it is good, else null. */
    private Doc record(Parsed p, int i) {
        int source = p.batch.source;
        Tally.Src st = tally.src(source);
        long line = st.line(p, i);
        long s = st.documentsIn++;                 // the record's index in its source, bad ones included
        if (p.reason[i] != null) {
            tally.bad(source, line, p.reason[i], p.detail[i]);
            return null;
        }
        byte[] json = java.util.Arrays.copyOfRange(p.out.buf, p.outStart(i), p.outEnd[i]);
        return new Doc(source, s, line, p.hashHi[i], p.hashLo[i], Corpus.isVal(p.hashHi[i], valFraction), json, p.textBytes[i]);
    }

    @Override
    public void close() {
        reader.interrupt();
    }
}
