package dev.llmkit.data.prepare;

import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.LlmkitException;
import dev.llmkit.core.Progress;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.PrepareConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code data prepare}: RedPajama-style shards in, a clean corpus directory (00-corpus) out.
 *
 * <p>Pipeline: one reader thread decompresses the inputs in order and cuts them into batches;
 * worker threads parse, validate, normalise, hash and render each batch; the calling thread takes
 * the batches back in input order, deduplicates, splits and writes the shards. The result does not
 * depend on the number of threads. Output is built in a staging directory and renamed into place.
 */
public final class Corpus {
    static final int CHUNK_BYTES = 4 << 20;

    private Corpus() {}

    /**
     * The split of a document: validation when the first 53 bits of its key (the SHA-256 of its
     * normalised text), as a fraction in [0, 1), are below val_fraction; so a text's split does not
     * depend on where or when it is read.
     */
    public static boolean isVal(long hashHi, double valFraction) {
        return (hashHi >>> 11) * 0x1.0p-53 < valFraction;
    }

    /** Whether a bad file of this kind is skipped whole (rolled back) rather than an error. */
    static boolean rollbackable(boolean compressed, PrepareConfig cfg) {
        return compressed && cfg.skipBadFiles() && !cfg.strict();
    }

    /** The --strict error of a bad record. */
    static DataException strictError(String file, long line, Reason reason, String detail) {
        return new DataException(file + ":" + line + ": " + reason.key() + ": " + detail,
                "fix the record, or run without --strict to skip and count bad records");
    }

    /**
     * The error of a bad file: truncated or corrupt (unless rolled back), or an archive member of a type
     * llmkit does not read (with --strict only).
     */
    static DataException badFileError(String file, String error, boolean unsupported, boolean strict) {
        return new DataException(file + ": " + error, unsupported ? "remove it from the archive, or run without --strict to skip and count it"
                : strict ? "replace the file" : "replace the file, or pass --skip-bad-files to skip it whole");
    }

    /** The prepared corpus: its directory and report. */
    public record Manifest(Path dir, CorpusReport report) {}

    public static Manifest prepare(PrepareConfig cfg, List<? extends InputSource> inputs, Path out, boolean overwrite, Progress progress) {
        Path staging = AtomicFiles.beginDir(out, overwrite);
        boolean ok = false;
        try {
            Corpus.Run run = new Corpus.Run(cfg, inputs, staging, progress);
            CorpusReport report = run.run();
            if (report.totals().documentsOut() == 0) throw nothingKept(cfg, inputs.size(), report, out.toString());
            Json.write(staging.resolve("report.json"), report);
            Json.write(staging.resolve("provenance.json"), provenance(cfg, inputs, run.sources::fileSha));
            AtomicFiles.commitDir(staging, out);
            ok = true;
            return new Manifest(out, report);
        } finally {
            if (!ok) AtomicFiles.abortDir(staging);
        }
    }

    /**
     * A run that keeps no document is an error (exit 3), not an empty corpus: most often the wrong text
     * field, the wrong directory, or documents larger than max_doc_bytes. It names what dropped the most.
     */
    static DataException nothingKept(PrepareConfig cfg, int inputs, CorpusReport report, String out) {
        CorpusReport.Totals t = report.totals();
        String why;
        if (t.documentsIn() == 0) {
            why = "the inputs hold no documents (" + t.blankLines() + " blank lines)";
        } else {
            String top = null;
            long most = -1;
            for (Map.Entry<String, Long> e : t.skipped().entrySet()) {
                if (e.getValue() > most) {
                    most = e.getValue();
                    top = e.getKey();
                }
            }
            if (t.droppedWithFile() > most) {
                top = "dropped with a corrupt file";
                most = t.droppedWithFile();
            }
            if (t.duplicates() > most) {
                top = "duplicates";
                most = t.duplicates();
            }
            String example = "";
            for (CorpusReport.BadRecord ex : report.badRecords()) {
                if (ex.reason().equals(top)) {
                    example = " (e.g. " + ex.file() + ":" + ex.line() + ": " + ex.detail() + ")";
                    break;
                }
            }
            why = t.documentsIn() + " documents in, and the most, " + most + ", were " + (top.startsWith("dropped") || top.equals("duplicates") ? top : "skipped as " + top) + example;
        }
        return new DataException(out + ": no document was kept from " + inputs + " input file(s): " + why,
                "check the inputs and --text-field (now \"" + cfg.textField() + "\"); a .txt file is split by data.prepare.txt_split (now " + cfg.txtSplit()
                        + "), and records over data.prepare.max_doc_bytes (" + cfg.maxDocBytes() + ") are skipped");
    }

