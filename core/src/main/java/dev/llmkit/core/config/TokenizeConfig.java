package dev.llmkit.core.config;

/**
 * {@code data.tokenize}: turning a corpus into token shards.
 *
 * @param threads encoding threads; 0 = all cores
 */
public record TokenizeConfig(int threads) {
    public TokenizeConfig {
        Checks.require(threads >= 0 && threads <= 1024, "threads", threads, "must be in [0, 1024] (0 = all cores)");
    }

    public static TokenizeConfig defaults() {
        return new TokenizeConfig(0);
    }
}
