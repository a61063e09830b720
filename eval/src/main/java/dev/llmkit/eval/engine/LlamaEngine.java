package dev.llmkit.eval.engine;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.model.Weights;

/**
 * Batch-1 inference for the Llama architecture, llama2.c style: F32 weights, a KV cache, every buffer
 * allocated once, matvecs split over output rows on {@code threads} threads. Rotary embeddings rotate
 * interleaved pairs (x[2i], x[2i+1]) as GGUF/llama.cpp do. Not thread-safe: one sequence at a time.
 */
public final class LlamaEngine implements AutoCloseable {
    private final ModelConfig c;
    private final int positions;                                  // KV cache capacity (<= context length)
    private final Parallel par;

    // Weights, row-major [out, in].
    private final float[] embed, outputNorm, output;              // [vocab, dim], [dim], [vocab, dim]
    private final float[][] attnNorm, wq, wk, wv, wo, ffnNorm, w1, w2, w3;

    // State.
    private final float[] x, xb, xb2, q, k, v, hb, hb2, att, logits;  // [dim] x3, [dim], [kvDim] x2, [hidden] x2, [heads * ctx], [vocab]
    private final float[][] keyCache, valueCache;                 // [layer][ctx * kvDim]
    private final float[] cos, sin;                               // [ctx * headDim / 2]

    // The decode step's parallel bodies, built once (no allocation per token); they read layer and pos.
    private int layer, pos;
    private final Parallel.Body qkvBody = (a, b) -> qkv(layer, a, b);
    private final Parallel.Body attentionBody = (a, b) -> attention(layer, pos, a, b);
    private final Parallel.Body woBody = (a, b) -> woRows(a, b);
    private final Parallel.Body gateUpBody = (a, b) -> gateUp(layer, a, b);
    private final Parallel.Body w2Body = (a, b) -> w2Rows(a, b);
    private final Parallel.Body classifierBody = (a, b) -> classifierRows(a, b);

    /** An engine for the model's whole context length. */
    public LlamaEngine(Weights w, int threads) {
        this(w, threads, w.config().contextLength());
    }

    /**
     * An engine whose KV cache holds {@code maxPositions} positions (at most the context length):
     * generation needs prompt + max tokens, not the model's whole context.
     */
    public LlamaEngine(Weights w, int threads, int maxPositions) {
        this.c = w.config();
        this.positions = Math.max(1, Math.min(maxPositions, c.contextLength()));
        long kvBytes = 2L * c.nLayers() * positions * c.kvDim() * Float.BYTES;
        if ((long) positions * c.kvDim() > Integer.MAX_VALUE - 8 || (long) c.nHeads() * positions > Integer.MAX_VALUE - 8
                || kvBytes > Runtime.getRuntime().maxMemory() / 2) {
            throw new ConfigException("a KV cache of " + positions + " positions needs " + kvBytes / (1 << 20) + " MiB",
                    "use fewer tokens (--max-tokens) or more heap (LLMKIT_JAVA_OPTS=-Xmx...)");
        }
        this.par = new Parallel(threads);
        embed = w.get(TensorNames.EMBED);
        outputNorm = w.get(TensorNames.OUTPUT_NORM);
        output = c.tiedEmbeddings() ? embed : w.get(TensorNames.OUTPUT);
        int n = c.nLayers();
        attnNorm = new float[n][]; wq = new float[n][]; wk = new float[n][]; wv = new float[n][]; wo = new float[n][];
        ffnNorm = new float[n][]; w1 = new float[n][]; w2 = new float[n][]; w3 = new float[n][];
        for (int l = 0; l < n; l++) {
            attnNorm[l] = w.get(TensorNames.blk(l, "attn_norm"));
            wq[l] = w.get(TensorNames.blk(l, "attn_q"));
            wk[l] = w.get(TensorNames.blk(l, "attn_k"));
            wv[l] = w.get(TensorNames.blk(l, "attn_v"));
            wo[l] = w.get(TensorNames.blk(l, "attn_output"));
            ffnNorm[l] = w.get(TensorNames.blk(l, "ffn_norm"));
            w1[l] = w.get(TensorNames.blk(l, "ffn_gate"));
            w3[l] = w.get(TensorNames.blk(l, "ffn_up"));
            w2[l] = w.get(TensorNames.blk(l, "ffn_down"));
        }
        int dim = c.dim(), kv = c.kvDim(), ctx = positions;
        x = new float[dim]; xb = new float[dim]; xb2 = new float[dim]; q = new float[dim];
        k = new float[kv]; v = new float[kv]; hb = new float[c.hiddenDim()]; hb2 = new float[c.hiddenDim()];
        att = new float[c.nHeads() * ctx]; logits = new float[c.vocabSize()];
        keyCache = new float[n][ctx * kv];
        valueCache = new float[n][ctx * kv];
        int hd = c.headDim();
        cos = new float[ctx * hd / 2];
        sin = new float[ctx * hd / 2];
        for (int p = 0; p < ctx; p++) {
            for (int i = 0; i < hd / 2; i++) {
                double freq = Math.pow(c.ropeTheta(), -2.0 * i / hd), a = p * freq;
                cos[p * hd / 2 + i] = (float) Math.cos(a);
                sin[p * hd / 2 + i] = (float) Math.sin(a);
            }
        }
    }

