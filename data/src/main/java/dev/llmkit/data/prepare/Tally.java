package dev.llmkit.data.prepare;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The counts of one prepare run, per source; turned into {@link CorpusReport} at the end. The Spark
 * engine keeps one per input file on its executors and merges them in file order ({@link #merge}).
 */
final class Tally implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    /** A bad record of a source: its line, why, and what was wrong. */
    record Bad(long line, Reason reason, String detail) implements java.io.Serializable {}

    /** Mutable counts of one input file. */
    static final class Src implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final Sources.Source input;
        String sha256;
        String status = "ok";
        String error;
        long lines;
        long documentsIn;
        long bytesIn;
        long documentsOut;
        long textBytesOut;
        long duplicates;
        long blankLines;
        long droppedWithFile;
        boolean unsupported;                  // an archive member of a type llmkit does not read
        Bad firstBad;                         // the source's first bad record (what --strict reports)
        final long[] skipped = new long[Reason.values().length];

        Src(Sources.Source input) {
            this.input = input;
        }

        /** The 1-based line where record {@code i} of batch {@code p} of this source starts. */
        long line(Parsed p, int i) {
            return lines + p.lineIndex[i] + 1;
        }

        /** Counts batch {@code p}'s lines and bytes, after its records. */
        void add(Parsed p) {
            lines += p.lines;
            blankLines += p.blankLines;
            bytesIn += p.batch.bytesIn;
        }

        /** The file is skipped whole: what it had contributed is dropped. */
        void skipWhole(String why) {
            status = "skipped";
            error = why;
            droppedWithFile += documentsOut + duplicates;
            documentsOut = 0;
            textBytesOut = 0;
            duplicates = 0;
        }
    }

    private final List<Src> sources = new ArrayList<>();
    private final List<CorpusReport.BadRecord> examples = new ArrayList<>();
    private final int[] examplesPerReason = new int[Reason.values().length];
    private final int maxExamples;
    private boolean truncated;

    private final transient Sources registry;

    /** Counts per source of {@code registry}, which grows as the reader meets archive members. */
    Tally(Sources registry, int maxExamples) {
        this.registry = registry;
        this.maxExamples = maxExamples;
    }

    Src src(int i) {
        while (sources.size() <= i) sources.add(new Src(registry.get(sources.size())));
        return sources.get(i);
    }

    /** The sources counted so far, in reading order. */
    List<Src> sources() {
        return sources;
    }

    /**
     * Appends the sources of {@code other} (a later input file's tally), and its examples of bad records
     * while fewer than max_bad_examples per reason are kept: the same examples as one tally of the whole run.
     */
    void merge(Tally other) {
        sources.addAll(other.sources);
        for (CorpusReport.BadRecord ex : other.examples) {
            int r = Reason.of(ex.reason()).ordinal();
            if (examplesPerReason[r] < maxExamples) {
                examplesPerReason[r]++;
                examples.add(ex);
            } else {
                truncated = true;
            }
        }
        truncated |= other.truncated;
    }

    void bad(int source, long line, Reason r, String detail) {
        Src s = src(source);
        s.skipped[r.ordinal()]++;
        if (s.firstBad == null) s.firstBad = new Bad(line, r, detail);
        if (examplesPerReason[r.ordinal()] < maxExamples) {
            examplesPerReason[r.ordinal()]++;
            examples.add(new CorpusReport.BadRecord(s.input.name(), line, r.key(), detail));
        } else {
            truncated = true;
        }
    }

    /** Counts of the sources already finished, so the status line costs O(1) per batch. */
    private long doneOut;
    private long doneDup;
    private long doneBad;

    /** Adds a finished source (after any rollback) to the running totals. */
    void finished(Src s) {
        doneOut += s.documentsOut;
        doneDup += s.duplicates;
        for (long k : s.skipped) doneBad += k;
    }

    /** "docs N dup M bad K" over the finished sources plus {@code current} (may be null). */
    String status(Src current) {
        long out = doneOut;
        long dup = doneDup;
        long bad = doneBad;
        if (current != null) {
            out += current.documentsOut;
            dup += current.duplicates;
            for (long k : current.skipped) bad += k;
        }
        return "docs " + out + " dup " + dup + " bad " + bad;
    }

    CorpusReport report(List<ShardWriter.Shard> train, List<ShardWriter.Shard> val) {
        if (registry != null && registry.size() > 0) src(registry.size() - 1);       // every registered source is in the report
        List<CorpusReport.Source> out = new ArrayList<>();
        long[] skipped = new long[Reason.values().length];
        long docsIn = 0, bytesIn = 0, docsOut = 0, textOut = 0, dups = 0, blank = 0, dropped = 0;
        int filesSkipped = 0;
        for (Src s : sources) {
            out.add(new CorpusReport.Source(s.input.name(), s.input.formatName(), s.sha256,
                    s.status, s.error, s.documentsIn, s.bytesIn, s.documentsOut, s.textBytesOut, s.duplicates,
                    s.blankLines, s.droppedWithFile, reasons(s.skipped)));
            for (int r = 0; r < skipped.length; r++) skipped[r] += s.skipped[r];
            docsIn += s.documentsIn;
            bytesIn += s.bytesIn;
            docsOut += s.documentsOut;
            textOut += s.textBytesOut;
            dups += s.duplicates;
            blank += s.blankLines;
            dropped += s.droppedWithFile;
            if (!s.status.equals("ok")) filesSkipped++;
        }
        List<ShardWriter.Shard> shards = new ArrayList<>(train);
        shards.addAll(val);
        CorpusReport.Totals totals = new CorpusReport.Totals(sources.size(), filesSkipped, docsIn, bytesIn, docsOut, textOut,
                dups, blank, dropped, reasons(skipped), split(train), split(val));
        return new CorpusReport(CorpusReport.FORMAT, 1, totals, out, shards, examples, truncated);
    }

    private static CorpusReport.Split split(List<ShardWriter.Shard> shards) {
        long docs = 0, text = 0;
        for (ShardWriter.Shard s : shards) {
            docs += s.documents();
            text += s.textBytes();
        }
        return new CorpusReport.Split(docs, text, shards.size());
    }

    private static Map<String, Long> reasons(long[] counts) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Reason r : Reason.values()) m.put(r.key(), counts[r.ordinal()]);
        return m;
    }
}
