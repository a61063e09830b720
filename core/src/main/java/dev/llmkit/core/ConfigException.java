package dev.llmkit.core;

/** A bad configuration: unknown key, wrong type, invalid value, bad command-line usage. */
public final class ConfigException extends LlmkitException {
    public ConfigException(String message, String hint) {
        super(message, hint, null);
    }

    public ConfigException(String message, String hint, Throwable cause) {
        super(message, hint, cause);
    }
}
