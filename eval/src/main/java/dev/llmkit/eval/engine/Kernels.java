package dev.llmkit.eval.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The engine's numeric kernels: Vector API versions and the plain scalar reference they are tested
 * against. {@code -Dllmkit.scalar=true} forces the scalar path everywhere; {@link ColdStart} takes it
 * for the first second of a process. The elementwise steps here are the Vector API versions alone: the
 * engine reaches them through {@link Elementwise}, which takes their scalar loops ({@link ColdKernels})
 * under the switch and while cold.
 */
final class Kernels {
    private Kernels() {}

    static final boolean SCALAR = Boolean.getBoolean("llmkit.scalar");
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /**
     * y[yo, yo + n) += x[xo, xo + n): the residual, a plain loop that C2 vectorises (while cold, {@link Elementwise}
     * takes {@link ColdKernels#add}).
     */
    static void add(float[] y, int yo, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] += x[xo + i];
    }

    /** out[r] = w[r, :] . x for rows [r0, r1) of a row-major [rows, in] matrix. */
    static void matvec(float[] w, float[] x, float[] out, int in, int r0, int r1) {
        matvec(w, x, 0, out, 0, in, r0, r1);
    }

    /** out[oo + r] = w[r, :] . x[xo, xo + in) for rows [r0, r1). */
    static void matvec(float[] w, float[] x, int xo, float[] out, int oo, int in, int r0, int r1) {
        matvecs(w, x, xo, 0, 1, out, oo, 0, in, r0, r1);
    }

    /** The weights {@link #matvecs} runs over all its vectors at a time: well within a 32 KB first-level cache. */
    static final int CHUNK_BYTES = 16 << 10;

    /**
     * {@link #matvec} for nt vectors x_t = x[xo + t * ldx, + in) into out[oo + t * ldo + r], the same bits for each:
     * a chunk of rows that fits in the first-level cache for every x_t before the next chunk, so that each weight
     * is read from memory once for all nt vectors (a cold prompt's products, {@link WeightMatrix#matvecs}). The
     * decode matvec is its nt = 1 case: C2 compiles this method ahead, and one call covers a thread's rows.
     */
    static void matvecs(float[] w, float[] x, int xo, int ldx, int nt, float[] out, int oo, int ldo, int in, int r0, int r1) {
        int chunk = nt == 1 ? r1 - r0 : Math.max(1, CHUNK_BYTES / (4 * in));
        for (int c0 = r0; c0 < r1; c0 += chunk) {
            int c1 = Math.min(r1, c0 + chunk);
            for (int t = 0; t < nt; t++) {
                int xt = xo + t * ldx, ot = oo + t * ldo;
                if (SCALAR) {
                    for (int r = c0; r < c1; r++) {
                        float sum = 0;
                        for (int i = 0; i < in; i++) sum += w[r * in + i] * x[xt + i];
                        out[ot + r] = sum;
                    }
                    continue;
                }
                int bound = S.loopBound(in);
                for (int r = c0; r < c1; r++) {
                    int base = r * in;
                    FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
                    int i = 0;
                    for (; i + 2 * L <= bound; i += 2 * L) {
                        a0 = FloatVector.fromArray(S, w, base + i).fma(FloatVector.fromArray(S, x, xt + i), a0);
                        a1 = FloatVector.fromArray(S, w, base + i + L).fma(FloatVector.fromArray(S, x, xt + i + L), a1);
                    }
                    for (; i < bound; i += L) a0 = FloatVector.fromArray(S, w, base + i).fma(FloatVector.fromArray(S, x, xt + i), a0);
                    float sum = FloatVector.zero(S).add(a0.add(a1)).reduceLanes(VectorOperators.ADD);
                    for (; i < in; i++) sum += w[base + i] * x[xt + i];
                    out[ot + r] = sum;
                }
            }
        }
    }

    /**
     * out[oo + p * NR + j] = W[p * NR + j, :] . x for the whole panels [p0, p1) of W^T packed by
     * {@link dev.llmkit.core.kernels.Sgemm#packTransposed} ({@code bp[p * in * NR + k * NR + j]}): each
     * vector of weights meets a broadcast x[k], so there is no horizontal sum per row and each x value is
     * read once for NR rows. Four panels at a time keep eight FMA chains in flight. Every output sums its
     * products in k order, as the prefill's packed product does: the two give the same bits for a row.
     */
    static void matvecPacked(float[] bp, int in, float[] x, int xo, float[] out, int oo, int p0, int p1) {
        int nr = 2 * L, stride = in * nr;
        int p = p0;
        for (; p + 4 <= p1; p += 4) {
            int b0 = p * stride, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride;
            FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int k = 0, o = 0; k < in; k++, o += nr) {
                FloatVector xv = FloatVector.broadcast(S, x[xo + k]);
                a00 = xv.fma(FloatVector.fromArray(S, bp, b0 + o), a00);
                a01 = xv.fma(FloatVector.fromArray(S, bp, b0 + o + L), a01);
                a10 = xv.fma(FloatVector.fromArray(S, bp, b1 + o), a10);
                a11 = xv.fma(FloatVector.fromArray(S, bp, b1 + o + L), a11);
                a20 = xv.fma(FloatVector.fromArray(S, bp, b2 + o), a20);
                a21 = xv.fma(FloatVector.fromArray(S, bp, b2 + o + L), a21);
                a30 = xv.fma(FloatVector.fromArray(S, bp, b3 + o), a30);
                a31 = xv.fma(FloatVector.fromArray(S, bp, b3 + o + L), a31);
            }
            int q = oo + p * nr;
            a00.intoArray(out, q); a01.intoArray(out, q + L);
            a10.intoArray(out, q + nr); a11.intoArray(out, q + nr + L);
            a20.intoArray(out, q + 2 * nr); a21.intoArray(out, q + 2 * nr + L);
            a30.intoArray(out, q + 3 * nr); a31.intoArray(out, q + 3 * nr + L);
        }
        for (; p < p1; p++) {
            int b0 = p * stride;
            FloatVector a00 = FloatVector.zero(S), a01 = a00;
            for (int k = 0, o = 0; k < in; k++, o += nr) {
                FloatVector xv = FloatVector.broadcast(S, x[xo + k]);
                a00 = xv.fma(FloatVector.fromArray(S, bp, b0 + o), a00);
                a01 = xv.fma(FloatVector.fromArray(S, bp, b0 + o + L), a01);
            }
            a00.intoArray(out, oo + p * nr);
            a01.intoArray(out, oo + p * nr + L);
        }
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
                sum = FloatVector.zero(S).add(acc).reduceLanes(VectorOperators.ADD);
            }
        }
        for (; i < n; i++) sum += a[ao + i] * b[bo + i];
        return sum;
    }

    /**
     * att[ao + t] = {@link #dot}(q[qo..qo+n), k[ko + t * stride ..)) for t < count: attention's scores of one
     * query against the cached keys. The loop over positions lives here, with the kernels, so that the
     * compiler that compiles them (C2, under ./llmkit's directives) inlines the dot product into it.
     */
    static void scores(float[] q, int qo, float[] k, int ko, int stride, int count, float[] att, int ao, int n) {
        for (int t = 0; t < count; t++) att[ao + t] = dot(q, qo, k, ko + t * stride, n);
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

    /**
     * out[t, oOff + r] (row stride ldo) = w[r, :] . x[t, :] (row stride ldx) for rows [r0, r1) of a
     * row-major [rows, in] weight: the plain reference of the prefill GEMM, and the engine's path under
     * the scalar switch.
     */
    static void matmulScalar(float[] w, float[] x, int ldx, float[] out, int oOff, int ldo, int in, int nt, int r0, int r1) {
        for (int t = 0; t < nt; t++) {
            for (int r = r0; r < r1; r++) {
                float sum = 0;
                for (int i = 0; i < in; i++) sum += w[r * in + i] * x[t * ldx + i];
                out[t * ldo + oOff + r] = sum;
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

    /** out[oo..oo+n) = x[xo..xo+n) / sqrt(mean(x^2) + eps) * g. */
    static void rmsnorm(float[] out, int oo, float[] x, int xo, float[] g, int n, float eps) {
        double ss = 0;
        int i = 0, bound = S.loopBound(n);
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(S);
            for (; i < bound; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xo + i);
                acc = v.fma(v, acc);
            }
            ss = FloatVector.zero(S).add(acc).reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) ss += x[xo + i] * x[xo + i];
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (i = 0; i < bound; i += L) {
            FloatVector.fromArray(S, x, xo + i).mul(scale).mul(FloatVector.fromArray(S, g, i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) out[oo + i] = x[xo + i] * scale * g[i];
    }

    /** max(x[off..off+n)). */
    static float max(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0, bound = S.loopBound(n);
        if (bound > 0) {
            FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += L) m = FloatVector.fromArray(S, x, off + i).max(m);
            max = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY).max(m).reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        return max;
    }

    /** log(sum(exp(x[off..off+n)))), with the max taken out first. */
    static double logSumExp(float[] x, int off, int n) {
        float max = max(x, off, n);
        int i = 0, bound = S.loopBound(n);
        double z = 0;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(S);
            for (; i < bound; i += L) acc = FloatVector.fromArray(S, x, off + i).sub(max).lanewise(VectorOperators.EXP).add(acc);
            z = FloatVector.zero(S).add(acc).reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) z += Math.exp(x[off + i] - max);
        return max + Math.log(z);
    }

    /** In-place softmax of scale * x[off..off+n), scale > 0 (attention's 1/sqrt(head dim) folded in). */
    static void softmax(float[] x, int off, int n, float scale) {
        float max = max(x, off, n);
        int i = 0, bound = S.loopBound(n);
        float sum = 0;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(S);
            for (; i < bound; i += L) {
                FloatVector e = FloatVector.fromArray(S, x, off + i).sub(max).mul(scale).lanewise(VectorOperators.EXP);
                e.intoArray(x, off + i);
                acc = e.add(acc);
            }
            sum = FloatVector.zero(S).add(acc).reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            x[off + i] = (float) Math.exp((x[off + i] - max) * scale);
            sum += x[off + i];
        }
        float inv = 1f / sum;
        i = 0;
        for (; i < bound; i += L) FloatVector.fromArray(S, x, off + i).mul(inv).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= inv;
    }

    /** h = silu(g) * u = g / (1 + exp(-g)) * u, over n elements from each offset (h may alias g or u). */
    static void swiglu(float[] h, int ho, float[] g, int go, float[] u, int uo, int n) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector gv = FloatVector.fromArray(S, g, go + i);
            FloatVector sig = gv.neg().lanewise(VectorOperators.EXP).add(1f);
            gv.div(sig).mul(FloatVector.fromArray(S, u, uo + i)).intoArray(h, ho + i);
        }
        for (; i < n; i++) {
            float v = g[go + i];
            h[ho + i] = v / (1f + (float) Math.exp(-v)) * u[uo + i];
        }
    }
}
