package dev.llmkit.eval.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.QuantTensor;
import dev.llmkit.core.model.Tensor;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.quant.GgmlType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The quantized kernels against their scalar references (decode = the type's reference dequantizer,
 * dot = that decode and a plain dot), for every block type and row lengths of one and several blocks;
 * the engine on quantized weights against the engine on the same weights decoded to F32.
 */
class QuantKernelsTest {
    private static final GgmlType[] QUANT = {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K};

    private static float[] gaussian(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale * (i % 37 == 0 ? 5 : 1));
        return a;
    }

    @Test
    void decodeAndDotMatchTheScalarReferenceForEveryType() {
        SplittableRandom r = new SplittableRandom(11);
        for (GgmlType t : QUANT) {
            for (int cols : new int[] {t.blockSize, 3 * t.blockSize, 768}) {
                int rows = 5;
                float[] w = gaussian(r, rows * cols, 0.05);
                java.util.Arrays.fill(w, 0, Math.min(cols, 64), 0f);      // an all-zero stretch (scale 0)
                byte[] q = new byte[(int) t.bytes(cols) * rows];
                t.quantize(w, 0, w.length, q, 0);
                float[] x = gaussian(r, cols + 3, 1.0);
                int rowBytes = (int) t.bytes(cols);
                for (int row = 0; row < rows; row++) {
                    float[] ref = new float[cols], fast = new float[cols + 2];
                    t.dequantize(q, row * rowBytes, cols, ref, 0);
                    QuantKernels.decode(t, q, row * rowBytes, fast, 2, cols);
                    for (int i = 0; i < cols; i++) assertEquals(ref[i], fast[2 + i], 1e-6f * (1 + Math.abs(ref[i])), t + " decode, cols " + cols + ", element " + i);
                    float a = QuantKernels.dotScalar(t, q, row * rowBytes, x, 3, cols), b = QuantKernels.dot(t, q, row * rowBytes, x, 3, cols);
                    double mag = 0;
                    for (int i = 0; i < cols; i++) mag += Math.abs(ref[i] * x[3 + i]);
                    assertEquals(a, b, 1e-5 * (1 + mag), t + " dot, cols " + cols + ", row " + row);
                }
            }
        }
    }

    @Test
    void matricesOfEveryTypeGiveTheSameProductsAsTheirF32Decoding() {
        SplittableRandom r = new SplittableRandom(12);
        try (Parallel par = new Parallel(2)) {
            for (GgmlType t : QUANT) {
                int rows = 40, cols = 512, nt = 19;
                float[] w = gaussian(r, rows * cols, 0.05);
                byte[] q = new byte[(int) t.bytes(cols) * rows];
                t.quantize(w, 0, w.length, q, 0);
                float[] dec = new float[rows * cols];
                t.dequantize(q, 0, dec.length, dec, 0);
                WeightMatrix qm = new QuantMatrix(t, q, rows, cols), fm = new F32Matrix(dec, rows, cols);
                WeightMatrix stacked = WeightMatrix.stack(qm, fm), stackedF32 = WeightMatrix.stack(fm, fm);
                float[] x = gaussian(r, nt * cols, 1.0);
                WeightMatrix.BatchScratch s = new WeightMatrix.BatchScratch(2, 128, cols);
                float[] a = new float[nt * 2 * rows], b = new float[nt * 2 * rows];
                stacked.matmul(par, x, cols, nt, a, 0, 2 * rows, s);
                stackedF32.matmul(par, x, cols, nt, b, 0, 2 * rows, s);
                for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-4 * (1 + Math.abs(b[i])), t + " matmul " + i);
                float[] v = new float[2 * rows], u = new float[2 * rows];
                stacked.matvec(x, cols, v, 0, 0, 2 * rows);
                stackedF32.matvec(x, cols, u, 0, 0, 2 * rows);
                for (int i = 0; i < v.length; i++) assertEquals(u[i], v[i], 1e-4 * (1 + Math.abs(u[i])), t + " matvec " + i);
                float[] row = new float[cols];
                stacked.row(rows + 3, row, 0);
                assertEquals(dec[3 * cols + 7], row[7]);
                // Q8_0's scales as floats, held beside the blocks for its Vector API kernel (not under the scalar switch)
                boolean kept = QuantKernels.blockScales(t, q, rows, cols) != null;
                if (!Kernels.SCALAR) assertEquals(t == GgmlType.Q8_0, kept, t + " keeps float scales");
                assertEquals(rows * t.bytes(cols) + (kept ? 4L * rows * (cols / 32) : 0) + 4L * rows * cols, stacked.bytes());
            }
        }
    }

    /** f32 with every matrix quantized to t (the norms stay F32). */
    static Weights quantized(Weights f32, GgmlType t) {
        Map<String, Tensor> norms = new LinkedHashMap<>();
        Map<String, QuantTensor> qs = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : TensorNames.shapes(f32.config()).entrySet()) {
            float[] v = f32.get(e.getKey());
            if (e.getValue().length == 1) {
                norms.put(e.getKey(), new Tensor(e.getKey(), e.getValue(), v));
                continue;
            }
            byte[] q = new byte[(int) t.bytes(v.length)];
            t.quantize(v, 0, v.length, q, 0);
            qs.put(e.getKey(), new QuantTensor(e.getKey(), e.getValue(), t, q));
        }
        return new Weights(f32.config(), norms, qs);
    }

    /** The engine on weights quantized to t (norms F32) and on the same weights decoded to F32. */
    @Test
    void theEngineOnQuantizedWeightsEqualsTheEngineOnTheirDecoding() {
        ModelConfig c = new ModelConfig(256, 512, 2, 4, 2, 300, 64, 1e-5f, 10000f, true);
        Weights f32 = Weights.init(c, 0.05f, 3);
        int[] prompt = new SplittableRandom(4).ints(40, 0, 300).toArray();
        for (GgmlType t : QUANT) {
            Weights quant = quantized(f32, t), plain = quant.dequantized();
            try (LlamaEngine eq = new LlamaEngine(quant, 2); LlamaEngine ef = new LlamaEngine(plain, 2)) {
                assertTrue(eq.weightBytes() < ef.weightBytes() / 3, t + ": " + eq.weightBytes() + " bytes");
                float[] a = eq.prefill(prompt, 0).clone(), b = ef.prefill(prompt, 0).clone();
                for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 2e-3 * (1 + Math.abs(b[i])), t + " prefill logit " + i);
                float[] fa = eq.forward(7, prompt.length, true).clone(), fb = ef.forward(7, prompt.length, true).clone();
                for (int i = 0; i < fa.length; i++) assertEquals(fb[i], fa[i], 2e-3 * (1 + Math.abs(fb[i])), t + " decode logit " + i);
            }
        }
    }
}
