package dev.llmkit.eval.engine;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.quant.GgmlType;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Batch-1 inference for the Llama architecture, llama2.c style: weights behind {@link WeightMatrix}
 * (F32 or any GGML block type, run as stored), a KV cache, every buffer allocated once, matvecs split
 * over output rows on {@code threads} threads; q|k|v and gate|up each one stacked matrix. Rotary
 * embeddings rotate interleaved pairs (x[2i], x[2i+1]) as GGUF/llama.cpp do. Not thread-safe: one
 * sequence at a time.
 */
public final class LlamaEngine implements State {
    private final ModelConfig c;
    private final int positions;                                  // KV cache capacity (<= context length)
    private final Parallel par;

    // Weights [out, in]; norms F32.
    private final WeightMatrix embed, output;                     // [vocab, dim] each (the same matrix when tied)
    private final float[] outputNorm;
    private final float[][] attnNorm, ffnNorm;
    private final WeightMatrix[] wqkv, wo, w13, w2;                // q|k|v [dim + 2 kvDim, dim], [dim, dim], gate|up [2 hidden, dim], [dim, hidden]

    // State.
    private final float[] x, xb, xb2, qkv, h, att, logits;         // [dim] x3, [dim + 2 kvDim], [2 hidden], [heads * ctx], [vocab]
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
        embed = WeightMatrix.of(w, TensorNames.EMBED);
        outputNorm = w.get(TensorNames.OUTPUT_NORM);
        output = c.tiedEmbeddings() ? embed : WeightMatrix.of(w, TensorNames.OUTPUT);
        int n = c.nLayers();
        attnNorm = new float[n][]; ffnNorm = new float[n][];
        wqkv = new WeightMatrix[n]; wo = new WeightMatrix[n]; w13 = new WeightMatrix[n]; w2 = new WeightMatrix[n];
        for (int l = 0; l < n; l++) {
            attnNorm[l] = w.get(TensorNames.blk(l, "attn_norm"));
            ffnNorm[l] = w.get(TensorNames.blk(l, "ffn_norm"));
            wqkv[l] = WeightMatrix.stack(WeightMatrix.of(w, TensorNames.blk(l, "attn_q")), WeightMatrix.of(w, TensorNames.blk(l, "attn_k")),
                    WeightMatrix.of(w, TensorNames.blk(l, "attn_v")));
            wo[l] = WeightMatrix.of(w, TensorNames.blk(l, "attn_output"));
            w13[l] = WeightMatrix.stack(WeightMatrix.of(w, TensorNames.blk(l, "ffn_gate")), WeightMatrix.of(w, TensorNames.blk(l, "ffn_up")));
            w2[l] = WeightMatrix.of(w, TensorNames.blk(l, "ffn_down"));
        }
        if (ColdStart.startsCold()) CompileAhead.engineStarts(weightTypes());
        int dim = c.dim(), kv = c.kvDim(), ctx = positions;
        x = new float[dim]; xb = new float[dim]; xb2 = new float[dim]; qkv = new float[dim + 2 * kv]; h = new float[2 * c.hiddenDim()];
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

    /** The storage types the weight matrices run on (F16 and BF16 ones are widened to F32 when loaded). */
    private Set<GgmlType> weightTypes() {
        Set<GgmlType> types = EnumSet.noneOf(GgmlType.class);
        embed.addTypes(types);
        output.addTypes(types);
        for (WeightMatrix[] ms : List.of(wqkv, wo, w13, w2)) for (WeightMatrix m : ms) m.addTypes(types);
        return types;
    }

    public ModelConfig config() {
        return c;
    }

    /**
     * Every engine of this process runs the Vector API kernels from now on, without (the rest of) the
     * first-second cold start ({@link ColdStart}): for the start-up cache's recording, which runs both.
     */
    public static void useWarmKernels() {
        ColdStart.force(false);
    }

