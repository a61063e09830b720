package dev.llmkit.core.config;

import java.util.Objects;

/** The data stage: corpus preparation, the synthetic demo corpus, token shards. */
public record DataConfig(PrepareConfig prepare, SynthConfig synth, TokenizeConfig tokenize) {
    public DataConfig {
        Objects.requireNonNull(prepare, "prepare");
        Objects.requireNonNull(synth, "synth");
        Objects.requireNonNull(tokenize, "tokenize");
    }

    public static DataConfig defaults() {
        return new DataConfig(PrepareConfig.defaults(), SynthConfig.defaults(), TokenizeConfig.defaults());
    }
}
