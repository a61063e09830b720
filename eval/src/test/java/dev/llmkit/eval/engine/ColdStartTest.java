package dev.llmkit.eval.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.quant.GgmlType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The cold start's scalar kernels against the Vector API kernels: the F32 products bit for bit (batched
 * products, the matvec's whole panels over row ranges that cut panels, attention's two strided
 * products, the batched products of quantized types; the matvec's edge rows, dot products, within
 * rounding), the warm matvec before its matrix is packed within rounding, a cold prompt and scoring on the decode
 * kernels with the bits of forward token by token, a whole
 * engine's prefill, decode and scoring within rounding, and the switch after the budget.
 */
class ColdStartTest {
    @BeforeEach
    void notUnderTheScalarSwitch() {
        assumeFalse(Kernels.SCALAR, "the scalar switch replaces both kinds of kernel with the plain reference");
    }

    @AfterEach
    void warm() {
        ColdStart.resetAhead();
        ColdStart.force(false);
    }

    /** The batched products' kernels: 0 the Vector API's, 1 the cold C1 loops, 2 the cold auto-vectorised loops ({@link AutoKernels}). */
    private static void batchKernels(int mode) {
        ColdStart.resetAhead();
        ColdStart.force(mode > 0);
        if (mode == 2) ColdStart.compiled(CompileAhead.Kind.COLD_BATCH);
        assertEquals(mode > 0, ColdStart.coldBatch());
        assertEquals(mode == 2, ColdStart.autoBatch());
    }

