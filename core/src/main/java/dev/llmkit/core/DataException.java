package dev.llmkit.core;

/** Bad input data: a malformed record or file, a corrupt or truncated compressed file. */
public final class DataException extends LlmkitException {
    public DataException(String message, String hint) {
        super(message, hint, null);
    }

    public DataException(String message, String hint, Throwable cause) {
        super(message, hint, cause);
    }
}