    static Provenance provenance(PrepareConfig cfg, List<? extends InputSource> inputs, java.util.function.IntFunction<String> fileSha) {
        List<Provenance.InputRef> refs = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            refs.add(new Provenance.InputRef(inputs.get(i).name(), inputs.get(i).size(), fileSha.apply(i)));
        }
        return new Provenance("data.prepare",
                Provenance.versions(Map.of("zstd_jni", com.github.luben.zstd.util.ZstdVersion.VERSION)),
                refs, cfg, ConfigLoader.sha256(Json.MAPPER.valueToTree(cfg)));
    }

    /** One run of the pipeline. */
    private static final class Run {
        private static final Future<Parsed> DONE = CompletableFuture.completedFuture(null);

        private final PrepareConfig cfg;
        private final List<? extends InputSource> inputs;
        private final Progress progress;
        private final Tally tally;
        private final Path dir;
        private ShardWriter train;
        private ShardWriter val;
        final Sources sources;
        private final HashSet128 seen = new HashSet128(1 << 16);
        private final HashSet128 pending = new HashSet128(16); // hashes of the current compressed file
        private final long[] rawBefore;
        private int current = -1;
        private boolean rollbackable;
        private ShardWriter.Mark trainMark;
        private ShardWriter.Mark valMark;

        Run(PrepareConfig cfg, List<? extends InputSource> inputs, Path dir, Progress progress) {
            this.cfg = cfg;
            this.inputs = inputs;
            this.progress = progress;
            this.sources = new Sources(inputs.size());
            this.tally = new Tally(sources, cfg.maxBadExamples());
            this.dir = dir;
            this.rawBefore = new long[inputs.size() + 1];
            for (int i = 0; i < inputs.size(); i++) rawBefore[i + 1] = rawBefore[i] + inputs.get(i).size();
        }

        CorpusReport run() {
            int threads = cfg.effectiveThreads();
            BlockingQueue<Future<Parsed>> queue = new ArrayBlockingQueue<>(threads * 2 + 2);
            BufferPool buffers = new BufferPool(threads * 4 + 8);
            RecordParser parser = new RecordParser(cfg, i -> sources.get(i).name(), buffers);
            BatchReader reader = new BatchReader(CHUNK_BYTES, cfg.maxDocBytes(), buffers, cfg.txtSplit(), cfg.txtDocBytes());
            AtomicInteger ids = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "prepare-worker-" + ids.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            Thread readerThread = new Thread(() -> {
                try {
                    for (int i = 0; i < inputs.size(); i++) {
                        reader.read(i, inputs.get(i), sources, b -> queue.put(pool.submit(() -> parser.parse(b))));
                    }
                    queue.put(DONE);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Throwable t) {
                    try {
                        queue.put(CompletableFuture.failedFuture(t));      // put: a full queue must not lose the error
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }, "prepare-reader");
            readerThread.setDaemon(true);
            progress.start("prepare (input bytes on disk)", rawBefore[inputs.size()], "B");
            train = new ShardWriter(dir, "train", cfg.shardBytes(), cfg.zstdLevel(), pool, threads * 2);
            val = new ShardWriter(dir, "val", cfg.shardBytes(), cfg.zstdLevel(), pool, threads * 2);
            try (ShardWriter t = train; ShardWriter v = val) {
                readerThread.start();
                while (true) {
                    Future<Parsed> f = queue.take();
                    if (f == DONE) break;
                    Parsed p = get(f);
                    consume(p);
                    if (p.batch.kind == Batch.Kind.LINES || p.batch.kind == Batch.Kind.TEXT_DOCS) {     // both come from the pool
                        buffers.give(p.batch.buf);
                        buffers.give(p.out.buf);
                    }
                }
                return tally.report(train.finish(), val.finish());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DataException("interrupted", null, e);
            } finally {
                readerThread.interrupt();
                pool.shutdownNow();
                progress.close();
            }
        }

        private static Parsed get(Future<Parsed> f) throws InterruptedException {
            try {
                return f.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof LlmkitException le) throw le;
                if (c instanceof RuntimeException re) throw re;
                if (c instanceof Error err) throw err;
                throw new IllegalStateException(c);
            }
        }

        private void consume(Parsed p) {
            Batch b = p.batch;
            if (b.source != current) beginSource(b.source);
            Tally.Src st = tally.src(b.source);
            if (b.kind == Batch.Kind.FILE_END) {
                endSource(b, st);
                tally.finished(st);
            } else {
                for (int i = 0; i < p.count; i++) record(p, i, st);
                st.add(p);
            }
            progress.update(rawBefore[sources.get(b.source).file()] + b.rawPos);
            progress.status(tally.status(b.kind == Batch.Kind.FILE_END ? null : st));
        }

        private void record(Parsed p, int i, Tally.Src st) {
            long line = st.line(p, i);
            st.documentsIn++;
            Reason r = p.reason[i];
            if (r != null) {
                if (cfg.strict()) throw strictError(sources.get(p.batch.source).name(), line, r, p.detail[i]);
                tally.bad(p.batch.source, line, r, p.detail[i]);
                return;
            }
            long hi = p.hashHi[i];
            long lo = p.hashLo[i];
            if (seen.contains(hi, lo) || !(rollbackable ? pending : seen).add(hi, lo)) {
                st.duplicates++;
                return;
            }
            (isVal(hi, cfg.valFraction()) ? val : train).write(p.out.buf, p.outStart(i), p.outEnd[i], p.textBytes[i]);
            st.documentsOut++;
            st.textBytesOut += p.textBytes[i];
        }

        private void beginSource(int source) {
            current = source;
            rollbackable = rollbackable(sources.get(source).compressed(), cfg);
            pending.clear();
            if (rollbackable) {
                trainMark = train.mark();
                valMark = val.mark();
            }
        }

        private void endSource(Batch b, Tally.Src st) {
            st.sha256 = b.sha256;
            if (b.error == null) {
                if (rollbackable) seen.addAll(pending);
                pending.clear();
                return;
            }
            String file = sources.get(b.source).name();
            if (b.unsupported) {                        // an archive member of another type: skipped and counted
                if (cfg.strict()) throw badFileError(file, b.error, true, true);
                st.skipWhole(b.error);
                return;
            }
            if (!rollbackable) throw badFileError(file, b.error, false, cfg.strict());
            train.rollback(trainMark);
            val.rollback(valMark);
            pending.clear();
            st.skipWhole(b.error);
        }
    }
}