    /**
     * A process loading a model for an engine: where kernels are compiled ahead ({@link CompileAhead}), has C2
     * compile the decode products of weight matrices stored in {@code matrixTypes} (none: nothing yet) now, while
     * the model loads; otherwise nothing. An engine asks for them itself when it starts; this only starts sooner.
     */
    public static void prepare(Set<GgmlType> matrixTypes) {
        if (!ColdStart.startsCold() || !CompileAhead.available()) return;
        if (!matrixTypes.isEmpty()) CompileAhead.decode(matrixTypes);
    }

    /** Bytes the weight matrices hold as the engine runs them. */
    public long weightBytes() {
        long b = embed.bytes() + (output != embed ? output.bytes() : 0);
        for (int l = 0; l < c.nLayers(); l++) b += wqkv[l].bytes() + wo[l].bytes() + w13[l].bytes() + w2[l].bytes();
        return b;
    }

    /** Positions the KV cache holds. */
    public int positions() {
        return positions;
    }

    // ---------------------------------------------------------------- State: the sequence so far

    private int length;                                    // positions appended through the State methods

    @Override
    public int position() {
        return length;
    }

    @Override
    public int capacity() {
        return positions;
    }

    @Override
    public void rewind(int position) {
        if (position < 0 || position > length) throw new IllegalArgumentException("rewind to " + position + " of " + length + " positions");
        length = position;
    }

    @Override
    public float[] prefill(int[] tokens, int from, int to) {
        float[] l = prefill(from == 0 && to == tokens.length ? tokens : java.util.Arrays.copyOfRange(tokens, from, to), length);
        length += to - from;
        return l;
    }

    @Override
    public void score(int[] tokens, int from, int to, int next, double[] logProbs, int off) {
        double[] lp = off == 0 ? logProbs : new double[to - from];
        score(from == 0 && to == tokens.length ? tokens : java.util.Arrays.copyOfRange(tokens, from, to), length, lp, next);
        if (lp != logProbs) System.arraycopy(lp, 0, logProbs, off, to - from - (next >= 0 ? 0 : 1));
        length += to - from;
    }

    @Override
    public float[] decode(int token) {
        float[] l = forward(token, length, true);
        length++;
        return l;
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
        long start = System.nanoTime();
        int dim = c.dim(), kvDim = c.kvDim(), hd = c.headDim(), hidden = c.hiddenDim();
        embed.row(token, x, 0);
        this.pos = pos;
        for (int l = 0; l < c.nLayers(); l++) {
            layer = l;
            // 1. Attention: norm, q|k|v, rotary, cache, scores, weighted values, output projection.
            Elementwise.rmsnorm(xb, x, attnNorm[l], dim, c.normEps());
            par.chunks(dim + 2 * kvDim, ROWS, qkvBody);
            rope(qkv, 0, c.nHeads(), pos, hd);
            rope(qkv, dim, c.nKvHeads(), pos, hd);
            System.arraycopy(qkv, dim, keyCache[l], pos * kvDim, kvDim);
            System.arraycopy(qkv, dim + kvDim, valueCache[l], pos * kvDim, kvDim);
            par.range(c.nHeads(), attentionBody);
            par.chunks(dim, ROWS, woBody);
            Elementwise.add(x, xb, dim);
            // 2. SwiGLU MLP: gate|up, then silu(gate) * up into the first half.
            Elementwise.rmsnorm(xb, x, ffnNorm[l], dim, c.normEps());
            par.chunks(2 * hidden, ROWS, gateUpBody);
            Elementwise.swiglu(h, 0, h, 0, h, hidden, hidden);
            par.chunks(dim, ROWS, w2Body);
            Elementwise.add(x, xb, dim);
        }
        if (wantLogits) {
            Elementwise.rmsnorm(xb, x, outputNorm, dim, c.normEps());
            par.chunks(c.vocabSize(), ROWS, classifierBody);
        }
        ColdStart.ran(start);
        return wantLogits ? logits : null;
    }

    private void woRows(int a, int b) {
        wo[layer].matvec(xb2, 0, xb, 0, a, b);
    }

