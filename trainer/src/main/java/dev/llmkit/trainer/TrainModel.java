package dev.llmkit.trainer;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.ModelConfig;

/**
 * The Llama model's training forward and backward, llm.c style: every activation and gradient
 * buffer is allocated once for batches of up to {@code maxB} sequences of up to {@code maxT} tokens;
 * parameters and gradients are flat arrays laid out by {@link ParamLayout}. Rows of every activation
 * are tokens ({@code b * T + t}). Results do not depend on the thread count: each output element is
 * computed by one thread, and sums over tokens go through fixed blocks of {@link #ROWS} rows.
 */
public final class TrainModel implements AutoCloseable {
    static final int ROWS = 64, HEAD_CHUNK = 512;
    /** Rows per chunk at least of elementwise work over rows shared out through {@link Parallel#chunks}. */
    static final int ROW_GRAIN = 32;
    final ModelConfig c;
    final ParamLayout layout;
    final int maxB, maxT;
    private final int dim, kv, qkvDim, hidden, vocab, nLayers, hd;
    private final float eps;
    private final Parallel par;
    private final MatMul mm;
    private final Attention attention;
    private final float[] cos, sin;                       // [maxT, hd]: (c, c), (-s, s) per pair

    // activations, per layer l
    private final float[][] xs;                           // [L+1][BT, dim] residual stream entering layer l (xs[L]: final)
    private final float[][] xn1, xmid, xn2, y;            // [L][BT, dim]
    private final float[][] rstd1, rstd2;                 // [L][BT]
    private final float[][] qkv;                          // [L][BT, qkvDim] (q and k after rotary)
    private final float[][] att;                          // [L][B, nHeads, T, T] probabilities
    private final float[][] h13;                          // [L][BT, 2 hidden] gate | up
    private final float[][] gact;                         // [L][BT, hidden] silu(gate) * up
    private final float[] xf, rstdf;                      // [BT, dim], [BT] final norm
    private final float[] logits;                         // [HEAD_CHUNK, vocab]
    private final float[] losses;                         // [BT]
    // backward scratch
    private final float[] dres, dxn, dy;                  // [BT, dim]
    private final float[] dg;                             // [BT, hidden]
    private final float[] dh13;                           // [BT, 2 hidden]
    private final float[] dqkv;                           // [BT, qkvDim]
    private final float[] normPartials;                   // [BT / ROWS, dim]
    private final boolean frozen;                         // base weights get no gradient (LoRA)
    private final Lora lora;                              // null without adapters
    private boolean training;                             // a backward pass follows (dropout on)
    private long noise;                                   // the batch's dropout seed
    private int[] tokens = new int[0], targets = new int[0], positions;
    private float[] weights;                              // [BT] loss weights; null = 1 everywhere
    private int b, t;
    private StepProfile profile;                          // null: parts not timed

    public TrainModel(ModelConfig c, int maxB, int maxT, Parallel par, MatMul mm) {
        this(new ParamLayout(c), maxB, maxT, par, mm);
    }

