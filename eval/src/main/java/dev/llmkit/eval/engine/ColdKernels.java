package dev.llmkit.eval.engine;

/**
 * The plain scalar loops of {@link ColdStart}, which C1 compiles in well under a millisecond (the
 * launcher keeps C2 to the Vector API kernels). The F32 products: each output is one chain of
 * {@link Math#fma} in index order starting from zero, as in {@link Kernels#matvecPacked} and in every
 * kernel of {@link dev.llmkit.core.kernels.Sgemm}, so the bits equal theirs; several outputs are computed
 * side by side (independent chains keep both FMA units busy) and read the weights in place: no packing.
 * The elementwise steps (norm, softmax, SwiGLU, residual add): the scalar references of {@link Kernels}'
 * Vector API versions, which differ from them within rounding.
 */
final class ColdKernels {
    private ColdKernels() {}

    /** out[oo + r] = w[r, :] . x[xo, xo + in) for rows [r0, r1) of a row-major [rows, in] matrix. */
    static void matvec(float[] w, int in, float[] x, int xo, float[] out, int oo, int r0, int r1) {
        int r = r0;
        for (; r + 8 <= r1; r += 8) {
            int b0 = r * in, b1 = b0 + in, b2 = b1 + in, b3 = b2 + in, b4 = b3 + in, b5 = b4 + in, b6 = b5 + in, b7 = b6 + in;
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
            for (int k = 0; k < in; k++) {
                float v = x[xo + k];
                s0 = Math.fma(w[b0 + k], v, s0);
                s1 = Math.fma(w[b1 + k], v, s1);
                s2 = Math.fma(w[b2 + k], v, s2);
                s3 = Math.fma(w[b3 + k], v, s3);
                s4 = Math.fma(w[b4 + k], v, s4);
                s5 = Math.fma(w[b5 + k], v, s5);
                s6 = Math.fma(w[b6 + k], v, s6);
                s7 = Math.fma(w[b7 + k], v, s7);
            }
            out[oo + r] = s0; out[oo + r + 1] = s1; out[oo + r + 2] = s2; out[oo + r + 3] = s3;
            out[oo + r + 4] = s4; out[oo + r + 5] = s5; out[oo + r + 6] = s6; out[oo + r + 7] = s7;
        }
        for (; r < r1; r++) out[oo + r] = dot(w, r * in, 1, x, xo, 1, in);
    }

    /**
     * out[t * ldo + oOff + r] = w[r, :] . x[t * ldx, + in) for the nt rows t of x and rows [r0, r1) of w:
     * four weight rows against two activation rows at a time, the weight rows outermost so that they
     * are read from memory once.
     */
    static void matmul(float[] w, int in, float[] x, int ldx, int nt, float[] out, int oOff, int ldo, int r0, int r1) {
        int r = r0;
        for (; r + 4 <= r1; r += 4) {
            int b0 = r * in, b1 = b0 + in, b2 = b1 + in, b3 = b2 + in;
            int t = 0;
            for (; t + 2 <= nt; t += 2) {
                int xa = t * ldx, xb = xa + ldx;
                float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, c0 = 0f, c1 = 0f, c2 = 0f, c3 = 0f;
                for (int k = 0; k < in; k++) {
                    float u = x[xa + k], v = x[xb + k], w0 = w[b0 + k], w1 = w[b1 + k], w2 = w[b2 + k], w3 = w[b3 + k];
                    a0 = Math.fma(w0, u, a0); a1 = Math.fma(w1, u, a1); a2 = Math.fma(w2, u, a2); a3 = Math.fma(w3, u, a3);
                    c0 = Math.fma(w0, v, c0); c1 = Math.fma(w1, v, c1); c2 = Math.fma(w2, v, c2); c3 = Math.fma(w3, v, c3);
                }
                int oa = t * ldo + oOff + r, ob = oa + ldo;
                out[oa] = a0; out[oa + 1] = a1; out[oa + 2] = a2; out[oa + 3] = a3;
                out[ob] = c0; out[ob + 1] = c1; out[ob + 2] = c2; out[ob + 3] = c3;
            }
            for (; t < nt; t++) matvec(w, in, x, t * ldx, out, t * ldo + oOff, r, r + 4);
        }
        if (r < r1) for (int t = 0; t < nt; t++) matvec(w, in, x, t * ldx, out, t * ldo + oOff, r, r1);
    }