    private void w2Rows(int a, int b) {
        w2[layer].matvec(h, 0, xb, 0, a, b);
    }

    private void classifierRows(int a, int b) {
        output.matvec(xb, 0, logits, 0, a, b);
    }

    /** Rows [a, b) of the stacked q|k|v projection. */
    private void qkv(int l, int a, int b) {
        wqkv[l].matvec(xb, 0, qkv, 0, a, b);
    }

    private void gateUp(int l, int a, int b) {
        w13[l].matvec(xb, 0, h, 0, a, b);
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
        for (int hh = h0; hh < h1; hh++) attendHead(l, pos, hh, qkv, 0, xb2, 0);
    }

    /** One head of one query (qs[qOff..]) over the cached positions 0..pos, into out[oOff + h * hd ..]. */
    private void attendHead(int l, int pos, int h, float[] qs, int qOff, float[] out, int oOff) {
        int hd = c.headDim(), kvDim = c.kvDim(), group = c.nHeads() / c.nKvHeads(), ctx = positions;
        float scale = (float) (1.0 / Math.sqrt(hd));
        int qo = qOff + h * hd, oo = oOff + h * hd, ko = (h / group) * hd, ao = h * ctx;
        float[] kc = keyCache[l], vc = valueCache[l];
        if (ColdStart.cold()) {
            // as the cold prefill computes a row: several keys (then several value columns) side by side
            ColdKernels.rows(0, 1, pos + 1, hd, qs, qo, 0, kc, ko, 1, kvDim, att, ao, 0);
            Elementwise.softmax(att, ao, pos + 1, scale);
            ColdKernels.rows(0, 1, hd, pos + 1, att, ao, 0, vc, ko, kvDim, 1, out, oo, 0);
            return;
        }
        Kernels.scores(qs, qo, kc, ko, kvDim, pos + 1, att, ao, hd);
        Elementwise.softmax(att, ao, pos + 1, scale);
        Kernels.weightedSum(att, ao, pos + 1, vc, ko, kvDim, out, oo, hd);
    }

    // ---------------------------------------------------------------- batched prefill

    /** Prompt tokens per prefill block: the weights are streamed once per block. */
    static final int BLOCK = 128;
    /**
     * Rows per chunk at least of a weight product shared out through {@link Parallel#chunks} (an F32 matvec's panel of
     * W^T): a thread slowed by something else on its core (in a fresh process, the JIT compilers) takes fewer rows
     * instead of holding the other up. A row's sum does not depend on which thread or chunk runs it.
     */
    private static final int ROWS = 32;
    private float[] bx, bxb, bxb2, bqkv, bh;               // [BLOCK * width] each, allocated on first prefill
    private WeightMatrix.BatchScratch batch;               // the products' packed activations and decoded rows
    private float[][] packScratch;                         // per thread: Sgemm's packed activations (attention)
    private float[][] keyPanels, scores;                   // per thread: K^T panels [positions, hd]; block scores [BLOCK, positions]

    /**
     * Runs {@code tokens} at positions {@code start..} in blocks of {@link #BLOCK} with matrix-matrix
     * products (each weight row is read once per block instead of once per token) and returns the
     * logits after the last token. Equal to calling {@link #forward} token by token, up to float rounding; a cold
     * engine, while its batched products are cold, runs the blocks on the decode products with forward's bits
     * ({@link ColdStart#promptOnDecode}, {@link #decodeBlock}).
     */
    public float[] prefill(int[] tokens, int start) {
        checkRange(tokens, start);
        ensureBlock();
        int nt = 0;
        for (int b0 = 0; b0 < tokens.length; b0 += BLOCK) {
            nt = Math.min(BLOCK, tokens.length - b0);
            long t0 = System.nanoTime();
            runBlock(tokens, b0, nt, start + b0);
            ColdStart.ran(t0);
        }
        long t0 = System.nanoTime();
        System.arraycopy(bx, (nt - 1) * c.dim(), x, 0, c.dim());
        Elementwise.rmsnorm(xb, x, outputNorm, c.dim(), c.normEps());
        // cold: a quantized classifier as a batched product of one row, on the cold kernels (its matvec has
        // only Vector API kernels, interpreted this early; an F32 matvec has cold kernels of its own)
        if (ColdStart.cold() && output.type() != GgmlType.F32) {
            ensureBatch();
            output.matmul(par, xb, c.dim(), 1, logits, 0, c.vocabSize(), batch);
        } else {
            par.chunks(c.vocabSize(), ROWS, classifierBody);
        }
        ColdStart.ran(t0);
        return logits;
    }

