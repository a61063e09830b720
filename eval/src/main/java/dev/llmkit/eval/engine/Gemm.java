package dev.llmkit.eval.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The prefill matrix multiply, GotoBLAS style: C[t, r] = sum_k X[t, k] W[r, k] with the weight packed
 * once into column panels of {@link #NR} (B = W^T as [in, NR] per panel, zero-padded), the activations
 * packed per call into blocks of {@link #MR} tokens interleaved by k, and an 8 x 32 register-blocked
 * micro-kernel (16 vector accumulators, loaded from and stored to a padded C unconditionally so that
 * C2 keeps them in registers), in depth passes of {@link #KC}. Rows of C are tokens, padded to a
 * multiple of MR; columns padded to NR.
 */
final class Gemm {
    private Gemm() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    static final int NR = 2 * L, MR = 8;
    /** Depth per pass: a 256 x NR panel slice (32 KiB) stays in L1 across the token blocks. */
    static final int KC = 256;

    /** Number of NR-wide panels for {@code out} columns. */
    static int panels(int out) {
        return (out + NR - 1) / NR;
    }

    /** Packs a row-major weight [out, in] into panels: panel p holds rows p*NR.. as [in, NR]. */
    static float[] packWeight(float[] w, int out, int in) {
        float[] bp = new float[panels(out) * in * NR];
        for (int r = 0; r < out; r++) {
            int base = (r / NR) * in * NR + r % NR;
            for (int k = 0; k < in; k++) bp[base + k * NR] = w[r * in + k];
        }
        return bp;
    }

    /** Packs nt token rows of x [nt, in] into blocks of MR tokens interleaved by k (zeros past nt). */
    static void packTokens(float[] x, int nt, int in, float[] ap) {
        int blocks = (nt + MR - 1) / MR;
        for (int b = 0; b < blocks; b++) {
            int base = b * in * MR;
            for (int r = 0; r < MR; r++) {
                int t = b * MR + r;
                if (t < nt) for (int k = 0; k < in; k++) ap[base + k * MR + r] = x[t * in + k];
                else for (int k = 0; k < in; k++) ap[base + k * MR + r] = 0f;
            }
        }
    }

    /** C panels [p0, p1) for all token blocks; C is [blocks * MR, ldc] with ldc = panels * NR. */
    static void multiply(float[] ap, int blocks, float[] bp, int in, float[] c, int ldc, int p0, int p1) {
        for (int t = 0; t < blocks * MR; t++) java.util.Arrays.fill(c, t * ldc + p0 * NR, t * ldc + p1 * NR, 0f);
        for (int p = p0; p < p1; p++) {
            for (int kb = 0; kb < in; kb += KC) {
                int kc = Math.min(KC, in - kb);
                for (int b = 0; b < blocks; b++) kernel(ap, b * in * MR + kb * MR, bp, p * in * NR + kb * NR, c, b * MR * ldc + p * NR, ldc, kc);
            }
        }
    }

    private static void kernel(float[] ap, int aOff, float[] bp, int bOff, float[] c, int cOff, int ldc, int kc) {
        // Accumulators start from C (zeroed before the first depth pass), loaded unconditionally so
        // that C2 keeps them in registers.
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc, o6 = o5 + ldc, o7 = o6 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, o0), c01 = FloatVector.fromArray(S, c, o0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, o1), c11 = FloatVector.fromArray(S, c, o1 + L);
        FloatVector c20 = FloatVector.fromArray(S, c, o2), c21 = FloatVector.fromArray(S, c, o2 + L);
        FloatVector c30 = FloatVector.fromArray(S, c, o3), c31 = FloatVector.fromArray(S, c, o3 + L);
        FloatVector c40 = FloatVector.fromArray(S, c, o4), c41 = FloatVector.fromArray(S, c, o4 + L);
        FloatVector c50 = FloatVector.fromArray(S, c, o5), c51 = FloatVector.fromArray(S, c, o5 + L);
        FloatVector c60 = FloatVector.fromArray(S, c, o6), c61 = FloatVector.fromArray(S, c, o6 + L);
        FloatVector c70 = FloatVector.fromArray(S, c, o7), c71 = FloatVector.fromArray(S, c, o7 + L);
        for (int k = 0; k < kc; k++) {
            int bo = bOff + k * NR, a = aOff + k * MR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bo), b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector av;
            av = FloatVector.broadcast(S, ap[a]);     c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[a + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[a + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[a + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, ap[a + 4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, ap[a + 5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(S, ap[a + 6]); c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(S, ap[a + 7]); c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
        }
        int o = cOff;
        c00.intoArray(c, o); c01.intoArray(c, o + L); o += ldc;
        c10.intoArray(c, o); c11.intoArray(c, o + L); o += ldc;
        c20.intoArray(c, o); c21.intoArray(c, o + L); o += ldc;
        c30.intoArray(c, o); c31.intoArray(c, o + L); o += ldc;
        c40.intoArray(c, o); c41.intoArray(c, o + L); o += ldc;
        c50.intoArray(c, o); c51.intoArray(c, o + L); o += ldc;
        c60.intoArray(c, o); c61.intoArray(c, o + L); o += ldc;
        c70.intoArray(c, o); c71.intoArray(c, o + L);
    }
}
