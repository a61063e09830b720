package dev.llmkit.data.prepare;

/**
 * The worker's result for one batch: per record its outcome, hash, split and the bytes of its
 * output line in {@code out}. Records are in input order; blank lines are counted, not listed.
 */
final class Parsed {
    final Batch batch;
    int count;
    int lines;              // lines in the batch, blank ones included (for line numbers)
    int blankLines;
    int[] lineIndex;        // 0-based line within the batch
    Reason[] reason;        // null when the record is good
    String[] detail;        // for bad records: a short explanation
    long[] hashHi;
    long[] hashLo;
    int[] outEnd;           // record i's output line is out[outEnd[i-1], outEnd[i])
    int[] textBytes;
    final ByteSink out;

    Parsed(Batch batch, int capacity, int outCapacity, BufferPool pool) {
        this.batch = batch;
        lineIndex = new int[capacity];
        reason = new Reason[capacity];
        detail = new String[capacity];
        hashHi = new long[capacity];
        hashLo = new long[capacity];
        outEnd = new int[capacity];
        textBytes = new int[capacity];
        out = new ByteSink(pool == null ? new byte[Math.max(16, outCapacity)] : pool.take(outCapacity));
    }

    int outStart(int i) {
        return i == 0 ? 0 : outEnd[i - 1];
    }

    void grow() {
        int n = lineIndex.length * 2;
        lineIndex = java.util.Arrays.copyOf(lineIndex, n);
        reason = java.util.Arrays.copyOf(reason, n);
        detail = java.util.Arrays.copyOf(detail, n);
        hashHi = java.util.Arrays.copyOf(hashHi, n);
        hashLo = java.util.Arrays.copyOf(hashLo, n);
        outEnd = java.util.Arrays.copyOf(outEnd, n);
        textBytes = java.util.Arrays.copyOf(textBytes, n);
    }
}
