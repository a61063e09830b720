package dev.llmkit.finetune;

import dev.llmkit.trainer.Batch;
import dev.llmkit.trainer.BatchSource;
import java.util.List;

/**
 * Fine-tuning batches: epochs over the packed training rows, each epoch in its own order drawn from
 * (seed, epoch), so the batch of (step, micro) is a pure function of them (exact resume); fixed
 * validation rows in order.
 */
final class SftBatches implements BatchSource {
    private final List<SftExamples.Example> train, val;
    private final List<Packing.Row> trainRows, valRows;
    private final int b, t, accum, pad, valBatches;
    private final long seed, trainTokens;
    private long cachedEpoch = -1;
    private int[] order;

    SftBatches(SftExamples.Split split, int b, int t, int accum, boolean pack, long seed, int evalBatches, int pad) {
        this.train = split.train();
        this.val = split.val();
        this.b = b;
        this.t = t;
        this.accum = accum;
        this.seed = seed;
        this.pad = pad;
        this.trainRows = Packing.rows(train, t, pack, seed);
        this.valRows = Packing.rows(val, t, pack, seed);
        this.valBatches = Math.min(evalBatches, (valRows.size() + b - 1) / b);
        long n = 0;
        for (Packing.Row r : trainRows) n += r.used();
        trainTokens = n;
    }

    int trainRows() {
        return trainRows.size();
    }

    /** Share of training row positions that hold example tokens (the rest is padding). */
    double fill() {
        return (double) trainTokens / ((long) trainRows.size() * t);
    }

    /** Optimizer steps of {@code epochs} passes over the training rows. */
    long stepsFor(double epochs) {
        return Math.max(1, (long) Math.ceil(epochs * trainRows.size() / ((double) b * accum)));
    }

    @Override
    public void train(long step, int micro, Batch into) {
        into.reset(b, t, true);
        for (int r = 0; r < b; r++) {
            long g = (step * accum + micro) * b + r;
            long epoch = g / trainRows.size();
            if (epoch != cachedEpoch) {
                order = Packing.shuffled(trainRows.size(), seed * 0x9E3779B97F4A7C15L + epoch);
                cachedEpoch = epoch;
            }
            Packing.fill(trainRows.get(order[(int) (g % trainRows.size())]), train, pad, into, r);
        }
    }

    @Override
    public int validationBatches() {
        return valBatches;
    }

    @Override
    public void validation(int i, Batch into) {
        int n = Math.min(b, valRows.size() - i * b);
        into.reset(n, t, true);
        for (int r = 0; r < n; r++) Packing.fill(valRows.get(i * b + r), val, pad, into, r);
    }

    @Override
    public long trainTokens() {
        return trainTokens;
    }
}
