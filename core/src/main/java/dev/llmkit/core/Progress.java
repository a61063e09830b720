package dev.llmkit.core;

/**
 * Progress of one long task, reported by libraries and shown by the CLI (a bar on a terminal,
 * periodic log lines otherwise). Implementations must be thread-safe and cheap to call.
 */
public interface Progress extends AutoCloseable {
    /** Starts a phase of {@code total} units (bytes, documents...); total &lt;= 0 means unknown. */
    void start(String task, long total, String unit);

    /** Sets the absolute amount of work done in the current phase. */
    void update(long done);

    /** A short status text shown beside the bar (counts, current file). */
    default void status(String text) {}

    /** Ends the current phase. */
    @Override
    void close();

    /** Progress that shows nothing. */
    Progress NONE = new Progress() {
        @Override public void start(String task, long total, String unit) {}
        @Override public void update(long done) {}
        @Override public void close() {}
    };
}
