package dev.llmkit.trainer;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import dev.llmkit.core.model.ModelConfig;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The adapters' part of the training forward and backward passes: for target W [out, in] of layer l,
 * {@code y += s * (x * mask) A^T B^T} with s = alpha / rank, and its gradients
 * {@code dB += s * dy^T h}, {@code dA += (s * dy B)^T (x * mask)}, {@code dx += (s * dy B) A * mask},
 * where h = (x * mask) A^T is kept from the forward pass and mask is dropout's (0 or 1 / (1 - p),
 * drawn from the batch's noise seed, so a resumed run draws the same masks). Outputs and inputs are
 * column slices of the layer's activations (row strides given). The products with wide outputs run on
 * {@link Sgemm}, the rank-r ones (x A^T, dy s B) as row dot products; each element is computed by one
 * thread in a fixed order, so results do not depend on the thread count.
 */
final class Lora {
    private final ParamLayout layout;
    private final ModelConfig c;
    private final Parallel par;
    private final int r, shift;                           // grad[i - shift] is parameter i's gradient (the trainable range)
    private final float s, dropout;
    private final float[][][] h;                          // [L][target][BT, r]
    private final long[][][] kept;                        // [L][target] dropout's mask, one bit per input element, rows on whole words (dropout only)
    private final float[][][] bt;                         // [L][target] s * B^T [r, out], refreshed per pass
    private final float[] dh, xd, tmpB, tmpA, dxs;        // scratch: [BT, r], [BT, maxIn] (dropout), [r, maxOut], [r, maxIn], [BT, maxIn] (dropout)
    private final float[][] scratch;

    Lora(ParamLayout layout, int maxRows, Parallel par) {
        this.layout = layout;
        this.c = layout.c;
        this.par = par;
        this.r = layout.lora.rank();
        this.shift = layout.trainFrom;
        this.s = (float) layout.lora.scale();
        this.dropout = (float) layout.lora.dropout();
        int n = c.nLayers(), nt = ParamLayout.Target.values().length, maxIn = Math.max(c.dim(), c.hiddenDim());
        h = new float[n][nt][];
        kept = new long[n][nt][];
        bt = new float[n][nt][];
        for (int l = 0; l < n; l++) {
            for (ParamLayout.Target t : ParamLayout.Target.values()) {
                if (layout.loraA[l][t.ordinal()] < 0) continue;
                h[l][t.ordinal()] = new float[maxRows * r];
                if (dropout > 0) kept[l][t.ordinal()] = new long[maxRows * words(t.in(c))];
                bt[l][t.ordinal()] = new float[r * t.out(c)];
            }
        }
        dh = new float[maxRows * r];
        xd = dropout > 0 ? new float[maxRows * maxIn] : null;     // the dropped-out input, only with dropout
        dxs = dropout > 0 ? new float[maxRows * maxIn] : null;
        tmpB = new float[maxIn * r];
        tmpA = new float[r * maxIn];
        scratch = new float[par.threads()][];
        for (int i = 0; i < scratch.length; i++) scratch[i] = Sgemm.packScratch();
    }

    boolean has(int l, ParamLayout.Target t) {
        return layout.loraA[l][t.ordinal()] >= 0;
    }

    /** s * B^T of every adapter (the weights changed since the last pass). */
    void prepare(float[] p) {
        for (int l = 0; l < c.nLayers(); l++) {
            for (ParamLayout.Target t : ParamLayout.Target.values()) {
                if (!has(l, t)) continue;
                int out = t.out(c), b = layout.loraB[l][t.ordinal()];
                float[] tb = bt[l][t.ordinal()];
                for (int o = 0; o < out; o++) for (int i = 0; i < r; i++) tb[i * out + o] = s * p[b + o * r + i];
            }
        }
    }

    /** y[rows, slice] += s * (x * mask) A^T B^T; draws the dropout mask when training. */
    void forward(int l, ParamLayout.Target t, float[] x, int ldx, float[] y, int yOff, int ldy, int rows, boolean training, long noise, float[] p) {
        int in = t.in(c), out = t.out(c), k = t.ordinal(), a = layout.loraA[l][k];
        float[] hl = h[l][k];
        if (training && dropout > 0) {
            long[] m = kept[l][k];
            long seed = noise ^ (0x9E3779B97F4A7C15L * (l * 16L + k + 1));
            int drop = (int) Math.round(dropout * 65536.0);     // p in steps of 1/65536: four draws per random long
            float keep = 1f / (1f - dropout);
            // row by row the mask, the dropped-out input and h = (x * mask) A^T, while the row is in cache, rather than three
            // passes over rows x in floats
            par.chunks(rows, TrainModel.ROW_GRAIN, (r0, r1) -> {
                for (int row = r0; row < r1; row++) {
                    int w0 = row * words(in);
                    drawMask(m, w0, in, seed + row * 0xBF58476D1CE4E5B9L, drop);     // the row's own generator: the same bits on any thread count
                    keptRow(x, row * ldx, m, w0, in, keep, xd, row * in);
                    rankRow(xd, row * in, p, a, in, hl, row);
                }
            });
        } else {
            rank(rows, in, x, 0, ldx, p, a, hl);     // h = x A^T
        }
        gemm(rows, out, r, hl, 0, r, 1, bt[l][k], 0, out, y, yOff, ldy, true);
    }

