package dev.llmkit.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.eval.engine.LlamaEngine;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The trainer against the inference engine, the ND4J backend against the Java one, 1 thread against 2. */
class CrossImplementationTest {
    private static final ModelConfig C = new ModelConfig(64, 176, 2, 4, 2, 300, 96, 1e-5f, 10000f, true);

    private static int[] tokens(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }

    @Test
    void trainerLogitsEqualTheInferenceEngine() {
        Weights w = Weights.init(C, 0.1f, 3);
        ParamLayout layout = new ParamLayout(C);
        float[] p = layout.flatten(w);
        int b = 2, t = 70;
        int[] in = tokens(b * t, C.vocabSize(), 4);
        float[] logits = new float[b * t * C.vocabSize()];
        try (Parallel par = new Parallel(2); TrainModel m = new TrainModel(C, b, t, par, new JavaMatMul(par))) {
            m.logits(p, in, b, t, logits);
        }
        double worst = 0;
        for (int s = 0; s < b; s++) {
            try (LlamaEngine e = new LlamaEngine(w, 1, t)) {
                for (int i = 0; i < t; i++) {
                    float[] ref = e.forward(in[s * t + i], i, true);
                    for (int v = 0; v < C.vocabSize(); v++) worst = Math.max(worst, Math.abs(ref[v] - logits[((s * t) + i) * C.vocabSize() + v]));
                }
            }
        }
        assertTrue(worst <= 1e-4, "max |trainer - engine| logit difference " + worst);
    }

    private static float[] gradients(MatMul mm, Parallel par, float[] p, int[] in, int[] out, int b, int t, double[] loss) {
        float[] g = new float[new ParamLayout(C).size];
        try (TrainModel m = new TrainModel(C, b, t, par, mm)) {
            loss[0] = m.step(p, in, out, b, t, g, 1f);
        }
        return g;
    }

    @Test
    void nd4jBackendAgreesWithJava() {
        float[] p = new ParamLayout(C).flatten(Weights.init(C, 0.1f, 8));
        int b = 3, t = 40;
        int[] in = tokens(b * t, C.vocabSize(), 5), out = tokens(b * t, C.vocabSize(), 6);
        double[] l1 = new double[1], l2 = new double[1];
        float[] gj, gn;
        try (Parallel par = new Parallel(2)) {
            gj = gradients(new JavaMatMul(par), par, p, in, out, b, t, l1);
            gn = gradients(MatMul.create("nd4j", par), par, p, in, out, b, t, l2);
            assertEquals(2, org.nd4j.linalg.factory.Nd4j.factory().blas().getMaxThreads(), "BLAS threads follow the trainer's");
        }
        try (Parallel one = new Parallel(1); MatMul m = MatMul.create("nd4j", one)) {
            assertEquals(1, org.nd4j.linalg.factory.Nd4j.factory().blas().getMaxThreads(), "BLAS threads follow the trainer's");
        }
        assertEquals(l1[0], l2[0], 1e-5);
        double maxG = 0, maxD = 0;
        for (int i = 0; i < gj.length; i++) {
            maxG = Math.max(maxG, Math.abs(gj[i]));
            maxD = Math.max(maxD, Math.abs(gj[i] - gn[i]));
        }
        assertTrue(maxD <= 1e-4 * maxG, "max gradient difference " + maxD + " vs max gradient " + maxG);
    }

    @Test
    void weightGradientsSplitOverTheDepthEqualTheDefinitionOnAnyThreadCount() {
        // a weight gradient dW += dY^T X over a whole batch: depth past SPLIT_DEPTH, C small, so aTb splits the depth
        int m = 76, n = 40, k = JavaMatMul.SPLIT_DEPTH + 53;
        SplittableRandom r = new SplittableRandom(11);
        float[] dy = new float[3 + k * m], x = new float[5 + k * n], start = new float[7 + m * n];
        for (int i = 0; i < dy.length; i++) dy[i] = (float) r.nextGaussian();
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < start.length; i++) start[i] = (float) r.nextGaussian();
        float[] first = null;
        for (int threads = 1; threads <= 4; threads++) {
            float[] dw = start.clone();
            try (Parallel par = new Parallel(threads)) {
                new JavaMatMul(par).aTb(dy, 3, x, 5, dw, 7, m, n, k, true);
            }
            if (first == null) {
                first = dw;
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = start[7 + i * n + j], size = Math.abs(sum);
                        for (int p = 0; p < k; p++) {
                            sum += (double) dy[3 + p * m + i] * x[5 + p * n + j];
                            size += Math.abs((double) dy[3 + p * m + i] * x[5 + p * n + j]);
                        }
                        assertEquals(sum, dw[7 + i * n + j], 1e-5 * size, "dW[" + i + ", " + j + "]");
                    }
                }
                for (int i = 0; i < 7; i++) assertEquals(start[i], dw[i], 0f, "before C");
            } else {
                assertArrayEquals(first, dw, threads + " threads");
            }
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        float[] p = new ParamLayout(C).flatten(Weights.init(C, 0.1f, 9));
        int b = 2, t = 96;
        int[] in = tokens(b * t, C.vocabSize(), 7), out = tokens(b * t, C.vocabSize(), 8);
        double[] l1 = new double[1], l2 = new double[1];
        float[] g1, g2;
        try (Parallel one = new Parallel(1); Parallel two = new Parallel(2)) {
            g1 = gradients(new JavaMatMul(one), one, p, in, out, b, t, l1);
            g2 = gradients(new JavaMatMul(two), two, p, in, out, b, t, l2);
        }
        assertEquals(l1[0], l2[0], 0.0);
        assertArrayEquals(g1, g2);
    }
}
