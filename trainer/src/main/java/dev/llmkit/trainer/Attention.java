package dev.llmkit.trainer;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal multi-head attention with grouped key/value heads over the fused qkv rows
 * ({@code [q (nHeads*hd) | k (kvDim) | v (kvDim)]} per token, row length {@code qkvDim}), as GEMMs per
 * (sequence, kv group) on {@link Sgemm}: row blocks of {@link #BLOCK} queries only touch the keys they
 * can see. Probabilities are kept for the backward pass. Parallel over (sequence, kv group); each
 * output element is computed by one thread in a fixed order.
 */
final class Attention {
    /**
     * Queries per row block: whole micro-kernel blocks, and whole panels of keys with the machine's own kernel rows
     * (48 with 6-row kernels: a step 1.5-3% faster than 32 on a Zen 1; 80 with 5-row ones: tiny-preset training there
     * at 2,088 tokens/s with 80, 2,005 with 40 and 2,030 with 48, medians of 5, 5 and 3 runs, within the host's noise;
     * 48 with 12-row ones, four blocks, its keys whole 32-wide panels and a half one).
     */
    static final int BLOCK = Sgemm.MR == 8 ? 32 : Sgemm.MR == 6 || Sgemm.MR == 12 ? 48 : 80;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private final int nHeads, nKv, hd, dim, qkvDim, maxT;
    private final float scale;
    /**
     * Per thread: K^T and V^T packed as B panels [panels(T)][hd][NR]; K (or V), one query head and one head of
     * dy packed as B panels [panels(hd)][T][NR] (their rows lie qkvDim or dim floats apart in place); a dP block [T, T].
     */
    private final float[][] kPack, vPack, kvRows, qRows, dyRows, dP, aPack;

    /** Rotary tables [maxT, hd] (see {@link TrainKernels#rope}), shared with the model. */
    private final float[] cos, sin;

    /** Times the inner parts on each worker thread; null: no clock read. */
    StepProfile profile;

    Attention(int nHeads, int nKv, int hd, int maxT, int threads, float[] cos, float[] sin) {
        this.cos = cos;
        this.sin = sin;
        this.nHeads = nHeads;
        this.nKv = nKv;
        this.hd = hd;
        this.dim = nHeads * hd;
        this.qkvDim = dim + 2 * nKv * hd;
        this.maxT = maxT;
        this.scale = (float) (1.0 / Math.sqrt(hd));
        kPack = new float[threads][Sgemm.packedSize(maxT, hd)];
        vPack = new float[threads][Sgemm.packedSize(maxT, hd)];
        kvRows = new float[threads][Sgemm.packedSize(hd, maxT)];
        qRows = new float[threads][Sgemm.packedSize(hd, maxT)];
        dyRows = new float[threads][Sgemm.packedSize(hd, maxT)];
        dP = new float[threads][maxT * maxT];
        aPack = new float[threads][];
        for (int i = 0; i < threads; i++) aPack[i] = Sgemm.packScratch();
    }

    /**
     * y[b*T + t, h*hd ..] = softmax(q k^T * scale, causal) v; att [B, nHeads, T, T] keeps the probabilities.
     * {@code pos} [B*T] (null: 0, 1, ... in every sequence) is each token's position within its example:
     * rotary uses it, and a query at position p sees only the p + 1 keys ending at itself, so packed
     * examples never attend across their boundary.
     */
    void forward(Parallel par, float[] qkv, float[] att, float[] y, int b, int t, int[] pos) {
        par.chunks(b * nKv, 1, (part, from, to) -> {
            for (int bg = from; bg < to; bg++) forwardGroup(qkv, att, y, bg / nKv, bg % nKv, t, pos, part);
        });
    }

    /** Position of token i of sequence b. */
    private static int position(int[] pos, int b, int t, int i) {
        return pos == null ? i : pos[b * t + i];
    }

    private void forwardGroup(float[] qkv, float[] att, float[] y, int b, int g, int t, int[] pos, int part) {
        int rows = b * t * qkvDim, kOff = rows + dim + g * hd, vOff = kOff + nKv * hd;
        StepProfile prof = profile;
        long t0 = prof == null ? 0 : System.nanoTime();
        rotate(qkv, rows, g, b, t, pos, false);
        float[] kp = kPack[part], vr = kvRows[part];
        Sgemm.packTransposed(qkv, kOff, qkvDim, t, hd, kp, 0, Sgemm.panels(t));
        Sgemm.packPanels(qkv, vOff, qkvDim, t, hd, vr);
        if (prof != null) t0 = prof.attention(part, StepProfile.ROTARY, t0);
        for (int h = g * (nHeads / nKv); h < (g + 1) * (nHeads / nKv); h++) {
            int a0 = (b * nHeads + h) * t * t, qOff = rows + h * hd;
            for (int i0 = 0; i0 < t; i0 += BLOCK) {
                int i1 = Math.min(t, i0 + BLOCK);
                // 1. scores for queries [i0, i1) against keys [0, i1)
                Sgemm.rows(i0, i1, i1, hd, qkv, qOff, qkvDim, 1, kp, 0, Sgemm.NR, hd * Sgemm.NR, att, a0, t, false, aPack[part]);
                if (prof != null) t0 = prof.attention(part, StepProfile.SCORES, t0);
                // 2. causal softmax; probabilities beyond the query are zero up to the block end
                for (int i = i0; i < i1; i++) softmaxRow(att, a0 + i * t, i - position(pos, b, t, i), i + 1, i1);
                if (prof != null) t0 = prof.attention(part, StepProfile.SOFTMAX, t0);
                // 3. y = P v over the visible keys
                Sgemm.rows(i0, i1, hd, i1, att, a0, t, 1, vr, 0, Sgemm.NR, t * Sgemm.NR, y, b * t * dim + h * hd, dim, false);
                if (prof != null) t0 = prof.attention(part, StepProfile.PV, t0);
            }
        }
    }

    /**
     * Softmax of s[off+from .. off+n) * scale in place, zeros in [0, from) and [n, end). The scores in [n, end) (keys
     * past the query, within its block) are finite, so a row's last partial vector runs whole where it fits before end:
     * past n, the max sees -inf and exp writes zeros.
     */
    private void softmaxRow(float[] s, int off, int from, int n, int end) {
        for (int j = 0; j < from; j++) s[off + j] = 0f;
        off += from;
        n -= from;
        end -= from;
        int i = 0, limit = TrainKernels.vectorEnd(n, end);
        float max = Float.NEGATIVE_INFINITY;
        if (!TrainKernels.SCALAR) {
            FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i <= n - L; i += L) m = m.max(FloatVector.fromArray(S, s, off + i));
            if (limit > n) {     // lanes past n hidden: min with -inf
                m = m.max(FloatVector.fromArray(S, s, off + i).min(FloatVector.fromArray(S, TrainKernels.BELOW, L - (n - i))));
                i = n;
            }
            max = m.reduceLanes(VectorOperators.MAX);     // max is exact in any order
        }
        for (; i < n; i++) max = Math.max(max, s[off + i]);
        float sum = TrainKernels.exp(s, off, s, off, n, end, max, scale);
        float inv = 1f / sum;
        i = 0;
        if (!TrainKernels.SCALAR) for (; i < limit; i += L) FloatVector.fromArray(S, s, off + i).mul(inv).intoArray(s, off + i);     // zeros past n stay zeros
        for (; i < n; i++) s[off + i] *= inv;
        for (int j = Math.max(n, i); j < end; j++) s[off + j] = 0f;
    }

    /**
     * dS = P (dP - sum_j P dP) * scale over [0, n) of one row, zeros in [n, end). P is zero in [n, end) and dP finite there,
     * so a row's last partial vector runs whole where it fits before end (its lanes past n add zeros to the sum).
     */
    private void softmaxBackwardRow(float[] p, int po, float[] d, int dOff, int n, int end) {
        int limit = TrainKernels.SCALAR ? n : Math.max(n, TrainKernels.vectorEnd(n, end));
        float dot = TrainKernels.dot(p, po, d, dOff, limit);
        int j = 0;
        if (!TrainKernels.SCALAR) {
            for (; j < limit - L + 1; j += L) {
                FloatVector.fromArray(S, p, po + j).mul(FloatVector.fromArray(S, d, dOff + j).sub(dot)).mul(scale).intoArray(d, dOff + j);
            }
        }
        for (; j < n; j++) d[dOff + j] = p[po + j] * (d[dOff + j] - dot) * scale;
        for (j = n; j < end; j++) d[dOff + j] = 0f;
    }

    /**
     * Gradients of q, k, v (written, not added, into dqkv) from dy [B*T, dim]. Probabilities outside
     * an example are zero, so its softmax backward gives them no gradient.
     */
    void backward(Parallel par, float[] qkv, float[] att, float[] dy, float[] dqkv, int b, int t, int[] pos) {
        par.chunks(b * nKv, 1, (part, from, to) -> {
            for (int bg = from; bg < to; bg++) backwardGroup(qkv, att, dy, dqkv, bg / nKv, bg % nKv, t, pos, part);
        });
    }

    private void backwardGroup(float[] qkv, float[] att, float[] dy, float[] dqkv, int b, int g, int t, int[] pos, int part) {
        int rows = b * t * qkvDim, kOff = rows + dim + g * hd, vOff = kOff + nKv * hd;
        float[] vp = vPack[part], ds = dP[part], kr = kvRows[part], qr = qRows[part], dr = dyRows[part];
        StepProfile prof = profile;
        long t0 = prof == null ? 0 : System.nanoTime();
        Sgemm.packTransposed(qkv, vOff, qkvDim, t, hd, vp, 0, Sgemm.panels(t));
        Sgemm.packPanels(qkv, kOff, qkvDim, t, hd, kr);
        int first = g * (nHeads / nKv);
        for (int h = first; h < first + nHeads / nKv; h++) {
            int a0 = (b * nHeads + h) * t * t, qOff = rows + h * hd, dyOff = b * t * dim + h * hd;
            boolean acc = h != first;
            Sgemm.packPanels(qkv, qOff, qkvDim, t, hd, qr);
            Sgemm.packPanels(dy, dyOff, dim, t, hd, dr);
            if (prof != null) t0 = prof.attention(part, StepProfile.ROTARY, t0);
            for (int i0 = 0; i0 < t; i0 += BLOCK) {
                int i1 = Math.min(t, i0 + BLOCK);
                // 1. dP = dy v^T for the visible keys
                Sgemm.rows(i0, i1, i1, hd, dy, dyOff, dim, 1, vp, 0, Sgemm.NR, hd * Sgemm.NR, ds, 0, t, false, aPack[part]);
                if (prof != null) t0 = prof.attention(part, StepProfile.DP, t0);
                // 2. dS = P (dP - sum_j P dP) * scale, zero past the query
                for (int i = i0; i < i1; i++) softmaxBackwardRow(att, a0 + i * t, ds, i * t, i + 1, i1);
                if (prof != null) t0 = prof.attention(part, StepProfile.SOFTMAX_BACK, t0);
                // 3. dq = dS k
                Sgemm.rows(i0, i1, hd, i1, ds, 0, t, 1, kr, 0, Sgemm.NR, t * Sgemm.NR, dqkv, qOff, qkvDim, false);
                if (prof != null) t0 = prof.attention(part, StepProfile.DQ, t0);
            }
            // 4. dk += dS^T q and dv += P^T dy, key blocks [j0, j1) against the queries that see them
            for (int j0 = 0; j0 < t; j0 += BLOCK) {
                int j1 = Math.min(t, j0 + BLOCK);
                Sgemm.rows(j0, j1, hd, t - j0, ds, j0 * t, 1, t, qr, j0 * Sgemm.NR, Sgemm.NR, t * Sgemm.NR, dqkv, kOff, qkvDim, acc);
                Sgemm.rows(j0, j1, hd, t - j0, att, a0 + j0 * t, 1, t, dr, j0 * Sgemm.NR, Sgemm.NR, t * Sgemm.NR, dqkv, vOff, qkvDim, acc);
            }
            if (prof != null) t0 = prof.attention(part, StepProfile.DKV, t0);
        }
        rotate(dqkv, rows, g, b, t, pos, true);
        if (prof != null) prof.attention(part, StepProfile.ROTARY, t0);
    }

    /**
     * Rotary embedding of sequence rows [rows, rows + t * qkvDim) for kv group g: its query heads and
     * its key head, at each token's position; {@code inverse} rotates gradients back.
     */
    private void rotate(float[] x, int rows, int g, int b, int t, int[] pos, boolean inverse) {
        int per = nHeads / nKv;
        for (int i = 0; i < t; i++) {
            int r = rows + i * qkvDim, cs = position(pos, b, t, i) * hd;
            TrainKernels.rope(x, r + g * per * hd, per, hd, cos, sin, cs, inverse);
            TrainKernels.rope(x, r + dim + g * hd, 1, hd, cos, sin, cs, inverse);
        }
    }
}