    /**
     * A model for the parameters of {@code layout}: with LoRA adapters in the layout, the base weights
     * are frozen (no weight-gradient products, no norm or embedding gradients) and only the adapters learn.
     */
    public TrainModel(ParamLayout layout, int maxB, int maxT, Parallel par, MatMul mm) {
        ModelConfig c = layout.c;
        if (maxT > c.contextLength()) throw new IllegalArgumentException("seq_len " + maxT + " exceeds the model's context_length " + c.contextLength());
        this.c = c;
        this.layout = layout;
        this.frozen = layout.frozenBase();
        this.lora = layout.lora == null ? null : new Lora(layout, maxB * maxT, par);
        this.maxB = maxB;
        this.maxT = maxT;
        this.par = par;
        this.mm = mm;
        dim = c.dim(); kv = c.kvDim(); hd = c.headDim(); hidden = c.hiddenDim(); vocab = c.vocabSize(); nLayers = c.nLayers();
        qkvDim = dim + 2 * kv;
        eps = c.normEps();
        long tokens = (long) maxB * maxT;
        for (long size : new long[] {(long) maxB * c.nHeads() * maxT * maxT, tokens * 2 * hidden, tokens * qkvDim, (long) HEAD_CHUNK * vocab}) {
            if (size > Integer.MAX_VALUE - 16) {
                throw new ConfigException("a batch of " + maxB + " x " + maxT + " tokens needs activation buffers over 2^31 values",
                        "lower batch_size or seq_len (use grad_accum for larger batches)");
            }
        }
        int bt = maxB * maxT, n = nLayers;
        cos = new float[maxT * hd];
        sin = new float[maxT * hd];
        for (int p = 0; p < maxT; p++) {
            for (int i = 0; i < hd / 2; i++) {     // the inference engine's formula, so logits agree
                double a = p * Math.pow(c.ropeTheta(), -2.0 * i / hd);
                cos[p * hd + 2 * i] = cos[p * hd + 2 * i + 1] = (float) Math.cos(a);
                sin[p * hd + 2 * i] = -(float) Math.sin(a);
                sin[p * hd + 2 * i + 1] = (float) Math.sin(a);
            }
        }
        attention = new Attention(c.nHeads(), c.nKvHeads(), hd, maxT, par.threads(), cos, sin);
        xs = new float[n + 1][bt * dim];
        xn1 = new float[n][bt * dim]; xmid = new float[n][bt * dim]; xn2 = new float[n][bt * dim]; y = new float[n][bt * dim];
        rstd1 = new float[n][bt]; rstd2 = new float[n][bt];
        qkv = new float[n][bt * qkvDim];
        att = new float[n][maxB * c.nHeads() * maxT * maxT];
        h13 = new float[n][bt * 2 * hidden];
        gact = new float[n][bt * hidden];
        xf = new float[bt * dim]; rstdf = new float[bt];
        logits = new float[Math.min(HEAD_CHUNK, bt) * vocab];
        losses = new float[bt];
        dres = new float[bt * dim]; dxn = new float[bt * dim]; dy = new float[bt * dim];
        dg = new float[bt * hidden]; dh13 = new float[bt * 2 * hidden]; dqkv = new float[bt * qkvDim];
        normPartials = new float[((bt + ROWS - 1) / ROWS) * dim];
    }

    public MatMul matmul() {
        return mm;
    }

    /** Times the parts of every later pass into {@code p} (see {@link StepProfile}); null stops timing. */
    public void profile(StepProfile p) {
        profile = p;
        attention.profile = p;
    }

    private void mark(String part) {
        if (profile != null) profile.mark(part);
    }

    /** Marks a product C[m, n] (+)= A[m, k] B[k, n]. */
    private void mark(String part, long m, long n, long k) {
        if (profile != null) profile.mark(part, 2.0 * m * n * k);
    }

    /**
     * Forward pass over {@code b} sequences of {@code t} tokens ({@code in[b*t]}), loss against
     * {@code out[b*t]}; returns the mean loss. With {@code grad != null}, also the backward pass:
     * adds d(mean loss * gradScale)/d(params) into grad.
     */
    public double step(float[] p, int[] in, int[] out, int b, int t, float[] grad, float gradScale) {
        if (b > maxB || t > maxT || in.length < b * t || out.length < b * t) throw new IllegalArgumentException("batch " + b + "x" + t + " exceeds " + maxB + "x" + maxT);
        return run(p, in, out, null, null, b, t, grad, gradScale / (b * t)) / (b * t);
    }

    /**
     * Forward pass over a batch; returns the weighted loss sum, sum_i weights[i] * loss_i (masked
     * positions cost nothing in the head). With {@code grad != null}, also the backward pass: adds
     * d(gradScale * weighted loss sum)/d(params) into grad, which covers the layout's trainable range
     * (all parameters; with LoRA the adapters alone, parameter i at grad[i - trainFrom]). A training step passes gradScale = 1 / (the
     * weight sum of all its micro-batches), so its loss is the mean over the step's unmasked tokens
     * whatever the accumulation.
     */
    public double step(float[] p, Batch batch, float[] grad, float gradScale) {
        int b = batch.b, t = batch.t;
        if (b > maxB || t > maxT) throw new IllegalArgumentException("batch " + b + "x" + t + " exceeds " + maxB + "x" + maxT);
        int[] pos = null;
        if (batch.packed) {
            pos = batch.positions;
            for (int r = 0; r < b * t; r++) {
                int i = r % t;
                if (pos[r] < 0 || pos[r] > i || (i > 0 && pos[r] != 0 && pos[r] != pos[r - 1] + 1)) {
                    throw new IllegalArgumentException("position " + pos[r] + " at row " + r / t + ", column " + i + " does not continue its example");
                }
            }
        }
        noise = batch.noise;
        return run(p, batch.tokens, batch.targets, batch.weights, pos, b, t, grad, gradScale);
    }

