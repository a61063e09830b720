package dev.llmkit.data.prepare;

import dev.llmkit.core.DataException;
import dev.llmkit.core.LlmkitException;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.config.PrepareConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code data prepare} cut at file boundaries, for engines that read the input files on many machines
 * (the Spark engine). Each file is read by {@link FileRecords}; its {@link FileRecords#tally() tally}
 * comes back to one place, where {@link Merge} applies the run-wide rules in input order exactly as the
 * single-machine path ({@link Corpus}) does: --strict, a corrupt file's error or its rollback
 * (skip_bad_files), the examples of bad records, and the report. Deduplication keeps a record when no
 * earlier record (in file, member, record order) of a file that was not skipped has its key.
 */
public final class FileStage {
    private FileStage() {}

    /**
     * One input file's counts (serializable, for the trip from a worker to the driver), and the error that
     * stopped its reading, if one did (a disk error): it is raised when the merge reaches the file, so that
     * an earlier file's error comes first, as on one machine.
     */
    public static final class FileTally implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final Tally tally;
        final String sha256;
        final LlmkitException error;

        public FileTally(FileRecords records, LlmkitException error) {
            this.tally = records.tally();
            this.sha256 = records.fileSha256();
            this.error = error;
        }
    }

    /** The run-wide half, on one machine: fed the files' tallies in input order. */
    public static final class Merge {
        private final PrepareConfig cfg;
        private final Tally tally;
        private final List<String> fileSha = new ArrayList<>();
        private final long[] fileBytes;
        private final Map<Long, Tally.Src> byKey = new HashMap<>();
        private final List<long[]> skipped = new ArrayList<>();

        /**
         * Applies --strict and the bad-file rules in input order.
         *
         * @throws DataException the error the single-machine path would stop at, if any
         */
        public Merge(PrepareConfig cfg, List<FileTally> files) {
            this.cfg = cfg;
            this.tally = new Tally(null, cfg.maxBadExamples());
            this.fileBytes = new long[files.size()];
            for (int f = 0; f < files.size(); f++) {
                FileTally ft = files.get(f);
                fileSha.add(ft.sha256);
                List<Tally.Src> srcs = ft.tally.sources();
                for (int m = 0; m < srcs.size(); m++) {
                    Tally.Src st = srcs.get(m);
                    fileBytes[f] += st.bytesIn;
                    check(st);
                    byKey.put(key(f, m), st);
                    if (!st.status.equals("ok")) skipped.add(new long[] {f, m});
                }
                if (ft.error != null) throw ft.error;
                tally.merge(ft.tally);
            }
        }

        private void check(Tally.Src st) {
            String file = st.input.name();
            if (cfg.strict() && st.firstBad != null) throw Corpus.strictError(file, st.firstBad.line(), st.firstBad.reason(), st.firstBad.detail());
            if (st.error == null) return;
            if (st.unsupported ? cfg.strict() : !Corpus.rollbackable(st.input.compressed(), cfg)) {
                throw Corpus.badFileError(file, st.error, st.unsupported, cfg.strict());
            }
            long bad = 0;
            for (long k : st.skipped) bad += k;
            st.droppedWithFile = st.documentsIn - bad;
        }

        private static long key(int file, int member) {
            return ((long) file << 32) | member;
        }

        /** Uncompressed input bytes of all files. */
        public long bytesIn() {
            return java.util.Arrays.stream(fileBytes).sum();
        }

        /** Uncompressed input bytes per file. */
        public long[] bytesInPerFile() {
            return fileBytes.clone();
        }

        /** Records read (good and bad) from all files. */
        public long documentsIn() {
            long n = 0;
            for (Tally.Src st : tally.sources()) n += st.documentsIn;
            return n;
        }

        /** The sources skipped whole, as {file, member}: their records take no part in deduplication. */
        public List<long[]> skippedSources() {
            return skipped;
        }

        /** Records how many documents (and text bytes) of a source were kept after deduplication. */
        public void kept(int file, int member, long documents, long textBytes) {
            Tally.Src st = byKey.get(key(file, member));
            st.documentsOut += documents;
            st.textBytesOut += textBytes;
        }

        /** The report: every good record of a source that was not kept is a duplicate. */
        public CorpusReport report(List<ShardWriter.Shard> train, List<ShardWriter.Shard> val) {
            for (Tally.Src st : tally.sources()) {
                if (!st.status.equals("ok")) continue;
                long bad = 0;
                for (long k : st.skipped) bad += k;
                st.duplicates = st.documentsIn - bad - st.documentsOut;
            }
            return tally.report(train, val);
        }

        /** provenance.json: the input files (name, size, sha256 on disk) and the configuration. */
        public Provenance provenance(List<? extends InputSource> inputs) {
            return Corpus.provenance(cfg, inputs, fileSha::get);
        }

        /** The error of a run that kept nothing ({@code report} has no document out), naming what dropped the most. */
        public DataException nothingKept(int inputs, CorpusReport report, String out) {
            return Corpus.nothingKept(cfg, inputs, report, out);
        }
    }
}
