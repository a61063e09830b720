package dev.llmkit.core.config;

/**
 * {@code data.synth}: the built-in demo corpus of fictional biographies and Q&amp;A pairs.
 *
 * @param people           number of fictional people
 * @param seed             random seed; the same seed gives byte-identical output
 * @param augment          biographies per person; 1 means one fixed template and order, K &gt; 1 varied wording and order
 * @param finetuneFraction fraction of people whose Q&amp;A pairs are for fine-tuning; the rest are held out
 * @param docsPerShard     biographies per output shard
 */
public record SynthConfig(int people, long seed, int augment, double finetuneFraction, int docsPerShard) {
    public SynthConfig {
        Checks.require(people >= 2 && people <= 10_000_000, "people", people, "must be in [2, 10000000]");
        Checks.require(augment >= 1 && augment <= 1000, "augment", augment, "must be in [1, 1000]");
        Checks.require(finetuneFraction > 0 && finetuneFraction < 1, "finetune_fraction", finetuneFraction, "must be in (0, 1)");
        Checks.require(docsPerShard >= 1, "docs_per_shard", docsPerShard, "must be >= 1");
    }

    public static SynthConfig defaults() {
        return new SynthConfig(1000, 42, 5, 0.5, 100_000);
    }
}
