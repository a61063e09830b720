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

    /**
     * out[t, r] = w[r, :] . x[t, :] for rows [r0, r1) and tokens [0, nt), in 4x4 register tiles, so a
     * block of prompt tokens streams the weights once instead of once per token.
     */
    static void matmul(float[] w, float[] x, float[] out, int in, int outDim, int nt, int r0, int r1) {
        if (SCALAR) {
            matmulScalar(w, x, out, in, outDim, nt, r0, r1);
            return;
        }
        int bound = S.loopBound(in);
        int r = r0;
        for (; r + 4 <= r1; r += 4) {
            int t = 0;
            for (; t + 4 <= nt; t += 4) tile4x4(w, x, out, in, outDim, bound, r, t);
            for (; t < nt; t++) for (int rr = r; rr < r + 4; rr++) out[t * outDim + rr] = dot(w, rr * in, x, t * in, in, bound);
        }
        for (; r < r1; r++) for (int t = 0; t < nt; t++) out[t * outDim + r] = dot(w, r * in, x, t * in, in, bound);
    }

    /** Rows r..r+3 times tokens t..t+3: 16 accumulators, 8 loads per 16 FMAs. */
    private static void tile4x4(float[] w, float[] x, float[] out, int in, int outDim, int bound, int r, int t) {
        int w0 = r * in, w1 = w0 + in, w2 = w1 + in, w3 = w2 + in;
        int x0 = t * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00,
                a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector v0 = FloatVector.fromArray(S, x, x0 + i), v1 = FloatVector.fromArray(S, x, x1 + i),
                    v2 = FloatVector.fromArray(S, x, x2 + i), v3 = FloatVector.fromArray(S, x, x3 + i);
            FloatVector u = FloatVector.fromArray(S, w, w0 + i);
            a00 = u.fma(v0, a00); a01 = u.fma(v1, a01); a02 = u.fma(v2, a02); a03 = u.fma(v3, a03);
            u = FloatVector.fromArray(S, w, w1 + i);
            a10 = u.fma(v0, a10); a11 = u.fma(v1, a11); a12 = u.fma(v2, a12); a13 = u.fma(v3, a13);
            u = FloatVector.fromArray(S, w, w2 + i);
            a20 = u.fma(v0, a20); a21 = u.fma(v1, a21); a22 = u.fma(v2, a22); a23 = u.fma(v3, a23);
            u = FloatVector.fromArray(S, w, w3 + i);
            a30 = u.fma(v0, a30); a31 = u.fma(v1, a31); a32 = u.fma(v2, a32); a33 = u.fma(v3, a33);
        }
        store(a00, w, x, out, in, outDim, i, r, t); store(a01, w, x, out, in, outDim, i, r, t + 1);
        store(a02, w, x, out, in, outDim, i, r, t + 2); store(a03, w, x, out, in, outDim, i, r, t + 3);
        store(a10, w, x, out, in, outDim, i, r + 1, t); store(a11, w, x, out, in, outDim, i, r + 1, t + 1);
        store(a12, w, x, out, in, outDim, i, r + 1, t + 2); store(a13, w, x, out, in, outDim, i, r + 1, t + 3);
        store(a20, w, x, out, in, outDim, i, r + 2, t); store(a21, w, x, out, in, outDim, i, r + 2, t + 1);
        store(a22, w, x, out, in, outDim, i, r + 2, t + 2); store(a23, w, x, out, in, outDim, i, r + 2, t + 3);
        store(a30, w, x, out, in, outDim, i, r + 3, t); store(a31, w, x, out, in, outDim, i, r + 3, t + 1);
        store(a32, w, x, out, in, outDim, i, r + 3, t + 2); store(a33, w, x, out, in, outDim, i, r + 3, t + 3);
    }

    /** Reduces one accumulator, adds the scalar tail from {@code i}, stores out[t, r]. */
    private static void store(FloatVector acc, float[] w, float[] x, float[] out, int in, int outDim, int i, int r, int t) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        int wb = r * in, xb = t * in;
        for (int k = i; k < in; k++) sum += w[wb + k] * x[xb + k];
        out[t * outDim + r] = sum;
    }

    private static float dot(float[] w, int wb, float[] x, int xb, int in, int bound) {
        FloatVector a = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += L) a = FloatVector.fromArray(S, w, wb + i).fma(FloatVector.fromArray(S, x, xb + i), a);
        float sum = a.reduceLanes(VectorOperators.ADD);
        for (; i < in; i++) sum += w[wb + i] * x[xb + i];
        return sum;
    }

    /** a[ao..ao+n) . b[bo..bo+n). */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        float sum = 0;
        int i = 0;
        if (!SCALAR) {
            int bound = S.loopBound(n);
            if (bound > 0) {
                FloatVector acc = FloatVector.zero(S);
                for (; i < bound; i += L) acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
                sum = acc.reduceLanes(VectorOperators.ADD);
            }
        }
        for (; i < n; i++) sum += a[ao + i] * b[bo + i];
        return sum;
    }

    /**
     * out[oo..oo+n) = sum over t < count of w[wo + t] * v[vo + t * stride .. + n): attention's weighted
     * sum of values, one register accumulator per vector of the head, no store per position.
     */
    static void weightedSum(float[] w, int wo, int count, float[] v, int vo, int stride, float[] out, int oo, int n) {
        int i = 0;
        if (!SCALAR) {
            int bound = S.loopBound(n);
            for (; i < bound; i += L) {
                FloatVector acc = FloatVector.zero(S);
                for (int t = 0; t < count; t++) acc = FloatVector.fromArray(S, v, vo + t * stride + i).fma(FloatVector.broadcast(S, w[wo + t]), acc);
                acc.intoArray(out, oo + i);
            }
        }
        for (; i < n; i++) {
            float sum = 0;
            for (int t = 0; t < count; t++) sum += w[wo + t] * v[vo + t * stride + i];
            out[oo + i] = sum;
        }
    }

    static void matmulScalar(float[] w, float[] x, float[] out, int in, int outDim, int nt, int r0, int r1) {
        for (int t = 0; t < nt; t++) {
            for (int r = r0; r < r1; r++) {
                float sum = 0;
                for (int i = 0; i < in; i++) sum += w[r * in + i] * x[t * in + i];
                out[t * outDim + r] = sum;
            }
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
        rmsnorm(out, 0, x, 0, g, n, eps);
    }

    /** The same on x[xo..xo+n) into out[oo..oo+n). */
    static void rmsnorm(float[] out, int oo, float[] x, int xo, float[] g, int n, float eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += x[xo + i] * x[xo + i];
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[oo + i] = x[xo + i] * scale * g[i];
    }

    /** In-place softmax of x[off..off+n). */
    static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) max = Math.max(max, x[i]);
        float sum = 0;
        int i = 0;
        if (!SCALAR) {
            int bound = S.loopBound(n);
            FloatVector acc = FloatVector.zero(S);
            for (; i < bound; i += L) {
                FloatVector e = FloatVector.fromArray(S, x, off + i).sub(max).lanewise(VectorOperators.EXP);
                e.intoArray(x, off + i);
                acc = acc.add(e);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        float inv = 1f / sum;
        for (int k = off; k < off + n; k++) x[k] *= inv;
    }

    /** h = silu(g) * u = g / (1 + exp(-g)) * u. */
    static void swiglu(float[] h, float[] g, float[] u, int n) {
        int i = 0;
        if (!SCALAR) {
            int bound = S.loopBound(n);
            for (; i < bound; i += L) {
                FloatVector gv = FloatVector.fromArray(S, g, i);
                FloatVector sig = gv.neg().lanewise(VectorOperators.EXP).add(1f);
                gv.div(sig).mul(FloatVector.fromArray(S, u, i)).intoArray(h, i);
            }
        }
        for (; i < n; i++) {
            float v = g[i];
            h[i] = v / (1f + (float) Math.exp(-v)) * u[i];
        }
    }
}
