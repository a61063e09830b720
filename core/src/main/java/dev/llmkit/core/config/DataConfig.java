package dev.llmkit.core.config;

import java.util.Objects;

/** The data stage: corpus preparation and the synthetic demo corpus. */
public record DataConfig(PrepareConfig prepare, SynthConfig synth) {
    public DataConfig {
        Objects.requireNonNull(prepare, "prepare");
        Objects.requireNonNull(synth, "synth");
    }

    public static DataConfig defaults() {
        return new DataConfig(PrepareConfig.defaults(), SynthConfig.defaults());
    }
}
