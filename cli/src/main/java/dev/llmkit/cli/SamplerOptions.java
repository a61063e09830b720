package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.eval.engine.Sampler;
import picocli.CommandLine.Option;

/** The sampler flags shared by {@code generate} and {@code chat}. */
public final class SamplerOptions {
    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8", description = "0 = greedy (default ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Keep the K most likely tokens, 0 = off (default).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "Nucleus sampling threshold, 1 = off (default ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1.0", description = "Penalty on tokens already present, 1 = off (default).")
    float repetitionPenalty;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "Sampling seed (default ${DEFAULT-VALUE}).")
    long seed;

    /** The settings; an invalid value is a usage error naming it. */
    Sampler.Params params(String command) {
        try {
            return new Sampler.Params(temperature, topK, topP, repetitionPenalty, seed);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage(), "see llmkit " + command + " --help");
        }
    }
}