    /**
     * Gradients of the adapter of (l, t) into grad (the trainable range: parameter i at grad[i - trainFrom]),
     * and dx[rows, in] += its input gradient. {@code dy} is the
     * gradient of the layer's output slice, {@code x} the input the forward pass saw.
     */
    void backward(int l, ParamLayout.Target t, float[] dy, int dyOff, int ldy, float[] x, int ldx, float[] dx, int ldDx,
                  float[] p, float[] grad, int rows) {
        int in = t.in(c), out = t.out(c), k = t.ordinal(), a = layout.loraA[l][k], b = layout.loraB[l][k];
        float[] hl = h[l][k];
        long[] m = kept[l][k];
        // 1. dB += s * dy^T h, as (dB)^T [r, out] = h^T dy: r rows against wide columns
        wide(out, rows, hl, dy, dyOff, ldy, tmpB);
        for (int o = 0; o < out; o++) for (int i = 0; i < r; i++) grad[b - shift + o * r + i] += s * tmpB[i * out + o];
        // 2. dh = dy (s B), with s B^T [r, out] from prepare()
        rank(rows, out, dy, dyOff, ldy, bt[l][k], 0, dh);
        // 3. dA += dh^T (x * mask)
        float[] input = x;
        int ld = ldx;
        if (m != null) {
            masked(x, ldx, m, rows, in, xd);
            input = xd;
            ld = in;
        }
        wide(in, rows, dh, input, 0, ld, tmpA);
        TrainKernels.addInto(tmpA, 0, grad, a - shift, r * in);
        // 4. dx += (dh A) * mask
        if (m == null) {
            gemm(rows, in, r, dh, 0, r, 1, p, a, in, dx, 0, ldDx, true);
        } else {
            // dh A into rows of dxs and at once, while they are in cache, the kept ones added to dx
            float keep = 1f / (1f - dropout);
            par.chunks((rows + Sgemm.MR - 1) / Sgemm.MR, JavaMatMul.grain(in * r), (part, b0, b1) -> {
                int i0 = b0 * Sgemm.MR, i1 = Math.min(rows, b1 * Sgemm.MR);
                Sgemm.rows(i0, i1, in, r, dh, 0, r, 1, p, a, in, Sgemm.NR, dxs, 0, in, false, scratch[part]);
                for (int row = i0; row < i1; row++) addKept(dxs, row * in, m, row * words(in), in, keep, dx, row * ldDx);
            });
        }
    }

    /** out[row, j] = x[row, j] / (1 - p) where the mask keeps it, else 0. */
    private void masked(float[] x, int ldx, long[] m, int rows, int in, float[] out) {
        float keep = 1f / (1f - dropout);
        par.chunks(rows, TrainModel.ROW_GRAIN, (r0, r1) -> {
            for (int row = r0; row < r1; row++) keptRow(x, row * ldx, m, row * words(in), in, keep, out, row * in);
        });
    }

    /** Words of a mask row of n bits (rows start on whole words, so threads never share a word). */
    private static int words(int n) {
        return (n + 63) >>> 6;
    }

    /**
     * Draws one row's dropout mask into m[w0 ..] (in bits, the rest of the last word zero): element j is kept when the
     * 16-bit draw (j % 4) of the row generator's long j / 4 is at least {@code drop} (p in steps of 1/65536). The generator
     * is {@link SplittableRandom}'s, seeded with rowSeed: long q is mix64(rowSeed + (q + 1) * gamma), computed here in
     * place, four mask bits a long without a branch. With a SplittableRandom and a branch per element, and the masking in
     * passes of its own, LoRA with dropout ran at 0.82x of pre-training's tokens/s, now 1.18x (README, finetune bench).
     * LoraMaskTest checks the bits against SplittableRandom's.
     */
    static void drawMask(long[] m, int w0, int in, long rowSeed, int drop) {
        long z0 = rowSeed;
        for (int w = 0, j = 0; j < in; w++) {
            long word = 0;
            for (int shift = 0; shift < 64 && j < in; shift += 4, j += 4) {
                long z = mix64(z0 += GOLDEN_GAMMA);
                long nib = ((int) (z & 0xFFFF) >= drop ? 1L : 0L) | ((int) (z >>> 16 & 0xFFFF) >= drop ? 2L : 0L)
                        | ((int) (z >>> 32 & 0xFFFF) >= drop ? 4L : 0L) | ((int) (z >>> 48) >= drop ? 8L : 0L);
                word |= nib << shift;
            }
            int bits = Math.min(64, in - 64 * w);
            m[w0 + w] = bits == 64 ? word : word & ((1L << bits) - 1);
        }
    }

