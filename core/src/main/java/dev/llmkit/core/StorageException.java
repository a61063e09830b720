package dev.llmkit.core;

/** An I/O failure that is not the data's fault: unreadable input, unwritable output, disk full. */
public final class StorageException extends LlmkitException {
    public StorageException(String message, String hint, Throwable cause) {
        super(message, hint, cause);
    }
}
