package dev.llmkit.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every parameter's gradient from the hand-written backward pass against central finite differences
 * of an independent double-precision forward pass ({@link ReferenceModel}).
 */
class GradientCheckTest {
    @Test
    void tiedGroupedQueryAttention() {
        check(new ModelConfig(8, 12, 2, 2, 1, 23, 8, 1e-5f, 10000f, true), 2, 5, 1, 1);
    }

    @Test
    void untiedMultiHeadTwoThreads() {
        check(new ModelConfig(12, 20, 2, 3, 3, 17, 8, 1e-5f, 500f, false), 3, 7, 2, 1);
    }

    @Test
    void rowsAndColumnsPastTheKernelTiles() {
        // BLOCK + 8 positions cross the attention's query block (32 queries with 8-row kernels, 48 with 6- and 12-row ones, 80 with
        // 5-row ones); 36 columns the 32- or 16-wide panels (every 5th parameter)
        check(new ModelConfig(36, 40, 1, 2, 2, 37, 96, 1e-5f, 10000f, true), 1, Attention.BLOCK + 8, 2, 5);
    }

    @Test
    void groupedQueryAttentionPastTheQueryBlock() {
        // two query heads per kv head over BLOCK + 8 positions: the key blocks past the first (packed K, Q, dy panels)
        check(new ModelConfig(32, 40, 1, 4, 2, 37, 96, 1e-5f, 10000f, false), 2, Attention.BLOCK + 8, 2, 5);
    }

    @Test
    void maskedLossOverPackedExamples() {
        // two rows of 12: examples of 5, 4 and 3 tokens, then 7 and 5; about a third of the targets masked
        ModelConfig c = new ModelConfig(8, 12, 2, 2, 1, 23, 16, 1e-5f, 10000f, false);
        int b = 2, t = 12;
        int[] lengths = {5, 4, 3, 7, 5};
        Batch batch = new Batch(b, t);
        batch.reset(b, t, true);
        SplittableRandom r = new SplittableRandom(3);
        for (int k = 0, at = 0; k < lengths.length; k++) {
            for (int i = 0; i < lengths[k]; i++, at++) batch.positions[at] = i;
        }
        for (int i = 0; i < b * t; i++) {
            batch.tokens[i] = r.nextInt(c.vocabSize());
            batch.targets[i] = r.nextInt(c.vocabSize());
            batch.weights[i] = r.nextInt(3) == 0 ? 0f : 1f;
        }
        ParamLayout layout = new ParamLayout(c);
        float[] p = layout.flatten(Weights.init(c, 0.4f, 5));
        float[] grad = new float[layout.size];
        double loss;
        try (Parallel par = new Parallel(2); TrainModel m = new TrainModel(c, b, t, par, new JavaMatMul(par))) {
            loss = m.step(p, batch, grad, 1f);
        }
        ReferenceModel ref = new ReferenceModel(c);
        double[] pd = new double[p.length];
        for (int i = 0; i < p.length; i++) pd[i] = p[i];
        Loss f = q -> ref.weightedLoss(q, batch.tokens, batch.targets, batch.weights, batch.positions, b, t);
        assertEquals(f.of(pd), loss, 1e-4 * Math.abs(loss), "forward loss");
        compare(layout, pd, grad, f, 1, layout.trainable());
    }

