package dev.llmkit.core.model;

import dev.llmkit.core.ConfigException;

/**
 * The one architecture: a Llama-style decoder (RMSNorm, rotary embeddings on interleaved pairs as in
 * GGUF/llama.cpp, SwiGLU MLP, causal attention with {@code nKvHeads} grouped key/value heads, tied or
 * untied output embedding). Validates itself; messages name the field and value.
 */
public record ModelConfig(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize,
                          int contextLength, float normEps, float ropeTheta, boolean tiedEmbeddings) {
    public ModelConfig {
        check(dim > 0 && dim <= 65536, "dim", dim, "must be in [1, 65536]");
        check(hiddenDim > 0 && hiddenDim <= 1 << 20, "hidden_dim", hiddenDim, "must be in [1, 1048576]");
        check(nLayers > 0 && nLayers <= 1024, "n_layers", nLayers, "must be in [1, 1024]");
        check(nHeads > 0 && dim % nHeads == 0, "n_heads", nHeads, "must divide dim " + dim);
        check((dim / nHeads) % 2 == 0, "n_heads", nHeads, "must leave an even head size (dim / n_heads = " + dim / nHeads + ")");
        check(nKvHeads > 0 && nHeads % nKvHeads == 0, "n_kv_heads", nKvHeads, "must divide n_heads " + nHeads);
        check(vocabSize > 0 && vocabSize <= 1 << 24, "vocab_size", vocabSize, "must be in [1, 16777216]");
        check(contextLength > 0 && contextLength <= 1 << 20, "context_length", contextLength, "must be in [1, 1048576]");
        check(normEps > 0 && normEps < 1, "norm_eps", normEps, "must be in (0, 1)");
        check(ropeTheta > 1, "rope_theta", ropeTheta, "must be > 1");
    }

    private static void check(boolean ok, String field, Object value, String rule) {
        if (!ok) throw new ConfigException("model config: " + field + " " + rule + ", got " + value, "fix the model preset or config.json");
    }

    public int headDim() {
        return dim / nHeads;
    }

    public int kvDim() {
        return nKvHeads * headDim();
    }

    /** Number of parameters (embedding counted once when tied). */
    /**
     * What GGML's block quantization cannot do with this shape: every matrix row has length dim or
     * hidden_dim, and Q8_0/Q4_0/Q4_1/Q5_x quantize rows in blocks of 32, the K-quants in super-blocks of
     * 256 (llama.cpp falls back to another type per tensor, or refuses). Empty when every type applies.
     */
    public java.util.List<String> quantizationLimits() {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (int[] d : new int[][] {{dim, 0}, {hiddenDim, 1}}) {
            String name = d[1] == 0 ? "dim" : "hidden_dim";
            if (d[0] % 32 != 0) {
                out.add(name + " " + d[0] + " is not a multiple of 32: no block type (Q8_0, Q4_0, K-quants) can quantize its rows; llama.cpp "
                        + "refuses Q8_0/Q4_0 and keeps F16 (use " + (d[0] + 31) / 32 * 32 + " or " + (d[0] + 255) / 256 * 256 + ")");
            } else if (d[0] % 256 != 0) {
                out.add(name + " " + d[0] + " is not a multiple of 256: the K-quants (Q4_K, Q5_K, Q6_K) fall back to Q5_0/Q5_1/Q8_0 for its rows"
                        + " (use " + (d[0] + 255) / 256 * 256 + " for every type)");
            }
        }
        return out;
    }

    public long parameters() {
        long perLayer = 2L * dim + (long) dim * dim * 2 + 2L * dim * kvDim() + 3L * dim * hiddenDim;
        return (long) vocabSize * dim * (tiedEmbeddings ? 1 : 2) + nLayers * perLayer + dim;
    }
}
