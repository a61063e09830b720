package dev.llmkit.trainer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
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

    private static final float ROUND = 12582912f, LOG2E = 1.44269504f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;

    /*
     * Two rules keep training bitwise reproducible (the same bits whether code runs interpreted or
     * compiled, so a resumed run equals an uninterrupted one):
     *  - no reduceLanes(ADD), whose order differs between the two: a sum keeps one vector of partial
     *    sums (lane j adds elements j, j + L, ...), then adds its lanes in index order, then a scalar tail
     *    (exp adds its last, partial vector's results to the lanes' partial sums instead);
     *  - no lanewise(EXP), which C2 turns into a library call: exp is the polynomial below.
     * Vectors never cross a method call (a call C2 declines to inline would box them on the heap).
     */

    /**
     * dst[i] = e^((src[i] - shift) * scale) for i < n: Cody-Waite reduction and a degree-6 polynomial in fused multiply-adds
     * (within 2 ulp of Math.exp), the argument clamped to [-87, 88]; NaN stays NaN. src may be dst. A row's
     * last, partial vector runs the same polynomial lane by lane (their tails were scalar Math.exp calls; attention's
     * rows, which have room past n, run it as a whole vector instead: the overload with {@code end}).
     * Returns the sum of the n results (see the rules above for its order).
     */
    static float exp(float[] src, int so, float[] dst, int dOff, int n, float shift, float scale) {
        return exp(src, so, dst, dOff, n, n, shift, scale);
    }

    /**
     * {@link #exp(float[], int, float[], int, int, float, float)} where the row has room past n: src[so + n, so + end)
     * may be read (finite values) and dst[dOff + n, dOff + end) overwritten. A last partial vector that fits within end
     * then runs as a whole vector whose lanes past n are multiplied by zero, rather than lane by lane: the same results
     * and the same sum, bit for bit (each lane's partial sum gains +0). Attention's softmax rows (keys up to the end of
     * their query block) have that room, and their tails were 3-10 of every row's values.
     */
    static float exp(float[] src, int so, float[] dst, int dOff, int n, int end, float shift, float scale) {
        if (!SCALAR) {
            FloatVector acc = FloatVector.zero(S);
            int i = 0, limit = vectorEnd(n, end);
            for (; i < limit; i += L) {
                FloatVector e = expVector(FloatVector.fromArray(S, src, so + i).sub(shift).mul(scale));
                if (i + L > n) e = e.mul(FloatVector.fromArray(S, KEEP, L - (n - i)));     // the lanes past n: zero
                e.intoArray(dst, dOff + i);
                acc = acc.add(e);
            }
            // the last, partial vector lane by lane, the same operations in the same order, each result added to its
            // lane's partial sum (as a masked vector would: masked operations run in the Vector API's slow Java
            // fallback on AVX2, which has no mask registers), then the lanes summed in index order
            float[] lanes = LANES.get();
            acc.intoArray(lanes, 0);
            for (int j = 0; i + j < n; j++) {
                float e = expLane(src[so + i + j], shift, scale);
                dst[dOff + i + j] = e;
                lanes[j] += e;
            }
            return sumInOrder(lanes);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(Math.max(-87f, Math.min(88f, (src[so + i] - shift) * scale)));
            dst[dOff + i] = e;
            sum += e;
        }
        return sum;
    }

    /**
     * e^x lane by lane, x clamped to [-87, 88]: {@link #exp}'s polynomial, which {@link #swiglu} and its backward run
     * inside their own loops (one pass over a row instead of exp's, then theirs). Small enough that C2 inlines it
     * wherever it is hot, so the vectors stay in registers (the one exception to the rule above): a version choosing
     * between two bodies by a flag was not inlined, and the tiny preset's SwiGLU and cross-entropy ran twice as long.
     * The reduction and the polynomial are fused multiply-adds, one rounding each (Math.fma's bits, interpreted or
     * compiled): 0.42 -> 0.29 ns per value on a Zen 5 core, the tiny preset's cross-entropy 6.8-7.4 -> 5.6-6.1 ms
     * per step, SwiGLU's backward 6.9-8.5 -> 5.3-5.7, its forward 3.6-3.9 -> 3.0-3.6 (3 alternating profiled runs).
     */
    private static FloatVector expVector(FloatVector v) {
        FloatVector x = v.max(-87f).min(88f);
        // k = x log2(e) rounded to nearest (|r| <= ln2 / 2), kept as k + ROUND, whose bits are 0x4B400000 + k
        FloatVector kr = x.fma(LOG2E, ROUND), k = kr.sub(ROUND);
        FloatVector r = k.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = k.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(1.3888889e-3f, 8.3333333e-3f);
        p = p.fma(r, FloatVector.broadcast(S, 4.1666667e-2f));
        p = p.fma(r, FloatVector.broadcast(S, 1.6666667e-1f));
        p = p.fma(r, FloatVector.broadcast(S, 0.5f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        FloatVector two = kr.reinterpretAsInts().sub(0x4B400000 - 127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(two);
    }

    /** e^-v as {@link #exp} computes it for one value: its polynomial lane by lane, or with -Dllmkit.scalar=true Math.exp. */
    private static float expNeg(float v) {
        return SCALAR ? (float) Math.exp(Math.max(-87f, Math.min(88f, (v - 0f) * -1f))) : expLane(v, 0f, -1f);
    }

    /**
     * Where a vector loop over a row's n values ends when the row has room up to end: past n, at the end of a last partial
     * vector that fits before end, or else at n's last whole vector (the rest then runs lane by lane).
     */
    static int vectorEnd(int n, int end) {
        int whole = n / L * L;
        return whole < n && whole + L <= end ? whole + L : whole;
    }

    /** L ones, then L zeros: from offset L - r, a vector whose first r lanes are 1 and the rest 0. */
    static final float[] KEEP = new float[2 * L];

    /** L values +inf, then L values -inf: from offset L - r, a vector whose first r lanes are +inf and the rest -inf (a min with it hides lanes from a max). */
    static final float[] BELOW = new float[2 * L];

    static {
        java.util.Arrays.fill(KEEP, 0, L, 1f);
        java.util.Arrays.fill(BELOW, 0, L, Float.POSITIVE_INFINITY);
        java.util.Arrays.fill(BELOW, L, 2 * L, Float.NEGATIVE_INFINITY);
    }

    /** Per thread: a vector's lanes, to be summed in index order by {@link #sumInOrder}. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    /**
     * 0 + the L lanes in index order, from an array: a loop over a vector's {@code lane(j)} with a variable index went
     * through a helper that spilled the vector to memory (4% of a tiny preset's training step on an AVX-512 Xeon, in the
     * rows' ends of exp alone), and a method that took the vector, with constant indices, was too big for C2 to inline
     * at exp's ends, which then boxed the vector on the heap.
     */
    private static float sumInOrder(float[] lanes) {
        float s = 0f;
        for (int j = 0; j < L; j++) s += lanes[j];
        return s;
    }

    /** One lane of {@link #exp}'s vector loop, operation for operation (so bit for bit). */
    private static float expLane(float v, float shift, float scale) {
        float x = Math.min(Math.max((v - shift) * scale, -87f), 88f);
        float kr = Math.fma(x, LOG2E, ROUND), k = kr - ROUND;
        float r = Math.fma(k, -LN2_HI, x);
        r = Math.fma(k, -LN2_LO, r);
        float p = Math.fma(r, 1.3888889e-3f, 8.3333333e-3f);
        p = Math.fma(p, r, 4.1666667e-2f);
        p = Math.fma(p, r, 1.6666667e-1f);
        p = Math.fma(p, r, 0.5f);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        float two = Float.intBitsToFloat((Float.floatToRawIntBits(kr) - (0x4B400000 - 127)) << 23);
        return p * two;
    }

    /** The sum of a[ao + i] * b[bo + i] for i < n (see the rules above for its order). */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float sum = 0f;
        if (!SCALAR) {
            FloatVector acc = FloatVector.zero(S);
            for (; i <= n - L; i += L) acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            float[] lanes = LANES.get();
            acc.intoArray(lanes, 0);
            sum = sumInOrder(lanes);
        }
        for (; i < n; i++) sum += a[ao + i] * b[bo + i];
        return sum;
    }

    /** out = x * rstd * g over n values; returns rstd = 1 / sqrt(mean(x^2) + eps). */
    static float rmsnorm(float[] x, int xo, float[] g, int go, float[] out, int oo, int n, float eps) {
        float ss = dot(x, xo, x, xo, n);
        float rstd = (float) (1.0 / Math.sqrt(ss / n + eps));
        int i = 0;
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
                acc = FloatVector.fromArray(S, dout, doo + i).mul(FloatVector.fromArray(S, g, go + i)).fma(FloatVector.fromArray(S, x, xo + i), acc);
            }
            float[] lanes = LANES.get();
            acc.intoArray(lanes, 0);
            dot = sumInOrder(lanes);
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

    /** dst[d + i] += src[so + i] for i < n. */
    static void addInto(float[] src, int so, float[] dst, int d, int n) {
        int i = 0;
        if (!SCALAR) {
            for (; i <= n - L; i += L) FloatVector.fromArray(S, dst, d + i).add(FloatVector.fromArray(S, src, so + i)).intoArray(dst, d + i);
        }
        for (; i < n; i++) dst[d + i] += src[so + i];
    }

    /** g[i] = silu(h[i]) * h[f + i] for i < f: the gate and up halves of one row of h = x [w1|w3]^T. */
    static void swiglu(float[] h, int ho, float[] g, int go, int f) {
        int i = 0;
        if (!SCALAR) {
            for (; i <= f - L; i += L) {
                FloatVector a = FloatVector.fromArray(S, h, ho + i), b = FloatVector.fromArray(S, h, ho + f + i);
                a.div(expVector(a.neg()).add(1f)).mul(b).intoArray(g, go + i);
            }
        }
        for (; i < f; i++) g[go + i] = h[ho + i] / (1f + expNeg(h[ho + i])) * h[ho + f + i];
    }

    /** Backward of {@link #swiglu}: dh[i] = dg * h3 * silu'(h1), dh[f + i] = dg * silu(h1). */
    static void swigluBackward(float[] dg, int dgo, float[] h, int ho, float[] dh, int dho, int f) {
        int i = 0;
        if (!SCALAR) {
            for (; i <= f - L; i += L) {
                FloatVector a = FloatVector.fromArray(S, h, ho + i), b = FloatVector.fromArray(S, h, ho + f + i);
                FloatVector d = FloatVector.fromArray(S, dg, dgo + i);
                FloatVector s = FloatVector.broadcast(S, 1f).div(expVector(a.neg()).add(1f));
                // silu'(a) = s * (1 + a * (1 - s))
                d.mul(a.mul(s)).intoArray(dh, dho + f + i);
                d.mul(b).mul(s.mul(a.mul(s.neg().add(1f)).add(1f))).intoArray(dh, dho + i);
            }
        }
        for (; i < f; i++) {
            float a = h[ho + i], b = h[ho + f + i], d = dg[dgo + i];
            float s = 1f / (1f + expNeg(a));
            dh[dho + f + i] = d * (a * s);
            dh[dho + i] = d * b * (s * (1f + a * (1f - s)));
        }
    }

    /**
     * Cross-entropy of one row of logits against {@code target}: returns -log softmax(z)[target].
     * The row is overwritten: with {@code scale != 0} by its gradient (softmax - onehot) * scale.
     */
    static float crossEntropy(float[] z, int zo, int n, int target, float scale) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (!SCALAR) {
            FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i <= n - L; i += L) m = m.max(FloatVector.fromArray(S, z, zo + i));
            max = m.reduceLanes(VectorOperators.MAX);     // exact in any order
        }
        for (; i < n; i++) max = Math.max(max, z[zo + i]);
        float zt = z[zo + target];
        float sum = exp(z, zo, z, zo, n, max, 1f);
        float loss = (float) (Math.log(sum) + max - zt);
        if (scale != 0f) {
            float inv = scale / sum;
            i = 0;
            if (!SCALAR) for (; i <= n - L; i += L) FloatVector.fromArray(S, z, zo + i).mul(inv).intoArray(z, zo + i);
            for (; i < n; i++) z[zo + i] *= inv;
            z[zo + target] -= scale;
        }
        return loss;
    }

    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(S, i -> i ^ 1);

    /**
     * Rotary embedding on interleaved pairs of {@code heads} heads of size hd starting at x[xo]:
     * x = x * cos + sign * swap(x) * sin with per-position tables of hd values, cos = (c, c, ...) and
     * sin = (-s, s, ...) from row cs; {@code inverse} (sign -1) rotates back (the backward pass).
     */
    static void rope(float[] x, int xo, int heads, int hd, float[] cos, float[] sin, int cs, boolean inverse) {
        float sign = inverse ? -1f : 1f;
        for (int h = 0; h < heads; h++) {
            int base = xo + h * hd, j = 0;
            if (!SCALAR) {
                for (; j <= hd - L; j += L) {
                    FloatVector v = FloatVector.fromArray(S, x, base + j);
                    FloatVector swapped = v.rearrange(SWAP_PAIRS).mul(FloatVector.fromArray(S, sin, cs + j)).mul(sign);
                    v.mul(FloatVector.fromArray(S, cos, cs + j)).add(swapped).intoArray(x, base + j);
                }
            }
            for (; j < hd; j += 2) {
                float v0 = x[base + j], v1 = x[base + j + 1];
                x[base + j] = v0 * cos[cs + j] + v1 * sin[cs + j] * sign;
                x[base + j + 1] = v1 * cos[cs + j + 1] + v0 * sin[cs + j + 1] * sign;
            }
        }
    }

    /**
     * AdamW on p[from, to) with gradient g * gs (gs: the clipping factor); g, m and v are indexed i - shift; p -= lr * (mhat / (sqrt(vhat) + eps) + wd * p), with the bias
     * corrections c1 = 1 - beta1^t and c2 = 1 - beta2^t.
     */
    static void adamw(float[] p, float[] g, float gs, float[] m, float[] v, int shift, int from, int to, float lr, float wd,
                      float b1, float b2, float eps, float c1, float c2) {
        int i = from;
        if (!SCALAR) {
            float ib1 = 1f - b1, ib2 = 1f - b2, ic1 = 1f / c1, ic2 = 1f / c2;
            for (; i <= to - L; i += L) {
                FloatVector gv = FloatVector.fromArray(S, g, i - shift).mul(gs), pv = FloatVector.fromArray(S, p, i);
                FloatVector mv = FloatVector.fromArray(S, m, i - shift).mul(b1).add(gv.mul(ib1));
                FloatVector vv = FloatVector.fromArray(S, v, i - shift).mul(b2).add(gv.mul(gv).mul(ib2));
                mv.intoArray(m, i - shift);
                vv.intoArray(v, i - shift);
                FloatVector upd = mv.mul(ic1).div(vv.mul(ic2).lanewise(VectorOperators.SQRT).add(eps)).add(pv.mul(wd));
                pv.sub(upd.mul(lr)).intoArray(p, i);
            }
        }
        for (; i < to; i++) {
            int j = i - shift;
            float gi = g[j] * gs;
            m[j] = b1 * m[j] + (1f - b1) * gi;
            v[j] = b2 * v[j] + (1f - b2) * (gi * gi);
            float upd = (m[j] * (1f / c1)) / ((float) Math.sqrt(v[j] * (1f / c2)) + eps) + wd * p[i];
            p[i] -= lr * upd;
        }
    }
}
