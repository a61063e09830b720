package dev.llmkit.cli;

/** The exit codes of every llmkit command (documented in README.md and in --help). */
public final class ExitCodes {
    private ExitCodes() {}

    public static final int OK = 0;
    /** An unexpected internal error (a bug): rerun with --debug and report the stack trace. */
    public static final int INTERNAL = 1;
    /** Bad usage or configuration: unknown option, unknown config key, wrong type, invalid value. */
    public static final int USAGE = 2;
    /** Bad input data: a malformed record (with --strict), a truncated or corrupt file. */
    public static final int BAD_DATA = 3;
    /** An I/O failure: unreadable input, unwritable output, disk full. */
    public static final int IO = 4;
    /** Interrupted (Ctrl-C). */
    public static final int INTERRUPTED = 130;

    public static final String HELP = """
            Exit codes:
              0  ok
              1  internal error (a bug; rerun with --debug for the stack trace)
              2  usage or configuration error
              3  bad input data
              4  I/O error
            """;
}