    private float[] blogits;                               // [BLOCK * vocab], allocated on first scoring

    /**
     * Runs {@code tokens} at positions {@code start..} as {@link #prefill} does (the KV cache holds
     * them afterwards) and writes, for every i < tokens.length - 1, the natural-log probability of
     * tokens[i + 1] after tokens[..i] into {@code logProbs[i]}: the classifier runs on every position
     * of a block as one batched product (cold, as the prompt's blocks do: on the decode products, with the
     * log-probabilities of {@link #forward}'s logits).
     */
    public void score(int[] tokens, int start, double[] logProbs) {
        score(tokens, start, logProbs, -1);
    }

    /**
     * {@link #score(int[], int, double[])}, and when {@code next >= 0} also the log-probability of
     * {@code next} after the last token, into {@code logProbs[tokens.length - 1]}.
     */
    public void score(int[] tokens, int start, double[] logProbs, int next) {
        if (tokens.length < (next >= 0 ? 1 : 2)) throw new IllegalArgumentException("scoring needs at least 2 tokens");
        if (next >= c.vocabSize()) throw new IllegalArgumentException("token " + next + " out of range");
        checkRange(tokens, start);
        ensureBlock();
        if (blogits == null) blogits = new float[BLOCK * c.vocabSize()];
        int dim = c.dim(), vocab = c.vocabSize();
        int predicted = next >= 0 ? tokens.length : tokens.length - 1;
        for (int b0 = 0; b0 < predicted; b0 += BLOCK) {
            long started = System.nanoTime();
            int nt = Math.min(BLOCK, tokens.length - b0), base = b0, rows = Math.min(nt, predicted - b0);
            boolean onDecode = runBlock(tokens, b0, nt, start + b0);
            rmsnormRows(outputNorm, rows);
            if (onDecode) {
                blockTokens = rows;
                par.chunks(vocab, ROWS, blockClassifierBody);
            } else {
                output.matmul(par, bxb, dim, rows, blogits, 0, vocab, batch);
            }
            par.range(rows, (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    int o = t * vocab, target = base + t + 1 < tokens.length ? tokens[base + t + 1] : next;
                    logProbs[base + t] = blogits[o + target] - Elementwise.logSumExp(blogits, o, vocab);
                }
            });
            ColdStart.ran(started);
        }
    }

    private void checkRange(int[] tokens, int start) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens");
        if (start < 0 || start + (long) tokens.length > positions) {
            throw new ConfigException(tokens.length + " tokens from position " + start + " exceed the " + positions + " positions of this engine (context length " + c.contextLength() + ")",
                    "shorten the prompt or --max-tokens");
        }
    }

    /** The block's activations (a prompt on the decode kernels needs no more). */
    private void ensureBlock() {
        if (bx != null) return;
        int d = c.dim(), kv = c.kvDim(), hid = c.hiddenDim();
        bx = new float[BLOCK * d]; bxb = new float[BLOCK * d]; bxb2 = new float[BLOCK * d];
        bqkv = new float[BLOCK * (d + 2 * kv)]; bh = new float[BLOCK * 2 * hid];
    }

    /** The block's activations and the batched products' scratch. */
    private void ensureBatch() {
        if (batch != null) return;
        ensureBlock();
        int d = c.dim(), hid = c.hiddenDim();
        batch = new WeightMatrix.BatchScratch(par.threads(), BLOCK, Math.max(d, hid));
        packScratch = new float[par.threads()][];
        keyPanels = new float[par.threads()][];
        scores = new float[par.threads()][];
        for (int i = 0; i < packScratch.length; i++) {
            packScratch[i] = Sgemm.packScratch();
            keyPanels[i] = new float[Sgemm.packedSize(positions, c.headDim())];
            scores[i] = new float[BLOCK * positions];
        }
    }

    /**
     * The nt tokens at positions pos0.. into the block's residuals bx: while the batched products are cold and the
     * decode products compiled ahead, on those, each weight read once per block all the same
     * ({@link ColdStart#promptOnDecode}, {@link #decodeBlock}); in batched products otherwise ({@link #block}).
     * Returns whether it ran on the decode products.
     */
    private boolean runBlock(int[] tokens, int off, int nt, int pos0) {
        if (ColdStart.promptOnDecode()) {
            decodeBlock(tokens, off, nt, pos0);
            return true;
        }
        ensureBatch();
        block(tokens, off, nt, pos0);
        return false;
    }

    /** bx[t] = the embedding of tokens[off + t], t < nt. */
    private void embedBlock(int[] tokens, int off, int nt) {
        int dim = c.dim();
        for (int t = 0; t < nt; t++) {
            int token = tokens[off + t];
            if (token < 0 || token >= c.vocabSize()) throw new IllegalArgumentException("token " + token + " out of range");
            embed.row(token, bx, t * dim);
        }
    }

    private void block(int[] tokens, int off, int nt, int pos0) {
        int dim = c.dim(), kv = c.kvDim(), hidden = c.hiddenDim(), wqkvRows = dim + 2 * kv;
        embedBlock(tokens, off, nt);
        for (int l = 0; l < c.nLayers(); l++) {
            int layer = l;
            // 1. Attention: one product for q|k|v (rows of bqkv), rotary, cache, attention per head, output projection.
            rmsnormRows(attnNorm[l], nt);
            wqkv[l].matmul(par, bxb, dim, nt, bqkv, 0, wqkvRows, batch);
            this.layer = l;
            this.pos = pos0;
            par.range(nt, blockRopeBody);
            attendAll(layer, pos0, nt);
            wo[l].matmul(par, bxb2, dim, nt, bxb, 0, dim, batch);
            addRows(nt);
            // 2. SwiGLU MLP: one product for gate|up (rows of bh), SwiGLU into each row's first half, down projection.
            rmsnormRows(ffnNorm[l], nt);
            w13[l].matmul(par, bxb, dim, nt, bh, 0, 2 * hidden, batch);
            par.range(nt, (t0, t1) -> {
                for (int t = t0; t < t1; t++) Elementwise.swiglu(bh, t * 2 * hidden, bh, t * 2 * hidden, bh, t * 2 * hidden + hidden, hidden);
            });
            w2[l].matmul(par, bh, 2 * hidden, nt, bxb, 0, dim, batch);
            addRows(nt);
        }
    }

    // A block's parallel bodies (on the decode kernels; the norms and residual adds of batched blocks too), built once;
    // they read layer, pos (the block's first position), blockTokens and blockGain.
    private int blockTokens;
    private float[] blockGain;
    private final Parallel.Body blockQkvBody = (a, b) -> blockProduct(0, a, b);
    private final Parallel.Body blockRopeBody = (t0, t1) -> blockRope(t0, t1);
    private final Parallel.Body blockAttentionBody = (h0, h1) -> blockAttention(h0, h1);
    private final Parallel.Body blockWoBody = (a, b) -> blockProduct(1, a, b);
    private final Parallel.Body blockGateUpBody = (a, b) -> blockProduct(2, a, b);
    private final Parallel.Body blockW2Body = (a, b) -> blockProduct(3, a, b);
    private final Parallel.Body blockClassifierBody = (a, b) -> blockProduct(4, a, b);
    private final Parallel.Body blockNormBody = (t0, t1) -> blockNorm(false, t0, t1);
    private final Parallel.Body blockAddNormBody = (t0, t1) -> blockNorm(true, t0, t1);

    /**
     * Rows [a, b) of the block's product {@code which}: q|k|v, output, gate|up (units [a, b) of 64 rows of the gate
     * and of the up projection, then SwiGLU of those, so no step in between), down, the classifier (scoring: logits
     * of the block's first blockTokens positions into blogits).
     */
    private void blockProduct(int which, int a, int b) {
        int dim = c.dim(), nt = blockTokens, hidden = c.hiddenDim();
        switch (which) {
            case 0 -> wqkv[layer].matvecs(bxb, dim, nt, bqkv, 0, dim + 2 * c.kvDim(), a, b);
            case 1 -> wo[layer].matvecs(bxb2, dim, nt, bxb, 0, dim, a, b);
            case 2 -> {
                // units of 64: each split point a multiple of any vector length, so SwiGLU gives forward's bits
                a = Math.min(hidden, a * 64);
                b = Math.min(hidden, b * 64);
                w13[layer].matvecs(bxb, dim, nt, bh, 0, 2 * hidden, a, b);
                w13[layer].matvecs(bxb, dim, nt, bh, 0, 2 * hidden, hidden + a, hidden + b);
                for (int t = 0; t < nt; t++) Elementwise.swiglu(bh, t * 2 * hidden + a, bh, t * 2 * hidden + a, bh, t * 2 * hidden + hidden + a, b - a);
            }
            case 3 -> w2[layer].matvecs(bh, 2 * hidden, nt, bxb, 0, dim, a, b);
            default -> output.matvecs(bxb, dim, nt, blogits, 0, c.vocabSize(), a, b);
        }
    }

    /** Tokens [t0, t1) of the block: (the residual bx += bxb, then) bxb = rmsnorm(bx) * blockGain. */
    private void blockNorm(boolean add, int t0, int t1) {
        int dim = c.dim();
        if (add) Elementwise.add(bx, t0 * dim, bxb, t0 * dim, (t1 - t0) * dim);
        if (blockGain != null) for (int t = t0; t < t1; t++) Elementwise.rmsnorm(bxb, t * dim, bx, t * dim, blockGain, dim, c.normEps());
    }

    /** Tokens [t0, t1) of the block: rotary on q and k, k and v into the cache. */
    private void blockRope(int t0, int t1) {
        int dim = c.dim(), kv = c.kvDim(), hd = c.headDim(), rows = dim + 2 * kv;
        for (int t = t0; t < t1; t++) {
            int row = t * rows;
            rope(bqkv, row, c.nHeads(), pos + t, hd);
            rope(bqkv, row + dim, c.nKvHeads(), pos + t, hd);
            System.arraycopy(bqkv, row + dim, keyCache[layer], (pos + t) * kv, kv);
            System.arraycopy(bqkv, row + dim + kv, valueCache[layer], (pos + t) * kv, kv);
        }
    }

    /** Heads [h0, h1) of the block's queries, position by position into bxb2. */
    private void blockAttention(int h0, int h1) {
        int rows = c.dim() + 2 * c.kvDim();
        for (int hh = h0; hh < h1; hh++) for (int t = 0; t < blockTokens; t++) attendHead(layer, pos + t, hh, bqkv, t * rows, bxb2, t * c.dim());
    }

    /**
     * The nt tokens at positions pos0.. through the decode kernels, with the bits of {@link #forward} token by
     * token, but each product over the whole block ({@link WeightMatrix#matvecs}: a chunk of weight rows for
     * every token before the next chunk) and each step once per block, split over the threads, rather than
     * once per token; the residuals into bx.
     */
    private void decodeBlock(int[] tokens, int off, int nt, int pos0) {
        int dim = c.dim(), kv = c.kvDim(), hidden = c.hiddenDim();
        embedBlock(tokens, off, nt);
        blockTokens = nt;
        pos = pos0;
        rmsnormRows(attnNorm[0], nt);
        for (int l = 0; l < c.nLayers(); l++) {
            layer = l;
            par.chunks(dim + 2 * kv, ROWS, blockQkvBody);
            par.range(nt, blockRopeBody);
            par.range(c.nHeads(), blockAttentionBody);
            par.chunks(dim, ROWS, blockWoBody);
            blockGain = ffnNorm[l];
            par.range(nt, blockAddNormBody);
            par.chunks((hidden + 63) / 64, 1, blockGateUpBody);
            par.chunks(dim, ROWS, blockW2Body);
            blockGain = l + 1 < c.nLayers() ? attnNorm[l + 1] : null;
            par.range(nt, blockAddNormBody);
        }
    }

    /** Attention of the block's nt queries into bxb2: per head as GEMMs, or position by position under the scalar switch. */
    private void attendAll(int layer, int pos0, int nt) {
        int dim = c.dim(), wqkvRows = dim + 2 * c.kvDim();
        if (Kernels.SCALAR) {
            par.range(c.nHeads(), (h0, h1) -> {
                for (int hh = h0; hh < h1; hh++) for (int t = 0; t < nt; t++) attendHead(layer, pos0 + t, hh, bqkv, t * wqkvRows, bxb2, t * dim);
            });
        } else {
            par.parts(c.nHeads(), (part, h0, h1) -> {
                for (int hh = h0; hh < h1; hh++) attendBlock(layer, hh, pos0, nt, part);
            });
        }
    }

    /** bxb[t] = rmsnorm(bx[t]) * gain for the block's rows, rows over threads. */
    private void rmsnormRows(float[] gain, int nt) {
        blockGain = gain;
        par.range(nt, blockNormBody);
    }

    /** The residual: bx += bxb over the block's rows, rows over threads. */
    private void addRows(int nt) {
        blockGain = null;
        par.range(nt, blockAddNormBody);
    }

    /**
     * One head for the nt block queries at positions pos0.. as GEMMs: scores against every visible key
     * (K^T packed into panels), causal softmax per row, then P V straight from the value cache.
     */
    private void attendBlock(int l, int h, int pos0, int nt, int part) {
        int hd = c.headDim(), kvDim = c.kvDim(), dim = c.dim(), ko = (h / (c.nHeads() / c.nKvHeads())) * hd, end = pos0 + nt;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] kp = keyPanels[part], s = scores[part];
        boolean cold = ColdStart.coldBatch();     // the same bits either way, with or without K^T packed
        if (!cold) Sgemm.packTransposed(keyCache[l], ko, kvDim, end, hd, kp, 0, Sgemm.panels(end));
        // causal: rows [r0, r1) of the block see keys [0, pos0 + r1) only, so neither product touches the masked rest
        for (int r0 = 0; r0 < nt; r0 += CAUSAL_ROWS) {
            int r1 = Math.min(nt, r0 + CAUSAL_ROWS), seen = pos0 + r1;
            if (cold) ColdKernels.rows(r0, r1, seen, hd, bqkv, h * hd, dim + 2 * kvDim, keyCache[l], ko, 1, kvDim, s, 0, end);
            else Sgemm.rows(r0, r1, seen, hd, bqkv, h * hd, dim + 2 * kvDim, 1, kp, 0, Sgemm.NR, hd * Sgemm.NR, s, 0, end, false, packScratch[part]);
            for (int t = r0; t < r1; t++) {
                int o = t * end, visible = pos0 + t + 1;
                Elementwise.softmax(s, o, visible, scale);
                java.util.Arrays.fill(s, o + visible, o + seen, 0f);
            }
            if (cold) ColdKernels.rows(r0, r1, hd, seen, s, 0, end, valueCache[l], ko, kvDim, 1, bxb2, h * hd, dim);
            else Sgemm.rows(r0, r1, hd, seen, s, 0, end, 1, valueCache[l], ko, kvDim, Sgemm.NR, bxb2, h * hd, dim, false, packScratch[part]);
        }
    }

    /** Query rows per causal step of {@link #attendBlock}. */
    private static final int CAUSAL_ROWS = 32;

    @Override
    public void close() {
        par.close();
    }
}