    @Test
    void loraAdaptersOnEveryProjectionWithTheBaseFrozen() {
        ModelConfig c = new ModelConfig(8, 12, 2, 2, 1, 23, 16, 1e-5f, 10000f, false);
        dev.llmkit.core.config.LoraConfig lc = new dev.llmkit.core.config.LoraConfig(true, 3, 6, 0, dev.llmkit.core.config.LoraConfig.TARGETS, false);
        ParamLayout layout = new ParamLayout(c, lc);
        int b = 2, t = 7;
        Batch batch = new Batch(b, t);
        batch.reset(b, t, false);
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < b * t; i++) {
            batch.tokens[i] = r.nextInt(c.vocabSize());
            batch.targets[i] = r.nextInt(c.vocabSize());
            batch.weights[i] = r.nextInt(4) == 0 ? 0f : 1f;
            batch.positions[i] = i % t;
        }
        float[] p = layout.flatten(Weights.init(c, 0.4f, 5));
        for (int i = layout.baseSize; i < layout.size; i++) p[i] = (float) (r.nextGaussian() * 0.3);     // B != 0, so A has a gradient
        float[] trainable = new float[layout.size - layout.trainFrom];     // the adapters' range only: the base has no gradient
        double loss;
        try (Parallel par = new Parallel(2); TrainModel m = new TrainModel(layout, b, t, par, new JavaMatMul(par))) {
            loss = m.step(p, batch, trainable, 1f);
        }
        float[] grad = new float[layout.size];
        System.arraycopy(trainable, 0, grad, layout.trainFrom, trainable.length);
        ReferenceModel ref = new ReferenceModel(c);
        ParamLayout base = new ParamLayout(c);
        Loss f = q -> ref.weightedLoss(merged(layout, base, q), batch.tokens, batch.targets, batch.weights, batch.positions, b, t);
        double[] pd = new double[p.length];
        for (int i = 0; i < p.length; i++) pd[i] = p[i];
        assertEquals(f.of(pd), loss, 1e-4 * Math.abs(loss), "forward loss");
        compare(layout, pd, grad, f, 1, layout.trainable());
    }

    /** The base parameters with W + (alpha / r) B A folded in, in double precision. */
    private static double[] merged(ParamLayout layout, ParamLayout base, double[] q) {
        double[] w = java.util.Arrays.copyOf(q, base.size);
        ModelConfig c = layout.c;
        int r = layout.lora.rank();
        double s = layout.lora.scale();
        for (int l = 0; l < c.nLayers(); l++) {
            for (ParamLayout.Target t : ParamLayout.Target.values()) {
                int a = layout.loraA[l][t.ordinal()], bo = layout.loraB[l][t.ordinal()], in = t.in(c), out = t.out(c);
                int wo = base.offset(dev.llmkit.core.model.TensorNames.blk(l, t.tensor));
                for (int o = 0; o < out; o++) {
                    for (int k = 0; k < r; k++) for (int i = 0; i < in; i++) w[wo + o * in + i] += s * q[bo + o * r + k] * q[a + k * in + i];
                }
            }
        }
        return w;
    }

    private interface Loss {
        double of(double[] p);
    }

    private static void check(ModelConfig c, int b, int t, int threads, int stride) {
        SplittableRandom r = new SplittableRandom(11);
        ParamLayout layout = new ParamLayout(c);
        float[] p = layout.flatten(Weights.init(c, 0.4f, 5));
        for (int i = 0; i < p.length; i++) if (p[i] == 1f) p[i] = (float) (0.5 + r.nextDouble());     // norms away from 1
        int[] in = new int[b * t], out = new int[b * t];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextInt(c.vocabSize());
            out[i] = r.nextInt(c.vocabSize());
        }
        float[] grad = new float[layout.size];
        double loss;
        try (Parallel par = new Parallel(threads); TrainModel m = new TrainModel(c, b, t, par, new JavaMatMul(par))) {
            loss = m.step(p, in, out, b, t, grad, 1f);
        }
        ReferenceModel ref = new ReferenceModel(c);
        double[] pd = new double[p.length];
        for (int i = 0; i < p.length; i++) pd[i] = p[i];
        assertEquals(ref.loss(pd, in, out, b, t), loss, 2e-5, "forward loss");
        compare(layout, pd, grad, q -> ref.loss(q, in, out, b, t), stride, layout.trainable());
    }

    /** Every stride-th parameter's analytic gradient against central differences of f. */
    private static void compare(ParamLayout layout, double[] pd, float[] grad, Loss f, int stride, java.util.List<String> names) {
        double h = 1e-5, worst = 0;
        String where = "";
        for (String name : names) {
            int o = layout.offset(name);
            for (int i = o; i < o + layout.length(name); i += stride) {
                double keep = pd[i];
                pd[i] = keep + h;
                double lp = f.of(pd);
                pd[i] = keep - h;
                double lm = f.of(pd);
                pd[i] = keep;
                double fd = (lp - lm) / (2 * h), err = Math.abs(fd - grad[i]) / (1e-4 + Math.abs(fd));
                if (err > worst) {
                    worst = err;
                    where = name + "[" + (i - o) + "] analytic " + grad[i] + " numeric " + fd;
                }
            }
        }
        assertTrue(worst < 1e-2, "worst relative gradient error " + worst + " at " + where);
    }
}
