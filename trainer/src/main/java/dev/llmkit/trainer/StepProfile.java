package dev.llmkit.trainer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a training step's time goes ({@code llmkit pretrain bench --profile}): the wall time of each part of
 * the forward pass, the head, the backward pass and the optimizer, timed on the calling thread from one mark
 * to the next and summed over the steps, with the FLOP rate of each matrix product (a product's LoRA adapters,
 * when it has them, are timed with it but their FLOPs not counted); and attention's inner
 * parts (rotary and packing, the products, softmax), timed on each worker thread. A model without a profile
 * ({@link TrainModel#profile} never called) does not read the clock.
 */
public final class StepProfile {
    /** Attention's inner parts, in the order {@link #attention} indexes them. */
    static final String[] ATTENTION = {"rotary and packing", "scores Q K^T", "softmax", "P V", "dP = dY V^T", "softmax backward",
        "dQ = dS K", "dK = dS^T Q and dV = P^T dY"};
    static final int ROTARY = 0, SCORES = 1, SOFTMAX = 2, PV = 3, DP = 4, SOFTMAX_BACK = 5, DQ = 6, DKV = 7;

    /** A part's time per step and, for a product, its GFLOP/s (NaN for other parts). */
    public record Part(String name, double msPerStep, double gflops) {}

    private final Map<String, double[]> parts = new LinkedHashMap<>();     // name -> {nanoseconds, FLOPs}
    private final long[][] attention;                                    // [thread][ATTENTION part] nanoseconds
    private long last = System.nanoTime();
    private int steps;

    /** For a model whose {@link dev.llmkit.core.kernels.Parallel} has {@code threads} workers (at least 1). */
    public StepProfile(int threads) {
        attention = new long[Math.max(1, threads)][ATTENTION.length];
    }

    /** Charges the time since the last mark to {@code part}. */
    void mark(String part) {
        mark(part, 0);
    }

    /** Charges the time since the last mark to {@code part}, a product of {@code flops} floating-point operations. */
    void mark(String part, double flops) {
        long now = System.nanoTime();
        double[] p = parts.computeIfAbsent(part, k -> new double[2]);
        p[0] += now - last;
        p[1] += flops;
        last = System.nanoTime();     // the map's work is not charged to the next part
    }

    /** Adds the time since t0 to attention's part {@code part} on worker {@code thread}; returns the time now. */
    long attention(int thread, int part, long t0) {
        long now = System.nanoTime();
        attention[thread][part] += now - t0;
        return now;
    }

    /** One step done (the caller marks its own parts around the model's). */
    public void stepDone() {
        steps++;
    }

    /** Forgets everything so far (warm-up steps): the next mark counts from now. */
    public void reset() {
        parts.clear();
        for (long[] a : attention) java.util.Arrays.fill(a, 0);
        steps = 0;
        last = System.nanoTime();
    }

    public int steps() {
        return steps;
    }

    /** The parts in the order they first ran. */
    public List<Part> parts() {
        List<Part> out = new ArrayList<>();
        int n = Math.max(1, steps);
        for (Map.Entry<String, double[]> e : parts.entrySet()) {
            double[] p = e.getValue();
            out.add(new Part(e.getKey(), p[0] / 1e6 / n, p[1] > 0 && p[0] > 0 ? p[1] / p[0] : Double.NaN));
        }
        return out;
    }

    /** Attention's inner parts: milliseconds per step on each worker thread ({@link #ATTENTION} order). */
    public double[][] attentionMs() {
        double[][] out = new double[attention.length][ATTENTION.length];
        for (int t = 0; t < attention.length; t++) {
            for (int i = 0; i < ATTENTION.length; i++) out[t][i] = attention[t][i] / 1e6 / Math.max(1, steps);
        }
        return out;
    }

    public static List<String> attentionParts() {
        return List.of(ATTENTION);
    }
}
