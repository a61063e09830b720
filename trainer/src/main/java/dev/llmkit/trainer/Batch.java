package dev.llmkit.trainer;

/**
 * One micro-batch of {@code b} rows of {@code t} tokens, in buffers allocated once for the largest
 * batch (training allocates nothing per step). Row r, column i is index {@code r * t + i}.
 * <ul>
 *   <li>{@code tokens}: the input tokens;</li>
 *   <li>{@code targets}: the token to predict at each position (the next one);</li>
 *   <li>{@code weights}: the loss weight of each position, 0 = masked (a prompt token, padding, the
 *       last token of a packed example); pre-training uses 1 everywhere;</li>
 *   <li>{@code positions}: each token's position within its example when {@code packed} (several
 *       examples in one row: positions restart at 0 at each example start and attention never
 *       crosses a boundary); ignored otherwise (0 .. t-1 in every row).</li>
 * </ul>
 */
public final class Batch {
    public final int[] tokens, targets, positions;
    public final float[] weights;
    public int b, t;
    public boolean packed;
    /** Seed of this micro-batch's dropout masks (set by the training loop from the run's seed, step and micro-step). */
    public long noise;

    public Batch(int maxB, int maxT) {
        int n = maxB * maxT;
        tokens = new int[n];
        targets = new int[n];
        positions = new int[n];
        weights = new float[n];
    }

    /** Sets the shape; the source then fills tokens, targets, weights (and positions when packed) for all b * t positions. */
    public void reset(int b, int t, boolean packed) {
        if ((long) b * t > tokens.length) throw new IllegalArgumentException("batch " + b + " x " + t + " exceeds its buffers of " + tokens.length);
        this.b = b;
        this.t = t;
        this.packed = packed;
    }

    /** Sum of the loss weights: the number of predicted tokens (weights are 0 or 1 in practice). */
    public double weightSum() {
        double s = 0;
        for (int i = 0; i < b * t; i++) s += weights[i];
        return s;
    }
}