    /**
     * C[i, j] = sum_p A(i, p) B(p, j) for rows [i0, i1) and j in [0, n), with A(i, p) = a[aOff + i * aRow + p]
     * and B(p, j) = b[bOff + p * bRow + j * bCol]: what {@link dev.llmkit.core.kernels.Sgemm#rows} computes
     * for attention's two products (scores against the keys, and the weighted values), C overwritten.
     */
    static void rows(int i0, int i1, int n, int k, float[] a, int aOff, int aRow, float[] b, int bOff, int bRow, int bCol,
                     float[] c, int cOff, int ldc) {
        for (int i = i0; i < i1; i++) {
            int ao = aOff + i * aRow, co = cOff + i * ldc;
            int j = 0;
            if (bCol == 1) {
                // adjacent columns (the weighted values): one index, constant offsets (C1 keeps no loop invariant)
                for (; j + 8 <= n; j += 8) {
                    float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
                    for (int p = 0, o = bOff + j; p < k; p++, o += bRow) {
                        float v = a[ao + p];
                        s0 = Math.fma(v, b[o], s0);
                        s1 = Math.fma(v, b[o + 1], s1);
                        s2 = Math.fma(v, b[o + 2], s2);
                        s3 = Math.fma(v, b[o + 3], s3);
                        s4 = Math.fma(v, b[o + 4], s4);
                        s5 = Math.fma(v, b[o + 5], s5);
                        s6 = Math.fma(v, b[o + 6], s6);
                        s7 = Math.fma(v, b[o + 7], s7);
                    }
                    c[co + j] = s0; c[co + j + 1] = s1; c[co + j + 2] = s2; c[co + j + 3] = s3;
                    c[co + j + 4] = s4; c[co + j + 5] = s5; c[co + j + 6] = s6; c[co + j + 7] = s7;
                }
            }
            for (; j + 8 <= n; j += 8) {
                int p0 = bOff + j * bCol, p1 = p0 + bCol, p2 = p1 + bCol, p3 = p2 + bCol, p4 = p3 + bCol, p5 = p4 + bCol, p6 = p5 + bCol,
                        p7 = p6 + bCol;
                float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
                for (int p = 0, o = 0; p < k; p++, o += bRow) {
                    float v = a[ao + p];
                    s0 = Math.fma(v, b[p0 + o], s0);
                    s1 = Math.fma(v, b[p1 + o], s1);
                    s2 = Math.fma(v, b[p2 + o], s2);
                    s3 = Math.fma(v, b[p3 + o], s3);
                    s4 = Math.fma(v, b[p4 + o], s4);
                    s5 = Math.fma(v, b[p5 + o], s5);
                    s6 = Math.fma(v, b[p6 + o], s6);
                    s7 = Math.fma(v, b[p7 + o], s7);
                }
                c[co + j] = s0; c[co + j + 1] = s1; c[co + j + 2] = s2; c[co + j + 3] = s3;
                c[co + j + 4] = s4; c[co + j + 5] = s5; c[co + j + 6] = s6; c[co + j + 7] = s7;
            }
            for (; j + 4 <= n; j += 4) {
                int p0 = bOff + j * bCol, p1 = p0 + bCol, p2 = p1 + bCol, p3 = p2 + bCol;
                float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
                for (int p = 0; p < k; p++) {
                    float v = a[ao + p];
                    int o = p * bRow;
                    s0 = Math.fma(v, b[p0 + o], s0);
                    s1 = Math.fma(v, b[p1 + o], s1);
                    s2 = Math.fma(v, b[p2 + o], s2);
                    s3 = Math.fma(v, b[p3 + o], s3);
                }
                c[co + j] = s0; c[co + j + 1] = s1; c[co + j + 2] = s2; c[co + j + 3] = s3;
            }
            for (; j < n; j++) c[co + j] = dot(b, bOff + j * bCol, bRow, a, ao, 1, k);
        }
    }

    /** sum_p u[uo + p * us] * v[vo + p * vs] for p in [0, n), one chain in p order. */
    private static float dot(float[] u, int uo, int us, float[] v, int vo, int vs, int n) {
        float s = 0f;
        for (int p = 0; p < n; p++) s = Math.fma(u[uo + p * us], v[vo + p * vs], s);
        return s;
    }

    // ---------------------------------------------------------------- the elementwise steps

    /** out[oo..oo+n) = x[xo..xo+n) / sqrt(mean(x^2) + eps) * g. */
    static void rmsnorm(float[] out, int oo, float[] x, int xo, float[] g, int n, float eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += x[xo + i] * x[xo + i];
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[oo + i] = x[xo + i] * scale * g[i];
    }

    /** max(x[off..off+n)); NaN if any is. */
    static float max(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        return max;
    }

    /** log(sum(exp(x[off..off+n)))), with the max taken out first. */
    static double logSumExp(float[] x, int off, int n) {
        float max = max(x, off, n);
        double z = 0;
        for (int i = 0; i < n; i++) z += Math.exp(x[off + i] - max);
        return max + Math.log(z);
    }

    /** In-place softmax of scale * x[off..off+n), scale > 0. */
    static void softmax(float[] x, int off, int n, float scale) {
        float max = max(x, off, n);
        float sum = 0;
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) Math.exp((x[off + i] - max) * scale);
            sum += x[off + i];
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) x[off + i] *= inv;
    }

    /** h = silu(g) * u over n elements from each offset (h may alias g or u). */
    static void swiglu(float[] h, int ho, float[] g, int go, float[] u, int uo, int n) {
        for (int i = 0; i < n; i++) {
            float v = g[go + i];
            h[ho + i] = v / (1f + (float) Math.exp(-v)) * u[uo + i];
        }
    }

    /** y[yo, yo + n) += x[xo, xo + n). */
    static void add(float[] y, int yo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] += x[xo + i];
    }
}
