package dev.llmkit.finetune;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Rows of {@code t} input positions built from examples. With packing, several examples share a
 * row (first fit over the rows still open, in an order shuffled by the seed); without, each example
 * has a row of its own. An example of n tokens fills n positions: inputs tokens[0..n), targets
 * tokens[1..n) and a masked last position, positions 0..n-1 (so attention and rotary restart at each
 * example). What is left of a row is padding with weight 0.
 */
final class Packing {
    /** One row: the examples it holds, in order. */
    record Row(int[] examples, int used) {}

    private Packing() {}

    /** How many open rows first fit scans (older rows are closed): bounds the cost on large data. */
    private static final int OPEN = 64;

    static List<Row> rows(List<SftExamples.Example> ex, int t, boolean pack, long seed) {
        int[] order = shuffled(ex.size(), seed);
        List<Row> rows = new ArrayList<>();
        if (!pack) {
            for (int i : order) rows.add(new Row(new int[] {i}, Math.min(t, ex.get(i).tokens().length)));
            return rows;
        }
        List<List<Integer>> open = new ArrayList<>();
        List<Integer> used = new ArrayList<>();
        for (int i : order) {
            int n = Math.min(t, ex.get(i).tokens().length), k = 0;
            while (k < open.size() && used.get(k) + n > t) k++;
            if (k == open.size()) {
                if (open.size() == OPEN) {
                    rows.add(close(open.remove(0), used.remove(0)));
                    k--;
                }
                open.add(new ArrayList<>());
                used.add(0);
            }
            open.get(k).add(i);
            used.set(k, used.get(k) + n);
        }
        for (int k = 0; k < open.size(); k++) rows.add(close(open.get(k), used.get(k)));
        return rows;
    }

    private static Row close(List<Integer> members, int used) {
        int[] a = new int[members.size()];
        for (int i = 0; i < a.length; i++) a[i] = members.get(i);
        return new Row(a, used);
    }

    /** 0..n-1 in an order drawn from the seed (Fisher-Yates). */
    static int[] shuffled(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), x = p[i];
            p[i] = p[j];
            p[j] = x;
        }
        return p;
    }

    /** Writes row {@code row} into batch row {@code r} (t positions): tokens, targets, weights, positions. */
    static void fill(Row row, List<SftExamples.Example> ex, int pad, dev.llmkit.trainer.Batch into, int r) {
        int t = into.t, o = r * t, at = 0;
        for (int e : row.examples()) {
            SftExamples.Example x = ex.get(e);
            int n = Math.min(t - at, x.tokens().length);
            for (int i = 0; i < n; i++) {
                into.tokens[o + at + i] = x.tokens()[i];
                into.positions[o + at + i] = i;
                boolean last = i + 1 >= x.tokens().length;
                into.targets[o + at + i] = last ? pad : x.tokens()[i + 1];
                into.weights[o + at + i] = last ? 0f : x.weights()[i + 1];
            }
            at += n;
        }
        for (int i = at; i < t; i++) {
            into.tokens[o + i] = pad;
            into.targets[o + i] = pad;
            into.weights[o + i] = 0f;
            into.positions[o + i] = i - at;
        }
    }
}
