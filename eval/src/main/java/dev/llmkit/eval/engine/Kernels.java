package dev.llmkit.eval.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The engine's numeric kernels: Vector API versions and the plain scalar reference they are tested
 * against. {@code -Dllmkit.scalar=true} forces the scalar path everywhere.
 */
final class Kernels {
    private Kernels() {}

    static final boolean SCALAR = Boolean.getBoolean("llmkit.scalar");
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /** out[r] = w[r, :] . x for rows [r0, r1) of a row-major [rows, in] matrix. */
    static void matvec(float[] w, float[] x, float[] out, int in, int r0, int r1) {
        if (SCALAR) {
            matvecScalar(w, x, out, in, r0, r1);
            return;
        }
        int bound = S.loopBound(in);
        for (int r = r0; r < r1; r++) {
            int base = r * in;
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            int i = 0;
            for (; i + 2 * L <= bound; i += 2 * L) {
                a0 = FloatVector.fromArray(S, w, base + i).fma(FloatVector.fromArray(S, x, i), a0);
                a1 = FloatVector.fromArray(S, w, base + i + L).fma(FloatVector.fromArray(S, x, i + L), a1);
            }
            for (; i < bound; i += L) a0 = FloatVector.fromArray(S, w, base + i).fma(FloatVector.fromArray(S, x, i), a0);
            float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
            for (; i < in; i++) sum += w[base + i] * x[i];
            out[r] = sum;
        }
    }

    static void matvecScalar(float[] w, float[] x, float[] out, int in, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            float sum = 0;
            for (int i = 0; i < in; i++) sum += w[r * in + i] * x[i];
            out[r] = sum;
        }
    }

    /** out = x / sqrt(mean(x^2) + eps) * g. */
    static void rmsnorm(float[] out, float[] x, float[] g, int n, float eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += x[i] * x[i];
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[i] = x[i] * scale * g[i];
    }

    /** In-place softmax of x[0..n). */
    static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) max = Math.max(max, x[i]);
        double sum = 0;
        for (int i = off; i < off + n; i++) {
            x[i] = (float) Math.exp(x[i] - max);
            sum += x[i];
        }
        float inv = (float) (1 / sum);
        for (int i = off; i < off + n; i++) x[i] *= inv;
    }

    /** h = silu(g) * u. */
    static void swiglu(float[] h, float[] g, float[] u, int n) {
        for (int i = 0; i < n; i++) {
            float v = g[i];
            h[i] = v / (1f + (float) Math.exp(-v)) * u[i];
        }
    }
}