    private double run(float[] p, int[] in, int[] out, float[] w, int[] pos, int b, int t, float[] grad, float scale) {
        this.b = b;
        this.t = t;
        this.tokens = in;
        this.targets = out;
        this.weights = w;
        this.positions = pos;
        this.training = grad != null;
        forwardLayers(p);
        double loss = head(p, grad, scale, null);
        if (grad != null) backwardLayers(p, grad);
        return loss;
    }

    /** Logits of every position into out[b*t, vocab] (for tests and sampling). */
    public void logits(float[] p, int[] in, int b, int t, float[] out) {
        this.b = b;
        this.t = t;
        this.tokens = in;
        this.targets = new int[b * t];
        this.weights = null;
        this.positions = null;
        this.training = false;
        forwardLayers(p);
        head(p, null, 0f, out);
    }

    private void forwardLayers(float[] p) {
        int bt = b * t;
        mm.weightsChanged();     // p may have changed since the last pass (an optimizer step, a test)
        if (lora != null) lora.prepare(p);
        float[] x0 = xs[0];
        for (int r = 0; r < bt; r++) {
            int tok = tokens[r];
            if (tok < 0 || tok >= vocab) throw new IllegalArgumentException("token " + tok + " outside the vocabulary of " + vocab);
            System.arraycopy(p, layout.embed + tok * dim, x0, r * dim, dim);
        }
        mark("embedding");
        for (int l = 0; l < nLayers; l++) {
            float[] x = xs[l], xa = xn1[l], q = qkv[l], r1 = rstd1[l], xm = xmid[l];
            int gNorm = layout.attnNorm[l];
            // 1. attention: norm (each row also copied into xmid, the residual stream the output projection adds to, while
            // it is in cache), fused qkv projection, rotary, causal attention, output projection
            par.chunks(bt, ROW_GRAIN, (r0, re) -> {
                for (int r = r0; r < re; r++) {
                    r1[r] = TrainKernels.rmsnorm(x, r * dim, p, gNorm, xa, r * dim, dim, eps);
                    System.arraycopy(x, r * dim, xm, r * dim, dim);
                }
            });
            mark("norms");
            mm.xwT(xa, 0, p, layout.wqkv[l], q, 0, bt, qkvDim, dim, false);
            adapt(p, l, ParamLayout.Target.Q, xa, dim, q, 0, qkvDim);
            adapt(p, l, ParamLayout.Target.K, xa, dim, q, dim, qkvDim);
            adapt(p, l, ParamLayout.Target.V, xa, dim, q, dim + kv, qkvDim);
            mark("q|k|v product", bt, qkvDim, dim);
            attention.forward(par, q, att[l], y[l], b, t, positions);     // rotates q and k first
            mark("attention");
            mm.xwT(y[l], 0, p, layout.wo[l], xm, 0, bt, dim, dim, true);
            adapt(p, l, ParamLayout.Target.O, y[l], dim, xm, 0, dim);
            mark("output product", bt, dim, dim);
            // 2. MLP: norm, fused gate|up projection, SwiGLU, down projection
            float[] xb = xn2[l], r2 = rstd2[l], h = h13[l], g = gact[l], xo = xs[l + 1];
            int fNorm = layout.ffnNorm[l];
            par.chunks(bt, ROW_GRAIN, (r0, re) -> {     // each row also copied into the next layer's input, which the down projection adds to
                for (int r = r0; r < re; r++) {
                    r2[r] = TrainKernels.rmsnorm(xm, r * dim, p, fNorm, xb, r * dim, dim, eps);
                    System.arraycopy(xm, r * dim, xo, r * dim, dim);
                }
            });
            mark("norms");
            mm.xwT(xb, 0, p, layout.w13[l], h, 0, bt, 2 * hidden, dim, false);
            adapt(p, l, ParamLayout.Target.GATE, xb, dim, h, 0, 2 * hidden);
            adapt(p, l, ParamLayout.Target.UP, xb, dim, h, hidden, 2 * hidden);
            mark("gate|up product", bt, 2 * hidden, dim);
            par.chunks(bt, ROW_GRAIN, (r0, re) -> { for (int r = r0; r < re; r++) TrainKernels.swiglu(h, r * 2 * hidden, g, r * hidden, hidden); });
            mark("SwiGLU");
            mm.xwT(g, 0, p, layout.w2[l], xo, 0, bt, dim, hidden, true);
            adapt(p, l, ParamLayout.Target.DOWN, g, hidden, xo, 0, dim);
            mark("down product", bt, dim, hidden);
        }
        float[] xl = xs[nLayers];
        par.chunks(bt, ROW_GRAIN, (r0, re) -> { for (int r = r0; r < re; r++) rstdf[r] = TrainKernels.rmsnorm(xl, r * dim, p, layout.outputNorm, xf, r * dim, dim, eps); });
        mark("norms");
    }

