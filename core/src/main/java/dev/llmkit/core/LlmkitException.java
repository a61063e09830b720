package dev.llmkit.core;

/**
 * Base of the typed errors that llmkit libraries throw. Each carries a one-line message that names
 * the file, record or key at fault, and a hint of what to do. Only the CLI maps them to exit codes.
 */
public abstract class LlmkitException extends RuntimeException {
    private final String hint;

    protected LlmkitException(String message, String hint, Throwable cause) {
        super(message, cause);
        this.hint = hint;
    }

    /** What the user can do about it; may be null. */
    public String hint() {
        return hint;
    }
}