    public ModelConfig config() {
        return c;
    }

    /** Positions the KV cache holds. */
    public int positions() {
        return positions;
    }

    /**
     * Runs one token at position {@code pos} (all earlier positions must have run) and returns the
     * logits over the vocabulary (a view into the engine's buffer), or null when {@code wantLogits} is false.
     */
    public float[] forward(int token, int pos, boolean wantLogits) {
        if (pos < 0 || pos >= positions) {
            throw new ConfigException("position " + pos + " is outside the " + positions + " positions of this engine (context length "
                    + c.contextLength() + ")", "shorten the prompt or --max-tokens");
        }
        if (token < 0 || token >= c.vocabSize()) throw new IllegalArgumentException("token " + token + " out of range");
        int dim = c.dim(), kvDim = c.kvDim(), hd = c.headDim(), hidden = c.hiddenDim();
        System.arraycopy(embed, token * dim, x, 0, dim);
        this.pos = pos;
        for (int l = 0; l < c.nLayers(); l++) {
            layer = l;
            // 1. Attention: norm, q/k/v, rotary, cache, scores, weighted values, output projection.
            Kernels.rmsnorm(xb, x, attnNorm[l], dim, c.normEps());
            par.range(dim + 2 * kvDim, qkvBody);
            rope(q, c.nHeads(), pos, hd);
            rope(k, c.nKvHeads(), pos, hd);
            System.arraycopy(k, 0, keyCache[l], pos * kvDim, kvDim);
            System.arraycopy(v, 0, valueCache[l], pos * kvDim, kvDim);
            par.range(c.nHeads(), attentionBody);
            par.range(dim, woBody);
            for (int i = 0; i < dim; i++) x[i] += xb[i];
            // 2. SwiGLU MLP.
            Kernels.rmsnorm(xb, x, ffnNorm[l], dim, c.normEps());
            par.range(2 * hidden, gateUpBody);
            Kernels.swiglu(hb, 0, hb, 0, hb2, 0, hidden);
            par.range(dim, w2Body);
            for (int i = 0; i < dim; i++) x[i] += xb[i];
        }
        if (!wantLogits) return null;
        Kernels.rmsnorm(xb, x, outputNorm, dim, c.normEps());
        par.range(c.vocabSize(), classifierBody);
        return logits;
    }

    private void woRows(int a, int b) {
        Kernels.matvec(wo[layer], xb2, xb, c.dim(), a, b);
    }

    private void w2Rows(int a, int b) {
        Kernels.matvec(w2[layer], hb, xb, c.hiddenDim(), a, b);
    }

    private void classifierRows(int a, int b) {
        Kernels.matvec(output, xb, logits, c.dim(), a, b);
    }

    /** Rows [a, b) of the stacked q, k, v projections. */
    private void qkv(int l, int a, int b) {
        int dim = c.dim(), kv = c.kvDim();
        if (a < dim) Kernels.matvec(wq[l], xb, q, dim, a, Math.min(b, dim));
        if (b > dim && a < dim + kv) Kernels.matvec(wk[l], xb, k, dim, Math.max(a, dim) - dim, Math.min(b, dim + kv) - dim);
        if (b > dim + kv) Kernels.matvec(wv[l], xb, v, dim, Math.max(a, dim + kv) - dim - kv, b - dim - kv);
    }

