package dev.llmkit.trainer;

import dev.llmkit.core.kernels.Parallel;

/**
 * AdamW over the flat parameter array (weight decay on 2-D tensors only) and the global gradient
 * norm, summed over fixed blocks so that it does not depend on the thread count.
 */
final class Optimizer {
    private Optimizer() {}

    private static final int BLOCK = 1 << 16;

    static double norm(float[] g, Parallel par) {
        return norm(g, 0, g.length, par);
    }

    /** The L2 norm of g[from, to). */
    static double norm(float[] g, int from, int to, Parallel par) {
        int blocks = (to - from + BLOCK - 1) / BLOCK;
        double[] part = new double[blocks];
        par.range(blocks, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                double s = 0;
                for (int i = from + b * BLOCK, e = Math.min(to, from + (b + 1) * BLOCK); i < e; i++) s += (double) g[i] * g[i];
                part[b] = s;
            }
        });
        double s = 0;
        for (double x : part) s += x;
        return Math.sqrt(s);
    }

    /**
     * One AdamW update of the trainable tensors (the s.adamSteps + 1-th, for the bias corrections) with the
     * gradient scaled by clip; g, s.m and s.v hold the trainable range [layout.trainFrom, layout.size) only.
     */
    static void adamw(ParamLayout layout, RunState s, float[] g, float clip, float lr, LoopConfig c, Parallel par) {
        long t = ++s.adamSteps;
        float c1 = (float) (1 - Math.pow(c.beta1(), t)), c2 = (float) (1 - Math.pow(c.beta2(), t));
        int shift = layout.trainFrom;
        for (String name : layout.trainable()) {
            int off = layout.offset(name), len = layout.length(name);
            float wd = layout.decays(name) ? (float) c.weightDecay() : 0f;
            par.range((len + BLOCK - 1) / BLOCK, (b0, b1) -> TrainKernels.adamw(s.params, g, clip, s.m, s.v, shift, off + b0 * BLOCK,
                    off + Math.min(len, b1 * BLOCK), lr, wd, (float) c.beta1(), (float) c.beta2(), (float) c.eps(), c1, c2));
        }
    }
}
