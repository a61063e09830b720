package dev.llmkit.core.config;

import java.util.Objects;

/**
 * The whole resolved configuration of a run: one section per stage. Keys are snake_case in YAML
 * ({@code data.prepare.val_fraction}); see configs/ and README.md for every key and its default.
 */
public record LlmkitConfig(DataConfig data, TokenizerConfig tokenizer, ModelSection model, PretrainConfig pretrain,
                           FinetuneConfig finetune, PipelineConfig pipeline) {
    public LlmkitConfig {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(pretrain, "pretrain");
        Objects.requireNonNull(finetune, "finetune");
        Objects.requireNonNull(pipeline, "pipeline");
    }

    public static LlmkitConfig defaults() {
        return new LlmkitConfig(DataConfig.defaults(), TokenizerConfig.defaults(), ModelSection.defaults(), PretrainConfig.defaults(),
                FinetuneConfig.defaults(), PipelineConfig.defaults());
    }
}