    private void gateUp(int l, int a, int b) {
        int h = c.hiddenDim();
        if (a < h) Kernels.matvec(w1[l], xb, hb, c.dim(), a, Math.min(b, h));
        if (b > h) Kernels.matvec(w3[l], xb, hb2, c.dim(), Math.max(a, h) - h, b - h);
    }

    private void rope(float[] vec, int heads, int pos, int hd) {
        rope(vec, 0, heads, pos, hd);
    }

    private void rope(float[] vec, int off, int heads, int pos, int hd) {
        int base = pos * hd / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < hd / 2; i++) {
                int j = off + h * hd + 2 * i;
                float c0 = cos[base + i], s0 = sin[base + i], v0 = vec[j], v1 = vec[j + 1];
                vec[j] = v0 * c0 - v1 * s0;
                vec[j + 1] = v0 * s0 + v1 * c0;
            }
        }
    }

    /** Heads [h0, h1): causal softmax attention over positions 0..pos, into xb2. */
    private void attention(int l, int pos, int h0, int h1) {
        for (int h = h0; h < h1; h++) attendHead(l, pos, h, q, 0, xb2, 0);
    }

    /** One head of one query (qs[qOff..]) over the cached positions 0..pos, into out[oOff + h * hd ..]. */
    private void attendHead(int l, int pos, int h, float[] qs, int qOff, float[] out, int oOff) {
        int hd = c.headDim(), kvDim = c.kvDim(), group = c.nHeads() / c.nKvHeads(), ctx = positions;
        float scale = (float) (1.0 / Math.sqrt(hd));
        int qo = qOff + h * hd, oo = oOff + h * hd, ko = (h / group) * hd, ao = h * ctx;
        float[] kc = keyCache[l], vc = valueCache[l];
        for (int t = 0; t <= pos; t++) att[ao + t] = Kernels.dot(qs, qo, kc, t * kvDim + ko, hd);
        Kernels.softmax(att, ao, pos + 1, scale);
        Kernels.weightedSum(att, ao, pos + 1, vc, ko, kvDim, out, oo, hd);
    }

    // ---------------------------------------------------------------- batched prefill

    /** Prompt tokens per prefill block: the weights are streamed once per block. */
    static final int BLOCK = 128;
    private float[] bx, bxb, bxb2, bqkv, bh;               // [BLOCK * width] each, allocated on first prefill
    private float[] aPacked;                               // the GEMM's activations packed once for all threads
    private float[][] packScratch;                         // per thread: Sgemm's packed activations (attention)
    private float[][] keyPanels, scores;                   // per thread: K^T panels [positions, hd]; block scores [BLOCK, positions]
    private float[][] wqkvP, woP, w13P, w2P;               // weights packed into Sgemm panels (built on first prefill):
                                                           // q|k|v and gate|up stacked, so each is one GEMM

    /**
     * Runs {@code tokens} at positions {@code start..} in blocks of {@link #BLOCK} with matrix-matrix
     * kernels (each weight row is read once per block instead of once per token) and returns the
     * logits after the last token. Equal to calling {@link #forward} token by token, up to float rounding.
     */
    public float[] prefill(int[] tokens, int start) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens");
        if (start < 0 || start + (long) tokens.length > positions) {
            throw new ConfigException(tokens.length + " tokens from position " + start + " exceed the " + positions + " positions of this engine (context length " + c.contextLength() + ")",
                    "shorten the prompt or --max-tokens");
        }
        if (bx == null) {
            int d = c.dim(), kv = c.kvDim(), h = c.hiddenDim();
            bx = new float[BLOCK * d]; bxb = new float[BLOCK * d]; bxb2 = new float[BLOCK * d];
            bqkv = new float[BLOCK * (d + 2 * kv)]; bh = new float[BLOCK * 2 * h];
            aPacked = new float[Sgemm.packedRowsSize(BLOCK, Math.max(d, h))];
            packScratch = new float[par.threads()][];
            keyPanels = new float[par.threads()][];
            scores = new float[par.threads()][];
            for (int i = 0; i < packScratch.length; i++) {
                packScratch[i] = Sgemm.packScratch();
                keyPanels[i] = new float[Sgemm.packedSize(positions, c.headDim())];
                scores[i] = new float[BLOCK * positions];
            }
            int n = c.nLayers();
            wqkvP = new float[n][]; woP = new float[n][]; w13P = new float[n][]; w2P = new float[n][];
            for (int l = 0; l < n; l++) {
                wqkvP[l] = pack(d, wq[l], wk[l], wv[l]);
                woP[l] = pack(d, wo[l]);
                w13P[l] = pack(d, w1[l], w3[l]);
                w2P[l] = pack(h, w2[l]);
            }
        }
        int nt = 0;
        for (int b0 = 0; b0 < tokens.length; b0 += BLOCK) {
            nt = Math.min(BLOCK, tokens.length - b0);
            block(tokens, b0, nt, start + b0);
        }
        System.arraycopy(bx, (nt - 1) * c.dim(), x, 0, c.dim());
        Kernels.rmsnorm(xb, x, outputNorm, c.dim(), c.normEps());
        par.range(c.vocabSize(), classifierBody);
        return logits;
    }

    /** Weights [out_i, in] stacked by rows and packed as {@link Sgemm} B panels of W^T. */
    private static float[] pack(int in, float[]... ws) {
        int out = 0;
        for (float[] w : ws) out += w.length / in;
        float[] stacked = ws[0];
        if (ws.length > 1) {
            stacked = new float[out * in];
            int o = 0;
            for (float[] w : ws) {
                System.arraycopy(w, 0, stacked, o, w.length);
                o += w.length;
            }
        }
        float[] bp = new float[Sgemm.packedSize(out, in)];
        Sgemm.packTransposed(stacked, 0, in, out, in, bp, 0, Sgemm.panels(out));
        return bp;
    }

    /**
     * out[nt, outDim] (row stride ldo) = x[nt, in] (row stride ldx) times a packed weight on
     * {@link Sgemm}: x is packed once (row blocks over threads), then the weight's column panels are
     * split over threads (each weight is read once per block).
     */
    private void mm(float[] packedW, float[] x, int ldx, float[] out, int ldo, int in, int outDim, int nt) {
        int nr = Sgemm.NR, mr = Sgemm.MR;
        par.range(nt / mr, (b0, b1) -> Sgemm.packRows(x, 0, ldx, 1, nt, in, b0 * mr, b1 * mr, aPacked));
        par.range(Sgemm.panels(outDim), (p0, p1) -> Sgemm.rowsPrepacked(nt, Math.min(outDim, p1 * nr) - p0 * nr, in, x, 0, ldx, 1, aPacked,
                packedW, p0 * in * nr, nr, in * nr, out, p0 * nr, ldo, false));
    }

    /** The scalar switch's reference for {@link #mm}: out[t, oOff + r] = w[r, :] . x[t, :] for a row-major weight. */
    private void mmScalar(float[] w, float[] x, int ldx, float[] out, int oOff, int ldo, int in, int outDim, int nt) {
        par.range(outDim, (r0, r1) -> Kernels.matmulScalar(w, x, ldx, out, oOff, ldo, in, nt, r0, r1));
    }

    private void block(int[] tokens, int off, int nt, int pos0) {
        int dim = c.dim(), kv = c.kvDim(), hd = c.headDim(), hidden = c.hiddenDim(), wqkv = dim + 2 * kv;
        for (int t = 0; t < nt; t++) {
            int token = tokens[off + t];
            if (token < 0 || token >= c.vocabSize()) throw new IllegalArgumentException("token " + token + " out of range");
            System.arraycopy(embed, token * dim, bx, t * dim, dim);
        }
        for (int l = 0; l < c.nLayers(); l++) {
            int layer = l;
            // 1. Attention: one GEMM for q|k|v (rows of bqkv), rotary, cache, attention per head, output projection.
            rmsnormRows(attnNorm[l], nt);
            if (Kernels.SCALAR) {
                mmScalar(wq[l], bxb, dim, bqkv, 0, wqkv, dim, dim, nt);
                mmScalar(wk[l], bxb, dim, bqkv, dim, wqkv, dim, kv, nt);
                mmScalar(wv[l], bxb, dim, bqkv, dim + kv, wqkv, dim, kv, nt);
            } else {
                mm(wqkvP[l], bxb, dim, bqkv, wqkv, dim, wqkv, nt);
            }
            par.range(nt, (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    int row = t * wqkv;
                    rope(bqkv, row, c.nHeads(), pos0 + t, hd);
                    rope(bqkv, row + dim, c.nKvHeads(), pos0 + t, hd);
                    System.arraycopy(bqkv, row + dim, keyCache[layer], (pos0 + t) * kv, kv);
                    System.arraycopy(bqkv, row + dim + kv, valueCache[layer], (pos0 + t) * kv, kv);
                }
            });
            if (Kernels.SCALAR) {
                par.range(c.nHeads(), (h0, h1) -> {
                    for (int h = h0; h < h1; h++) for (int t = 0; t < nt; t++) attendHead(layer, pos0 + t, h, bqkv, t * wqkv, bxb2, t * dim);
                });
                mmScalar(wo[l], bxb2, dim, bxb, 0, dim, dim, dim, nt);
            } else {
                par.parts(c.nHeads(), (part, h0, h1) -> {
                    for (int h = h0; h < h1; h++) attendBlock(layer, h, pos0, nt, part);
                });
                mm(woP[l], bxb2, dim, bxb, dim, dim, dim, nt);
            }
            addRows(nt);
            // 2. SwiGLU MLP: one GEMM for gate|up (rows of bh), SwiGLU into each row's first half, down projection.
            rmsnormRows(ffnNorm[l], nt);
            if (Kernels.SCALAR) {
                mmScalar(w1[l], bxb, dim, bh, 0, 2 * hidden, dim, hidden, nt);
                mmScalar(w3[l], bxb, dim, bh, hidden, 2 * hidden, dim, hidden, nt);
            } else {
                mm(w13P[l], bxb, dim, bh, 2 * hidden, dim, 2 * hidden, nt);
            }
            par.range(nt, (t0, t1) -> {
                for (int t = t0; t < t1; t++) Kernels.swiglu(bh, t * 2 * hidden, bh, t * 2 * hidden, bh, t * 2 * hidden + hidden, hidden);
            });
            if (Kernels.SCALAR) mmScalar(w2[l], bh, 2 * hidden, bxb, 0, dim, hidden, dim, nt);
            else mm(w2P[l], bh, 2 * hidden, bxb, dim, hidden, dim, nt);
            addRows(nt);
        }
    }

    /** bxb[t] = rmsnorm(bx[t]) * gain for the block's rows, rows over threads. */
    private void rmsnormRows(float[] gain, int nt) {
        int dim = c.dim();
        par.range(nt, (t0, t1) -> {
            for (int t = t0; t < t1; t++) Kernels.rmsnorm(bxb, t * dim, bx, t * dim, gain, dim, c.normEps());
        });
    }

    /** The residual: bx += bxb over the block's rows, rows over threads. */
    private void addRows(int nt) {
        int dim = c.dim();
        par.range(nt, (t0, t1) -> {
            for (int i = t0 * dim; i < t1 * dim; i++) bx[i] += bxb[i];
        });
    }

    /**
     * One head for the nt block queries at positions pos0.. as GEMMs: scores against every visible key
     * (K^T packed into panels), causal softmax per row, then P V straight from the value cache.
     */
    private void attendBlock(int l, int h, int pos0, int nt, int part) {
        int hd = c.headDim(), kvDim = c.kvDim(), dim = c.dim(), ko = (h / (c.nHeads() / c.nKvHeads())) * hd, end = pos0 + nt;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] kp = keyPanels[part], s = scores[part];
        Sgemm.packTransposed(keyCache[l], ko, kvDim, end, hd, kp, 0, Sgemm.panels(end));
        // causal: rows [r0, r1) of the block see keys [0, pos0 + r1) only, so neither product touches the masked rest
        for (int r0 = 0; r0 < nt; r0 += CAUSAL_ROWS) {
            int r1 = Math.min(nt, r0 + CAUSAL_ROWS), seen = pos0 + r1;
            Sgemm.rows(r0, r1, seen, hd, bqkv, h * hd, dim + 2 * kvDim, 1, kp, 0, Sgemm.NR, hd * Sgemm.NR, s, 0, end, false, packScratch[part]);
            for (int t = r0; t < r1; t++) {
                int o = t * end, visible = pos0 + t + 1;
                Kernels.softmax(s, o, visible, scale);
                java.util.Arrays.fill(s, o + visible, o + seen, 0f);
            }
            Sgemm.rows(r0, r1, hd, seen, s, 0, end, 1, valueCache[l], ko, kvDim, Sgemm.NR, bxb2, h * hd, dim, false, packScratch[part]);
        }
    }

    /** Query rows per causal step of {@link #attendBlock}. */
    private static final int CAUSAL_ROWS = 32;

    @Override
    public void close() {
        par.close();
    }
}