    /**
     * The output head in chunks of {@link #HEAD_CHUNK} rows: logits, cross-entropy, and (with grad)
     * the head's backward into dres and grad, the gradient of row r scaled by scale * weight[r]
     * (a masked row's gradient is zero). Returns the weighted loss sum.
     */
    private double head(float[] p, float[] grad, float scale, float[] logitsOut) {
        int bt = b * t, chunk = Math.min(HEAD_CHUNK, maxB * maxT);
        float[] w = weights;
        for (int c0 = 0; c0 < bt; c0 += chunk) {
            int n = Math.min(chunk, bt - c0), base = c0;
            mm.xwT(xf, c0 * dim, p, layout.output, logits, 0, n, vocab, dim, false);
            mark("head: logits product", n, vocab, dim);
            if (logitsOut != null) System.arraycopy(logits, 0, logitsOut, c0 * vocab, n * vocab);
            boolean backward = grad != null;
            par.chunks(n, ROW_GRAIN, (r0, re) -> {
                for (int r = r0; r < re; r++) {
                    float wr = w == null ? 1f : w[base + r];
                    if (wr == 0f) {
                        losses[base + r] = 0f;
                        if (backward) java.util.Arrays.fill(logits, r * vocab, (r + 1) * vocab, 0f);
                    } else {
                        losses[base + r] = wr * TrainKernels.crossEntropy(logits, r * vocab, vocab, targets[base + r], backward ? scale * wr : 0f);
                    }
                }
            });
            mark("head: cross-entropy");
            if (grad != null) {
                mm.xw(logits, 0, p, layout.output, dxn, c0 * dim, n, dim, vocab, false);
                mark("head: input-gradient product", n, dim, vocab);
                if (!frozen) mm.aTb(logits, 0, xf, c0 * dim, grad, layout.output, vocab, dim, n, true);
                mark("head: weight-gradient product", vocab, dim, frozen ? 0 : n);
            }
        }
        double sum = 0;
        for (int r = 0; r < bt; r++) sum += losses[r];
        mark("head: cross-entropy");
        return sum;
    }

