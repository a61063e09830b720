package dev.llmkit.core.config;

/** Validation helper for config records: messages name the key and the value. */
final class Checks {
    private Checks() {}

    static void require(boolean ok, String key, Object value, String rule) {
        if (!ok) throw new IllegalArgumentException(key + " " + rule + ", got " + value);
    }
}
