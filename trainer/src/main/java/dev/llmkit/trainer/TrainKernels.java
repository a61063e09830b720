package dev.llmkit.trainer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused row kernels of the training forward and backward passes, on the Vector API, each with a
 * plain scalar twin behind {@code -Dllmkit.scalar=true} (the reference the tests compare against).
 */
final class TrainKernels {
    private TrainKernels() {}

    static final boolean SCALAR = Boolean.getBoolean("llmkit.scalar");
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /**
     * Lanes summed in lane order. {@code reduceLanes(ADD)} may add in any order, and the order differs
     * between the interpreter and compiled code, which would make runs (and resumes) differ in the last bit.
     */
    static float sum(FloatVector v) {
        float s = 0;
        for (int i = 0; i < L; i++) s += v.lane(i);
        return s;
    }

    private static final float ROUND = 12582912f, LOG2E = 1.44269504f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;

    /**
     * e^x from basic arithmetic only (Cody-Waite reduction, degree-6 polynomial, about 2 ulp), for
     * results that are the same bits in interpreted and compiled code, unlike {@code lanewise(EXP)},
     * which C2 replaces by a library call. x is clamped to [-87, 88]; NaN stays NaN.
     */
    static FloatVector exp(FloatVector x) {
        x = x.max(-87f).min(88f);
        FloatVector n = x.mul(LOG2E).add(ROUND).sub(ROUND);     // round to nearest: |r| <= ln2 / 2
        FloatVector r = x.sub(n.mul(LN2_HI)).sub(n.mul(LN2_LO));
        FloatVector p = r.mul(1.3888889e-3f).add(8.3333333e-3f);
        p = p.mul(r).add(4.1666667e-2f);
        p = p.mul(r).add(1.6666667e-1f);
        p = p.mul(r).add(0.5f);
        p = p.mul(r).add(1f);
        p = p.mul(r).add(1f);
        FloatVector scale = ((jdk.incubator.vector.IntVector) n.convert(VectorOperators.F2I, 0))
                .add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale);
    }

    /** out = x * rstd * g over n values; returns rstd = 1 / sqrt(mean(x^2) + eps). */
    static float rmsnorm(float[] x, int xo, float[] g, int go, float[] out, int oo, int n, float eps) {
        float ss = 0;
        int i = 0;
        if (!SCALAR) {
            FloatVector acc = FloatVector.zero(S);
            for (; i <= n - L; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xo + i);
                acc = v.fma(v, acc);
            }
            ss = sum(acc);
        }
        for (; i < n; i++) ss += x[xo + i] * x[xo + i];
        float rstd = (float) (1.0 / Math.sqrt(ss / n + eps));
        i = 0;
        if (!SCALAR) {
            for (; i <= n - L; i += L) {
                FloatVector.fromArray(S, x, xo + i).mul(rstd).mul(FloatVector.fromArray(S, g, go + i)).intoArray(out, oo + i);
            }
        }
        for (; i < n; i++) out[oo + i] = x[xo + i] * rstd * g[go + i];
        return rstd;
    }

    /**
     * Backward of {@link #rmsnorm}: dx += rstd * (dout*g - xhat * mean(dout*g*xhat)) and dg += dout * xhat,
     * with xhat = x * rstd.
     */
    static void rmsnormBackward(float[] dout, int doo, float[] x, int xo, float rstd, float[] g, int go,
                                float[] dx, int dxo, float[] dg, int dgo, int n) {
        float dot = 0;
        int i = 0;
        if (!SCALAR) {
            FloatVector acc = FloatVector.zero(S);
            for (; i <= n - L; i += L) {
                FloatVector d = FloatVector.fromArray(S, dout, doo + i).mul(FloatVector.fromArray(S, g, go + i));
                acc = d.fma(FloatVector.fromArray(S, x, xo + i), acc);
            }
            dot = sum(acc);
        }
        for (; i < n; i++) dot += dout[doo + i] * g[go + i] * x[xo + i];
        float c = dot * rstd * rstd / n;     // xhat * mean(dxhat * xhat) = x * c
        i = 0;
        if (!SCALAR) {
            for (; i <= n - L; i += L) {
                FloatVector d = FloatVector.fromArray(S, dout, doo + i), xv = FloatVector.fromArray(S, x, xo + i);
                FloatVector dxhat = d.mul(FloatVector.fromArray(S, g, go + i));
                dxhat.sub(xv.mul(c)).mul(rstd).add(FloatVector.fromArray(S, dx, dxo + i)).intoArray(dx, dxo + i);
                d.mul(xv).mul(rstd).add(FloatVector.fromArray(S, dg, dgo + i)).intoArray(dg, dgo + i);
            }
        }
        for (; i < n; i++) {
            float dxhat = dout[doo + i] * g[go + i];
            dx[dxo + i] += (dxhat - x[xo + i] * c) * rstd;
            dg[dgo + i] += dout[doo + i] * x[xo + i] * rstd;
        }
    }

    /** g[i] = silu(h[i]) * h[f + i] for i < f: the gate and up halves of one row of h = x [w1|w3]^T. */
    static void swiglu(float[] h, int ho, float[] g, int go, int f) {
        int i = 0;
        if (!SCALAR) {
            for (; i <= f - L; i += L) {
                FloatVector a = FloatVector.fromArray(S, h, ho + i), b = FloatVector.fromArray(S, h, ho + f + i);
                FloatVector sig = exp(a.neg()).add(1f);
                a.div(sig).mul(b).intoArray(g, go + i);
            }
        }
        for (; i < f; i++) {
            float a = h[ho + i];
            g[go + i] = a / (1f + (float) Math.exp(-a)) * h[ho + f + i];
        }
    }

    /** Backward of {@link #swiglu}: dh[i] = dg * h3 * silu'(h1), dh[f + i] = dg * silu(h1). */
    static void swigluBackward(float[] dg, int dgo, float[] h, int ho, float[] dh, int dho, int f) {
        int i = 0;
        if (!SCALAR) {
            for (; i <= f - L; i += L) {
                FloatVector a = FloatVector.fromArray(S, h, ho + i), b = FloatVector.fromArray(S, h, ho + f + i);
                FloatVector d = FloatVector.fromArray(S, dg, dgo + i);
                FloatVector s = FloatVector.broadcast(S, 1f).div(exp(a.neg()).add(1f));
                FloatVector silu = a.mul(s);
                // silu'(a) = s * (1 + a * (1 - s))
                FloatVector dsilu = s.mul(a.mul(s.neg().add(1f)).add(1f));
                d.mul(b).mul(dsilu).intoArray(dh, dho + i);
                d.mul(silu).intoArray(dh, dho + f + i);
            }
        }
        for (; i < f; i++) {
            float a = h[ho + i], b = h[ho + f + i], d = dg[dgo + i];
            float s = 1f / (1f + (float) Math.exp(-a));
            dh[dho + i] = d * b * (s * (1f + a * (1f - s)));
            dh[dho + f + i] = d * (a * s);
        }
    }

    /**
     * Cross-entropy of one row of logits against {@code target}: returns -log softmax(z)[target].
     * With {@code scale != 0} the row is replaced by its gradient (softmax - onehot) * scale.
     */
    static float crossEntropy(float[] z, int zo, int n, int target, float scale) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (!SCALAR) {
            FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i <= n - L; i += L) m = m.max(FloatVector.fromArray(S, z, zo + i));
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, z[zo + i]);
        float sum = 0;
        i = 0;
        if (!SCALAR) {
            FloatVector acc = FloatVector.zero(S);
            for (; i <= n - L; i += L) acc = acc.add(exp(FloatVector.fromArray(S, z, zo + i).sub(max)));
            sum = sum(acc);
        }
        for (; i < n; i++) sum += (float) Math.exp(z[zo + i] - max);
        float loss = (float) (Math.log(sum) + max - z[zo + target]);
        if (scale != 0f) {
            float inv = scale / sum;
            i = 0;
            if (!SCALAR) {
                for (; i <= n - L; i += L) {
                    exp(FloatVector.fromArray(S, z, zo + i).sub(max)).mul(inv).intoArray(z, zo + i);
                }
            }
            for (; i < n; i++) z[zo + i] = (float) Math.exp(z[zo + i] - max) * inv;
            z[zo + target] -= scale;
        }
        return loss;
    }

    /**
     * Rotary embedding on interleaved pairs of {@code heads} heads of size hd starting at x[xo], at the
     * position whose cos/sin rows start at cs; {@code inverse} rotates back (the backward pass).
     */
    static void rope(float[] x, int xo, int heads, int hd, float[] cos, float[] sin, int cs, boolean inverse) {
        float sign = inverse ? -1f : 1f;
        for (int h = 0; h < heads; h++) {
            int base = xo + h * hd;
            for (int i = 0; i < hd / 2; i++) {
                float c = cos[cs + i], s = sign * sin[cs + i], v0 = x[base + 2 * i], v1 = x[base + 2 * i + 1];
                x[base + 2 * i] = v0 * c - v1 * s;
                x[base + 2 * i + 1] = v0 * s + v1 * c;
            }
        }
    }

    /**
     * AdamW on [from, to) with gradient g * gs (gs: the clipping factor): m, v moments; p -= lr * (mhat / (sqrt(vhat) + eps) + wd * p), with the bias
     * corrections c1 = 1 - beta1^t and c2 = 1 - beta2^t.
     */
    static void adamw(float[] p, float[] g, float gs, float[] m, float[] v, int from, int to, float lr, float wd,
                      float b1, float b2, float eps, float c1, float c2) {
        int i = from;
        if (!SCALAR) {
            float ib1 = 1f - b1, ib2 = 1f - b2, ic1 = 1f / c1, ic2 = 1f / c2;
            for (; i <= to - L; i += L) {
                FloatVector gv = FloatVector.fromArray(S, g, i).mul(gs), pv = FloatVector.fromArray(S, p, i);
                FloatVector mv = FloatVector.fromArray(S, m, i).mul(b1).add(gv.mul(ib1));
                FloatVector vv = FloatVector.fromArray(S, v, i).mul(b2).add(gv.mul(gv).mul(ib2));
                mv.intoArray(m, i);
                vv.intoArray(v, i);
                FloatVector upd = mv.mul(ic1).div(vv.mul(ic2).lanewise(VectorOperators.SQRT).add(eps)).add(pv.mul(wd));
                pv.sub(upd.mul(lr)).intoArray(p, i);
            }
        }
        for (; i < to; i++) {
            float gi = g[i] * gs;
            m[i] = b1 * m[i] + (1f - b1) * gi;
            v[i] = b2 * v[i] + (1f - b2) * (gi * gi);
            float upd = (m[i] * (1f / c1)) / ((float) Math.sqrt(v[i] * (1f / c2)) + eps) + wd * p[i];
            p[i] -= lr * upd;
        }
    }
}
