package dev.llmkit.trainer;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import dev.llmkit.core.model.ModelConfig;
import java.util.SplittableRandom;

/**
 * The adapters' part of the training forward and backward passes: for target W [out, in] of layer l,
 * {@code y += s * (x * mask) A^T B^T} with s = alpha / rank, and its gradients
 * {@code dB += s * dy^T h}, {@code dA += (s * dy B)^T (x * mask)}, {@code dx += (s * dy B) A * mask},
 * where h = (x * mask) A^T is kept from the forward pass and mask is dropout's (0 or 1 / (1 - p),
 * drawn from the batch's noise seed, so a resumed run draws the same masks). Outputs and inputs are
 * column slices of the layer's activations (row strides given). Every product runs on {@link Sgemm}
 * with each element computed by one thread in a fixed order.
 */
final class Lora {
    private final ParamLayout layout;
    private final ModelConfig c;
    private final Parallel par;
    private final int r, shift;                           // grad[i - shift] is parameter i's gradient (the trainable range)
    private final float s, dropout;
    private final float[][][] h, mask;                    // [L][target][BT, r]; [L][target][BT, in] (dropout only)
    private final float[][][] at, bt;                     // [L][target] A^T [in, r]; s * B^T [r, out], refreshed per pass
    private final float[] dh, xd, tmpB, tmpA, dxs;        // scratch: [BT, r], [BT, maxIn], [maxOut, r], [r, maxIn], [BT, maxIn]
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
        mask = new float[n][nt][];
        at = new float[n][nt][];
        bt = new float[n][nt][];
        for (int l = 0; l < n; l++) {
            for (ParamLayout.Target t : ParamLayout.Target.values()) {
                if (layout.loraA[l][t.ordinal()] < 0) continue;
                h[l][t.ordinal()] = new float[maxRows * r];
                if (dropout > 0) mask[l][t.ordinal()] = new float[maxRows * t.in(c)];
                at[l][t.ordinal()] = new float[t.in(c) * r];
                bt[l][t.ordinal()] = new float[r * t.out(c)];
            }
        }
        dh = new float[maxRows * r];
        xd = new float[maxRows * maxIn];
        dxs = new float[maxRows * maxIn];
        tmpB = new float[maxIn * r];
        tmpA = new float[r * maxIn];
        scratch = new float[par.threads()][];
        for (int i = 0; i < scratch.length; i++) scratch[i] = Sgemm.packScratch();
    }

    boolean has(int l, ParamLayout.Target t) {
        return layout.loraA[l][t.ordinal()] >= 0;
    }

    /** Transposed copies of every A and of s * B (the weights changed since the last pass). */
    void prepare(float[] p) {
        for (int l = 0; l < c.nLayers(); l++) {
            for (ParamLayout.Target t : ParamLayout.Target.values()) {
                if (!has(l, t)) continue;
                int in = t.in(c), out = t.out(c), a = layout.loraA[l][t.ordinal()], b = layout.loraB[l][t.ordinal()];
                float[] ta = at[l][t.ordinal()], tb = bt[l][t.ordinal()];
                for (int i = 0; i < r; i++) for (int j = 0; j < in; j++) ta[j * r + i] = p[a + i * in + j];
                for (int o = 0; o < out; o++) for (int i = 0; i < r; i++) tb[i * out + o] = s * p[b + o * r + i];
            }
        }
    }

    /** y[rows, slice] += s * (x * mask) A^T B^T; draws the dropout mask when training. */
    void forward(int l, ParamLayout.Target t, float[] x, int ldx, float[] y, int yOff, int ldy, int rows, boolean training, long noise) {
        int in = t.in(c), out = t.out(c), k = t.ordinal();
        float[] input = x;
        int ld = ldx;
        if (training && dropout > 0) {
            float[] m = mask[l][k];
            SplittableRandom rnd = new SplittableRandom(noise ^ (0x9E3779B97F4A7C15L * (l * 16L + k + 1)));
            float keep = 1f / (1f - dropout);
            int drop = (int) Math.round(dropout * 65536.0);     // p in steps of 1/65536: four draws per random long
            long bits = 0;
            for (int i = 0; i < rows * in; i++) {
                if ((i & 3) == 0) bits = rnd.nextLong();
                m[i] = (int) (bits & 0xFFFF) < drop ? 0f : keep;
                bits >>>= 16;
            }
            for (int row = 0; row < rows; row++) for (int j = 0; j < in; j++) xd[row * in + j] = x[row * ldx + j] * m[row * in + j];
            input = xd;
            ld = in;
        }
        float[] hl = h[l][k];
        gemm(rows, r, in, input, 0, ld, 1, at[l][k], 0, r, hl, 0, r, false);
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
        float[] hl = h[l][k], m = mask[l][k];
        // 1. dB += s * dy^T h
        gemm(out, r, rows, dy, dyOff, 1, ldy, hl, 0, r, tmpB, 0, r, false);
        for (int i = 0; i < out * r; i++) grad[b - shift + i] += s * tmpB[i];
        // 2. dh = s * dy B
        gemm(rows, r, out, dy, dyOff, ldy, 1, p, b, r, dh, 0, r, false);
        for (int i = 0; i < rows * r; i++) dh[i] *= s;
        // 3. dA += dh^T (x * mask)
        float[] input = x;
        int ld = ldx;
        if (m != null) {
            for (int row = 0; row < rows; row++) for (int j = 0; j < in; j++) xd[row * in + j] = x[row * ldx + j] * m[row * in + j];
            input = xd;
            ld = in;
        }
        gemm(r, in, rows, dh, 0, 1, r, input, 0, ld, tmpA, 0, in, false);
        for (int i = 0; i < r * in; i++) grad[a - shift + i] += tmpA[i];
        // 4. dx += (dh A) * mask
        if (m == null) {
            gemm(rows, in, r, dh, 0, r, 1, p, a, in, dx, 0, ldDx, true);
        } else {
            gemm(rows, in, r, dh, 0, r, 1, p, a, in, dxs, 0, in, false);
            for (int row = 0; row < rows; row++) for (int j = 0; j < in; j++) dx[row * ldDx + j] += dxs[row * in + j] * m[row * in + j];
        }
    }

    /** C[m, n] (+)= A B with A(i, p) = a[aOff + i aRow + p aCol] and B row-major with row stride ldb. */
    private void gemm(int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int ldb,
                      float[] cm, int cOff, int ldc, boolean acc) {
        int blocks = (m + Sgemm.MR - 1) / Sgemm.MR;
        par.parts(blocks, (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k,
                a, aOff, aRow, aCol, b, bOff, ldb, Sgemm.NR, cm, cOff, ldc, acc, scratch[part]));
    }
}