    private static float[] gaussian(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    private static void assertBits(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]), what + " [" + i + "]: " + expected[i] + " vs " + actual[i]);
        }
    }

    @Test
    void productsGiveTheBitsOfTheVectorKernels() {
        SplittableRandom r = new SplittableRandom(11);
        for (int[] shape : new int[][] {{288, 288}, {4 * Sgemm.NR + 7, 200}, {9, 48}, {300, 331}}) {
            int rows = shape[0], cols = shape[1];
            F32Matrix m = new F32Matrix(gaussian(r, rows * cols), rows, cols);
            for (int nt : new int[] {1, 2, 7, 128}) {
                float[] x = gaussian(r, nt * (cols + 3));
                float[][] out = new float[3][];
                for (int mode = 0; mode < 3; mode++) {
                    batchKernels(mode);
                    out[mode] = new float[nt * (rows + 5)];
                    try (Parallel par = new Parallel(2)) {
                        m.matmul(par, x, cols + 3, nt, out[mode], 2, rows + 5, new WeightMatrix.BatchScratch(2, LlamaEngine.BLOCK, cols));
                    }
                }
                assertBits(out[0], out[1], rows + "x" + cols + " times " + nt + " rows");
                assertBits(out[0], out[2], rows + "x" + cols + " times " + nt + " rows, auto-vectorised");
            }
            batchKernels(0);
            float[] x = gaussian(r, cols + 1);
            for (int[] range : new int[][] {{0, rows}, {5, rows - 3}, {Sgemm.NR - 1, rows}, {0, Math.min(rows, 2 * Sgemm.NR + 1)}}) {
                if (range[0] >= range[1]) continue;
                float[][] out = new float[2][rows + 1];
                for (int cold = 0; cold < 2; cold++) {
                    ColdStart.force(cold == 1);
                    m.matvec(x, 1, out[cold], 1, range[0], range[1]);
                }
                // rows of whole panels bit for bit; the rows at the range's edges (dot products) within rounding
                int p0 = (range[0] + Sgemm.NR - 1) / Sgemm.NR * Sgemm.NR, p1 = range[1] / Sgemm.NR * Sgemm.NR;
                for (int row = range[0]; row < range[1]; row++) {
                    String what = rows + "x" + cols + " matvec rows " + range[0] + ".." + range[1] + ", row " + row;
                    if (row >= p0 && row < p1) assertBits(new float[] {out[0][1 + row]}, new float[] {out[1][1 + row]}, what);
                    else assertEquals(out[0][1 + row], out[1][1 + row], 1e-5f * Math.sqrt(cols) * (1 + Math.abs(out[0][1 + row])), what);
                }
            }
        }
    }

    /** AutoKernels once the JIT has compiled them (C2's vectorised loops, not the interpreter's): still Sgemm's bits. */
    @Test
    void autoKernelsCompiledGiveSgemmsBits() {
        batchKernels(0);       // the expected products on Sgemm
        SplittableRandom r = new SplittableRandom(15);
        int rows = 37, cols = 67, nt = LlamaEngine.BLOCK;
        F32Matrix m = new F32Matrix(gaussian(r, rows * cols), rows, cols);
        float[][] xt = new float[cols][nt];
        float[] a0 = new float[nt], a1 = new float[nt], out = new float[nt * rows];
        for (int i = 0; i < 400; i++) {       // hot: compiled by C2 long before the last pass
            float[] x = gaussian(r, nt * cols);
            AutoKernels.transpose(x, cols, nt, xt, 0, cols);
            AutoKernels.matmul(mw(m), 0, cols, xt, nt, a0, a1, out, 0, rows, rows);
            if (i % 100 != 99) continue;
            float[] expected = new float[nt * rows];
            try (Parallel par = new Parallel(1)) {
                m.matmul(par, x, cols, nt, expected, 0, rows, new WeightMatrix.BatchScratch(1, nt, cols));
            }
            assertBits(expected, out, "pass " + i);
        }
    }

    /** AutoKernels' Q8_0 decoding once C2 has compiled it: the scalar codec's bits, scales at their extremes included. */
    @Test
    void autoKernelsQ8_0DecodingCompiledGivesTheCodecsBits() {
        SplittableRandom r = new SplittableRandom(16);
        int blocks = 40, n = 32 * blocks;
        byte[] q = new byte[34 * blocks];
        float[] out = new float[n + 3], expected = new float[n + 3];
        short[] scales = {Float.floatToFloat16(65504f), Float.floatToFloat16(-6e-8f), Float.floatToFloat16(Float.NaN), Float.floatToFloat16(Float.POSITIVE_INFINITY), 0};
        for (int i = 0; i < 20_000; i++) {       // hot: called often enough for C2 to compile the method itself, not only its loop
            if (i % 5000 == 0) {
                r.nextBytes(q);
                for (int b = 0; b < scales.length; b++) {
                    q[34 * b] = (byte) scales[b];
                    q[34 * b + 1] = (byte) (scales[b] >> 8);
                }
            }
            AutoKernels.decodeQ8_0(q, 34 * (i % blocks), 32, out, 3 + 32 * (i % blocks));     // one block a call
            if (i % 5000 != 4999) continue;
            GgmlType.Q8_0.dequantize(q, 0, n, expected, 3);
            assertBits(expected, out, "pass " + i);
        }
    }

    private static float[] mw(F32Matrix m) {
        float[] w = new float[m.rows() * m.cols()];
        for (int r = 0; r < m.rows(); r++) m.row(r, w, r * m.cols());
        return w;
    }

    @Test
    void quantizedBatchesGiveTheBitsOfTheVectorKernels() {
        SplittableRandom r = new SplittableRandom(14);
        for (GgmlType t : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            int rows = 2 * Sgemm.NR + 9, cols = 512, nt = 19;
            byte[] q = new byte[(int) t.bytes(cols) * rows];
            t.quantize(gaussian(r, rows * cols), 0, rows * cols, q, 0);
            QuantMatrix m = new QuantMatrix(t, q, rows, cols);
            float[] x = gaussian(r, nt * cols);
            float[][] out = new float[3][nt * rows];
            for (int mode = 0; mode < 3; mode++) {
                batchKernels(mode);
                try (Parallel par = new Parallel(2)) {
                    m.matmul(par, x, cols, nt, out[mode], 0, rows, new WeightMatrix.BatchScratch(2, LlamaEngine.BLOCK, cols));
                }
            }
            assertBits(out[0], out[1], t + " batch");     // the scalar codec decodes to the same floats as the vector one
            assertBits(out[0], out[2], t + " batch, auto-vectorised");
        }
    }

    @Test
    void attentionProductsGiveTheBitsOfSgemm() {
        SplittableRandom r = new SplittableRandom(12);
        // 69 keys and 45 value columns: the cold kernel's blocks of 8 and of 4 columns, and single ones
        int hd = 48, kvDim = 2 * hd, ldq = 5 * hd, end = 71, nt = 37;
        float[] q = gaussian(r, nt * ldq), keys = gaussian(r, end * kvDim), values = gaussian(r, end * kvDim);
        float[] scoresCold = new float[nt * end], scoresWarm = new float[nt * end];
        float[] kp = new float[Sgemm.packedSize(end, hd)];
        Sgemm.packTransposed(keys, hd, kvDim, end, hd, kp, 0, Sgemm.panels(end));
        Sgemm.rows(3, nt, end - 2, hd, q, hd, ldq, 1, kp, 0, Sgemm.NR, hd * Sgemm.NR, scoresWarm, 0, end, false, Sgemm.packScratch());
        ColdKernels.rows(3, nt, end - 2, hd, q, hd, ldq, keys, hd, 1, kvDim, scoresCold, 0, end);
        assertBits(scoresWarm, scoresCold, "scores");
        for (int width : new int[] {hd, hd - 3}) {
            float[] outCold = new float[nt * ldq], outWarm = new float[nt * ldq];
            Sgemm.rows(3, nt, width, end - 2, scoresWarm, 0, end, 1, values, hd, kvDim, Sgemm.NR, outWarm, hd, ldq, false, Sgemm.packScratch());
            ColdKernels.rows(3, nt, width, end - 2, scoresWarm, 0, end, values, hd, kvDim, 1, outCold, hd, ldq);
            assertBits(outWarm, outCold, "weighted values, " + width + " columns");
        }
    }

    @Test
    void aColdEngineMatchesAWarmOne() {
        // dims that cut panels (80 = 2.5 x 32), grouped-query attention, three prefill blocks
        Weights w = Weights.init(new ModelConfig(80, 176, 2, 5, 1, 301, 300, 1e-5f, 10000f, true), 0.3f, 9);
        int[] tokens = new SplittableRandom(13).ints(270, 0, 301).toArray();
        float[][] prefill = new float[3][], decode = new float[3][];
        double[][] scores = new double[3][tokens.length - 1];
        for (int mode = 0; mode < 3; mode++) {       // warm, cold, cold with the auto-vectorised batched products
            batchKernels(mode);
            try (LlamaEngine e = new LlamaEngine(w, 2)) {
                prefill[mode] = e.prefill(java.util.Arrays.copyOf(tokens, 200), 0).clone();
                for (int i = 200; i < tokens.length; i++) decode[mode] = e.forward(tokens[i], i, true).clone();
                e.score(tokens, 0, scores[mode]);
            }
            assertEquals(mode > 0, ColdStart.cold(), "forced stays forced");
        }
        // the cold products on C1's loops and on C2's auto-vectorised ones: the same bits
        assertBits(prefill[1], prefill[2], "prefill logits, cold");
        assertBits(decode[1], decode[2], "decode logits, cold");
        for (int i = 0; i < scores[1].length; i++) assertEquals(scores[1][i], scores[2][i], "log-probability " + i + ", cold");
        for (int mode = 1; mode < 3; mode++) {
            for (int i = 0; i < prefill[0].length; i++) {
                assertEquals(prefill[0][i], prefill[mode][i], 1e-4f * (1 + Math.abs(prefill[0][i])), "prefill logit " + i + ", mode " + mode);
                assertEquals(decode[0][i], decode[mode][i], 1e-4f * (1 + Math.abs(decode[0][i])), "decode logit " + i + ", mode " + mode);
            }
            for (int i = 0; i < scores[0].length; i++) assertEquals(scores[0][i], scores[mode][i], 1e-4, "log-probability " + i + ", mode " + mode);
        }
    }

    /**
     * A cold prompt or scoring, with the decode products' kernels compiled ahead and the batches' not, runs in blocks
     * on the decode path (the bits of forward token by token), within rounding of the warm ones, and leaves a KV
     * cache that decodes alike; without kernels asked for ahead it does not wait for them, and once the batches'
     * are compiled it runs on the batched products.
     */
    @Test
    void aColdPromptRunsOnTheDecodeKernelsCompiledAhead() {
        Weights w = Weights.init(new ModelConfig(80, 176, 2, 5, 1, 301, 300, 1e-5f, 10000f, true), 0.3f, 9);
        int[] tokens = new SplittableRandom(17).ints(150, 0, 301).toArray();
        float[][] prefill = new float[2][], decode = new float[2][];
        double[][] scores = new double[2][130];
        for (int mode = 0; mode < 2; mode++) {       // warm; cold with the decode kernels compiled ahead
            ColdStart.resetAhead();
            if (mode == 0) {
                ColdStart.force(false);
            } else {
                ColdStart.restart(1_000_000_000_000L);
                ColdStart.compiled(CompileAhead.Kind.DECODE);
            }
            assertEquals(mode == 1, ColdStart.promptOnDecode());
            try (LlamaEngine e = new LlamaEngine(w, 2)) {
                prefill[mode] = e.prefill(java.util.Arrays.copyOf(tokens, 130), 0).clone();
                for (int i = 130; i < tokens.length; i++) decode[mode] = e.forward(tokens[i], i, true).clone();
            }
            try (LlamaEngine e = new LlamaEngine(w, 2)) {
                e.score(java.util.Arrays.copyOf(tokens, 130), 0, scores[mode], tokens[130]);
            }
            if (mode == 1) {
                int[] prompt = java.util.Arrays.copyOf(tokens, 130);
                assertTrue(sameBitsWithinTries(() -> {
                    try (LlamaEngine e = new LlamaEngine(w, 2)) {
                        return e.prefill(prompt, 0).clone();
                    }
                }, () -> {
                    try (LlamaEngine e = new LlamaEngine(w, 2)) {
                        float[] l = null;
                        for (int i = 0; i < 130; i++) l = e.forward(tokens[i], i, i == 129);
                        return l;
                    }
                }), "the cold prompt has the bits of forward token by token");
                // scoring, its blocks on the decode products too: the log-probabilities of forward's logits
                assertTrue(sameBitsWithinTries(() -> {
                    double[] sc = new double[130];
                    try (LlamaEngine e = new LlamaEngine(w, 2)) {
                        e.score(prompt, 0, sc, tokens[130]);
                    }
                    return sc;
                }, () -> {
                    double[] lp = new double[130];
                    try (LlamaEngine e = new LlamaEngine(w, 2)) {
                        for (int i = 0; i < 130; i++) {
                            float[] l = e.forward(tokens[i], i, true);
                            lp[i] = l[tokens[i + 1]] - Elementwise.logSumExp(l, 0, l.length);
                        }
                    }
                    return lp;
                }), "cold scoring has the bits of forward token by token");
            }
        }
        for (int i = 0; i < 130; i++) assertEquals(scores[0][i], scores[1][i], 1e-4, "log-probability " + i);
        for (int i = 0; i < prefill[0].length; i++) {
            assertEquals(prefill[0][i], prefill[1][i], 1e-4f * (1 + Math.abs(prefill[0][i])), "prefill logit " + i);
            assertEquals(decode[0][i], decode[1][i], 1e-4f * (1 + Math.abs(decode[0][i])), "decode logit " + i);
        }
        ColdStart.resetAhead();
        ColdStart.restart(1_000_000_000_000L);
        long t0 = System.nanoTime();
        assertFalse(ColdStart.promptOnDecode(), "no decode kernels asked for ahead: the cold batches");
        assertTrue(System.nanoTime() - t0 < ColdStart.PROMPT_WAIT_NANOS / 2, "without waiting for kernels that nobody compiles");
        ColdStart.compiled(CompileAhead.Kind.DECODE);
        ColdStart.compiled(CompileAhead.Kind.BATCH);
        assertFalse(ColdStart.promptOnDecode(), "the batches' kernels compiled: blocks");
    }

    /**
     * Whether two computations give arrays of the same bits within 4 tries: both run the same kernels, once the JIT
     * runs them at the same tier (the interpreter and C1 sum a vector's lanes in order, C2 as a tree), which a test
     * JVM does not promise on the first try (the launcher's JVM compiles them ahead); a path that differs never matches.
     */
    static boolean sameBitsWithinTries(java.util.function.Supplier<Object> a, java.util.function.Supplier<Object> b) {
        for (int attempt = 0; attempt < 4; attempt++) if (java.util.Objects.deepEquals(a.get(), b.get())) return true;
        return false;
    }

    @Test
    void aColdQuantizedEngineMatchesAWarmOne() {
        // Q8_0 and Q4_0 matrices with a quantized classifier, tied and not: the cold prefill runs it as a
        // batched product of one row, the warm one as a matvec
        for (boolean tied : new boolean[] {true, false}) for (GgmlType t : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0}) {
            ModelConfig c = new ModelConfig(64, 96, 1, 4, 2, 200, 64, 1e-5f, 10000f, tied);
            Weights f32 = Weights.init(c, 0.3f, 21);
            int[] tokens = new SplittableRandom(5).ints(40, 0, 200).toArray();
            Weights w = QuantKernelsTest.quantized(f32, t);
            float[][] prefill = new float[3][], decode = new float[3][];
            for (int mode = 0; mode < 3; mode++) {        // warm, cold, cold with the auto-vectorised batched products
                batchKernels(mode);
                try (LlamaEngine e = new LlamaEngine(w, 2)) {
                    prefill[mode] = e.prefill(tokens, 0).clone();
                    decode[mode] = e.forward(3, tokens.length, true).clone();
                }
            }
            assertBits(prefill[1], prefill[2], t + (tied ? " tied" : "") + " prefill logits, cold");
            assertBits(decode[1], decode[2], t + (tied ? " tied" : "") + " decode logits, cold");
            for (int i = 0; i < prefill[0].length; i++) {
                assertEquals(prefill[0][i], prefill[1][i], 1e-4f * (1 + Math.abs(prefill[0][i])), t + (tied ? " tied" : "") + " prefill logit " + i);
                assertEquals(decode[0][i], decode[1][i], 1e-4f * (1 + Math.abs(decode[0][i])), t + (tied ? " tied" : "") + " decode logit " + i);
            }
        }
    }

    @Test
    void switchesToTheVectorKernelsOnceTheBudgetIsSpent() {
        ColdStart.restart(1_000_000_000L);
        assertTrue(ColdStart.cold());
        ColdStart.ran(System.nanoTime() - 10_000_000L);
        assertTrue(ColdStart.cold(), "about 10 ms of 1 s spent");
        ColdStart.ran(System.nanoTime() - 2_000_000_000L);
        assertFalse(ColdStart.cold(), "2 s of 1 s spent");
        ColdStart.restart(0);
        assertFalse(ColdStart.cold(), "a budget of 0 is never cold");
    }

    /**
     * The warm F32 decode matvec before its matrix is packed (the rows as stored, one at a time) and after (the
     * packed panels): the reference within rounding before, the prefill's bits on whole panels after; the
     * matrix packs only once the packed kernels are compiled (here: declared so) or the budget is spent without them.
     */
    @Test
    void theDecodeMatvecRunsOnTheRowsAsStoredUntilPackingPays() {
        SplittableRandom r = new SplittableRandom(21);
        for (int[] shape : new int[][] {{288, 288}, {4 * Sgemm.NR + 7, 200}, {9, 48}, {301, 331}}) {
            int rows = shape[0], cols = shape[1];
            float[] w = gaussian(r, rows * cols), x = gaussian(r, cols + 2);
            F32Matrix m = new F32Matrix(w, rows, cols);
            ColdStart.resetAhead();
            ColdStart.restart(1_000_000_000L);
            ColdStart.compiled(CompileAhead.Kind.DECODE);
            assertFalse(ColdStart.cold());
            assertTrue(ColdStart.unpackedDecode(), "budget not spent, packed kernels not compiled");
            for (int[] range : new int[][] {{0, rows}, {5, rows - 3}, {3, Math.min(rows, 2 * Sgemm.NR + 1)}}) {
                if (range[0] >= range[1]) continue;
                float[] out = new float[rows + 1];
                m.matvec(x, 2, out, 1, range[0], range[1]);
                for (int row = 0; row < rows; row++) {
                    String what = rows + "x" + cols + " rows " + range[0] + ".." + range[1] + ", row " + row;
                    if (row < range[0] || row >= range[1]) {
                        assertEquals(0f, out[1 + row], what + ": outside the range");
                        continue;
                    }
                    double ref = 0;
                    for (int k = 0; k < cols; k++) ref += (double) w[row * cols + k] * x[2 + k];
                    assertEquals(ref, out[1 + row], 1e-5 * Math.sqrt(cols) * (1 + Math.abs(ref)), what);
                }
            }
            ColdStart.compiled(CompileAhead.Kind.PACKED);
            assertFalse(ColdStart.unpackedDecode());
            float[] packedOut = new float[rows], prefill = new float[rows];
            m.matvec(x, 2, packedOut, 0, 0, rows);
            ColdStart.force(false);
            try (Parallel par = new Parallel(1)) {
                m.matmul(par, java.util.Arrays.copyOfRange(x, 2, 2 + cols), cols, 1, prefill, 0, rows, new WeightMatrix.BatchScratch(1, LlamaEngine.BLOCK, cols));
            }
            int whole = rows / Sgemm.NR * Sgemm.NR;
            assertBits(java.util.Arrays.copyOf(prefill, whole), java.util.Arrays.copyOf(packedOut, whole), rows + "x" + cols + " packed matvec against the prefill");
        }
    }

    /** Kernels compiled ahead (CompileAhead): each kind leaves the cold kernels when its own are compiled, whatever the budget. */
    @Test
    void kernelsCompiledAheadEndTheColdStartOfTheirKind() {
        try {
            ColdStart.restart(1_000_000_000L);
            ColdStart.compiling(CompileAhead.Kind.DECODE);
            assertTrue(ColdStart.cold() && ColdStart.coldElementwise() && ColdStart.coldBatch());
            ColdStart.compiled(CompileAhead.Kind.DECODE);
            assertFalse(ColdStart.cold(), "decode products compiled");
            assertTrue(ColdStart.coldElementwise() && ColdStart.coldBatch(), "the others are not");
            ColdStart.compiled(CompileAhead.Kind.ELEMENTWISE);
            assertFalse(ColdStart.coldElementwise(), "elementwise steps compiled");
            assertTrue(ColdStart.coldBatch());
            ColdStart.compiled(CompileAhead.Kind.BATCH);
            assertFalse(ColdStart.coldBatch(), "the batches' compiled");
            assertTrue(ColdStart.unpackedDecode(), "the packed matvec's kernels are not");
            ColdStart.compiled(CompileAhead.Kind.PACKED);
            assertFalse(ColdStart.unpackedDecode(), "the packed matvec's compiled");
            ColdStart.force(true);
            assertTrue(ColdStart.cold() && ColdStart.coldElementwise() && ColdStart.coldBatch(), "forced cold whatever is compiled");
            ColdStart.restart(1_000_000_000L);
            ColdStart.compiling(CompileAhead.Kind.DECODE);
            assertTrue(ColdStart.cold(), "new decode kernels asked for: cold until they are compiled");
            assertFalse(ColdStart.coldBatch());
        } finally {
            ColdStart.resetAhead();
            ColdStart.force(false);
        }
    }
}