    private void backwardLayers(float[] p, float[] grad) {
        int bt = b * t;
        // final norm: dres = d/d xs[L]
        java.util.Arrays.fill(dres, 0, bt * dim, 0f);
        normBackward(dxn, xs[nLayers], rstdf, p, layout.outputNorm, grad);
        mark("backward: norms");
        int wk = frozen ? 0 : bt;     // the weight gradients' depth: none when frozen
        for (int l = nLayers - 1; l >= 0; l--) {
            // 1. down projection: xs[l+1] = xmid + g w2^T
            mm.xw(dres, 0, p, layout.w2[l], dg, 0, bt, hidden, dim, false);
            mark("backward: down input gradient", bt, hidden, dim);
            if (!frozen) mm.aTb(dres, 0, gact[l], 0, grad, layout.w2[l], dim, hidden, bt, true);
            adaptBack(l, ParamLayout.Target.DOWN, dres, 0, dim, gact[l], hidden, dg, hidden, p, grad);
            mark("backward: down weight gradient", dim, hidden, wk);
            float[] h = h13[l];
            par.chunks(bt, ROW_GRAIN, (r0, re) -> { for (int r = r0; r < re; r++) TrainKernels.swigluBackward(dg, r * hidden, h, r * 2 * hidden, dh13, r * 2 * hidden, hidden); });
            mark("backward: SwiGLU");
            mm.xw(dh13, 0, p, layout.w13[l], dxn, 0, bt, dim, 2 * hidden, false);
            mark("backward: gate|up input gradient", bt, dim, 2 * hidden);
            if (!frozen) mm.aTb(dh13, 0, xn2[l], 0, grad, layout.w13[l], 2 * hidden, dim, bt, true);
            adaptBack(l, ParamLayout.Target.GATE, dh13, 0, 2 * hidden, xn2[l], dim, dxn, dim, p, grad);
            adaptBack(l, ParamLayout.Target.UP, dh13, hidden, 2 * hidden, xn2[l], dim, dxn, dim, p, grad);
            mark("backward: gate|up weight gradient", 2 * hidden, dim, wk);
            normBackward(dxn, xmid[l], rstd2[l], p, layout.ffnNorm[l], grad);
            mark("backward: norms");
            // 2. output projection: xmid = xs[l] + y wo^T
            mm.xw(dres, 0, p, layout.wo[l], dy, 0, bt, dim, dim, false);
            mark("backward: output input gradient", bt, dim, dim);
            if (!frozen) mm.aTb(dres, 0, y[l], 0, grad, layout.wo[l], dim, dim, bt, true);
            adaptBack(l, ParamLayout.Target.O, dres, 0, dim, y[l], dim, dy, dim, p, grad);
            mark("backward: output weight gradient", dim, dim, wk);
            // 3. attention and rotary, then the fused qkv projection
            attention.backward(par, qkv[l], att[l], dy, dqkv, b, t, positions);     // and rotates dq, dk back
            mark("backward: attention");
            mm.xw(dqkv, 0, p, layout.wqkv[l], dxn, 0, bt, dim, qkvDim, false);
            mark("backward: q|k|v input gradient", bt, dim, qkvDim);
            if (!frozen) mm.aTb(dqkv, 0, xn1[l], 0, grad, layout.wqkv[l], qkvDim, dim, bt, true);
            adaptBack(l, ParamLayout.Target.Q, dqkv, 0, qkvDim, xn1[l], dim, dxn, dim, p, grad);
            adaptBack(l, ParamLayout.Target.K, dqkv, dim, qkvDim, xn1[l], dim, dxn, dim, p, grad);
            adaptBack(l, ParamLayout.Target.V, dqkv, dim + kv, qkvDim, xn1[l], dim, dxn, dim, p, grad);
            mark("backward: q|k|v weight gradient", qkvDim, dim, wk);
            normBackward(dxn, xs[l], rstd1[l], p, layout.attnNorm[l], grad);
            mark("backward: norms");
        }
        // 4. embedding rows (serial: the same token may repeat)
        if (frozen) return;
        int e = layout.embed;
        for (int r = 0; r < bt; r++) {
            TrainKernels.addInto(dres, r * dim, grad, e + tokens[r] * dim, dim);
        }
        mark("backward: embedding");
    }

    /** dres += rmsnorm backward of dout; the norm weight's gradient summed over fixed row blocks. */
    private void normBackward(float[] dout, float[] x, float[] rstd, float[] p, int gOff, float[] grad) {
        int bt = b * t, blocks = (bt + ROWS - 1) / ROWS;
        par.chunks(blocks, 1, (k0, k1) -> {
            for (int k = k0; k < k1; k++) {
                java.util.Arrays.fill(normPartials, k * dim, (k + 1) * dim, 0f);
                for (int r = k * ROWS; r < Math.min(bt, (k + 1) * ROWS); r++) {
                    TrainKernels.rmsnormBackward(dout, r * dim, x, r * dim, rstd[r], p, gOff, dres, r * dim, normPartials, k * dim, dim);
                }
            }
        });
        if (frozen) return;
        for (int k = 0; k < blocks; k++) TrainKernels.addInto(normPartials, k * dim, grad, gOff, dim);
    }

    /** The adapter of (l, t), when it has one: out[:, slice] += its contribution. */
    private void adapt(float[] params, int l, ParamLayout.Target t, float[] x, int ldx, float[] out, int outOff, int ldo) {
        if (lora != null && lora.has(l, t)) lora.forward(l, t, x, ldx, out, outOff, ldo, b * this.t, training, noise, params);
    }

    /** The adapter of (l, t), when it has one: its gradients, and dx += its input gradient. */
    private void adaptBack(int l, ParamLayout.Target t, float[] dOut, int dOff, int ldd, float[] x, int ldx, float[] dx, int ldDx,
                           float[] p, float[] grad) {
        if (lora != null && lora.has(l, t)) lora.backward(l, t, dOut, dOff, ldd, x, ldx, dx, ldDx, p, grad, b * this.t);
    }

    @Override
    public void close() {
        mm.close();
    }
}
