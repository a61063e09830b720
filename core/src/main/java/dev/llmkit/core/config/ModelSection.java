package dev.llmkit.core.config;

import dev.llmkit.core.model.ModelConfig;
import java.util.List;
import java.util.Map;

/**
 * {@code model}: the architecture of a new model (the vocabulary size comes from the tokenizer) and
 * its random initialisation. Presets: tiny (the default) and small, as in ../shared/ANCHORS.md, with
 * the SwiGLU width a multiple of 256 (Llama's rule) so every GGML block type can quantize them.
 *
 * @param initStd standard deviation of the normal initialisation of matrices
 * @param seed    initialisation seed
 */
public record ModelSection(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int contextLength,
                           float normEps, float ropeTheta, boolean tiedEmbeddings, float initStd, long seed) {
    public ModelSection {
        Checks.require(dim > 0, "dim", dim, "must be > 0");
        Checks.require(hiddenDim > 0, "hidden_dim", hiddenDim, "must be > 0");
        Checks.require(nLayers > 0, "n_layers", nLayers, "must be > 0");
        Checks.require(nHeads > 0 && dim % nHeads == 0 && (dim / nHeads) % 2 == 0, "n_heads", nHeads, "must divide dim into even head sizes");
        Checks.require(nKvHeads > 0 && nHeads % nKvHeads == 0, "n_kv_heads", nKvHeads, "must divide n_heads");
        Checks.require(contextLength > 0 && contextLength <= 1 << 20, "context_length", contextLength, "must be in [1, 1048576]");
        Checks.require(normEps > 0 && normEps < 1, "norm_eps", normEps, "must be in (0, 1)");
        Checks.require(ropeTheta > 1, "rope_theta", ropeTheta, "must be > 1");
        Checks.require(initStd > 0 && initStd < 10, "init_std", initStd, "must be in (0, 10)");
    }

    /** The architecture of this section with the tokenizer's vocabulary size. */
    public ModelConfig toConfig(int vocabSize) {
        return new ModelConfig(dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, contextLength, normEps, ropeTheta, tiedEmbeddings);
    }

    public static ModelSection defaults() {
        return new ModelSection(256, 768, 4, 4, 4, 256, 1e-5f, 10000f, true, 0.02f, 1234);
    }

    /** The named presets as --set overrides (on top of the defaults). */
    public static final Map<String, List<String>> PRESETS = Map.of(
            "tiny", List.of(),
            "small", List.of("model.dim=288", "model.hidden_dim=768", "model.n_layers=6", "model.n_heads=6", "model.n_kv_heads=6"));
}