    /** out[o + j] = x[xo + j] * keep where the mask (words from m[w0]) keeps element j, else 0, for j in [0, in). */
    static void keptRow(float[] x, int xo, long[] m, int w0, int in, float keep, float[] out, int o) {
        int j = 0;
        if (!TrainKernels.SCALAR) {
            FloatVector zero = FloatVector.zero(S);
            for (; j <= in - L; j += L) zero.blend(FloatVector.fromArray(S, x, xo + j).mul(keep), lanes(m, w0, j)).intoArray(out, o + j);
        }
        for (; j < in; j++) out[o + j] = kept(m, w0, j) ? x[xo + j] * keep : 0f;
    }

    /** dst[d + j] += src[so + j] * keep where the mask (words from m[w0]) keeps element j, for j in [0, in). */
    static void addKept(float[] src, int so, long[] m, int w0, int in, float keep, float[] dst, int d) {
        int j = 0;
        if (!TrainKernels.SCALAR) {
            for (; j <= in - L; j += L) FloatVector.fromArray(S, dst, d + j).add(FloatVector.fromArray(S, src, so + j).mul(keep), lanes(m, w0, j)).intoArray(dst, d + j);
        }
        for (; j < in; j++) if (kept(m, w0, j)) dst[d + j] += src[so + j] * keep;
    }

    /** {@link SplittableRandom}'s seed increment. */
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    /** {@link SplittableRandom}'s output function (Stafford's mix 13). */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /** The mask's lanes for elements [j, j + L) of a row whose words start at w0 (j a multiple of L: within one word). */
    private static VectorMask<Float> lanes(long[] m, int w0, int j) {
        return VectorMask.fromLong(S, m[w0 + (j >>> 6)] >>> (j & 63));
    }

    /** Whether the mask keeps element j of a row whose words start at w0. */
    static boolean kept(long[] m, int w0, int j) {
        return (m[w0 + (j >>> 6)] >>> j & 1L) != 0;
    }

    /**
     * out[row, i] = sum_j x[xOff + row ldx + j] m[mOff + i n + j] for rows x r: the rank-r products (x A^T, dy (s B))
     * whose r output columns are too few for {@link Sgemm}'s 32-column panels. Rows split over threads; each sum
     * runs in a fixed order (vector lanes, then the lanes in index order), so results do not depend on the threads.
     */
    private void rank(int rows, int n, float[] x, int xOff, int ldx, float[] m, int mOff, float[] out) {
        par.chunks(rows, TrainModel.ROW_GRAIN, (r0, r1) -> {
            for (int row = r0; row < r1; row++) rankRow(x, xOff + row * ldx, m, mOff, n, out, row);
        });
    }

    /** out[row, i] = sum_j x[xo + j] m[mOff + i n + j] for i in [0, r): one row of {@link #rank}. */
    private void rankRow(float[] x, int xo, float[] m, int mOff, int n, float[] out, int row) {
        for (int i = 0; i < r; i++) out[row * r + i] = TrainKernels.dot(x, xo, m, mOff + i * n, n);
    }

    /**
     * C[r, n] = H^T X for H [rows, r] and X [rows, n] (row stride ldx): r rows of output against wide columns,
     * the columns split over threads in whole panels (each element computed by one thread, in a fixed order).
     */
    private void wide(int n, int rows, float[] hm, float[] x, int xOff, int ldx, float[] cm) {
        int panels = Sgemm.panels(n);
        par.chunks(panels, 1, (part, p0, p1) -> {
            int c0 = p0 * Sgemm.NR, c1 = Math.min(n, p1 * Sgemm.NR);
            if (c1 > c0) Sgemm.rows(0, r, c1 - c0, rows, hm, 0, 1, r, x, xOff + c0, ldx, Sgemm.NR, cm, c0, n, false, scratch[part]);
        });
    }

    /** C[m, n] (+)= A B with A(i, p) = a[aOff + i aRow + p aCol] and B row-major with row stride ldb. */
    private void gemm(int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int ldb,
                      float[] cm, int cOff, int ldc, boolean acc) {
        int blocks = (m + Sgemm.MR - 1) / Sgemm.MR;
        par.chunks(blocks, JavaMatMul.grain(ldb * k), (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k,
                a, aOff, aRow, aCol, b, bOff, ldb, Sgemm.NR, cm, cOff, ldc, acc, scratch[part]));
    }
}
