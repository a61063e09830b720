package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the CLI in-process for tests: its exit code and what it printed to the error stream. */
record CliRun(int code, String err) {
    static CliRun run(String... args) {
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(err, true), args);
        return new CliRun(code, err.toString());
    }

    /** Runs and requires exit 0 (the error text is the failure message otherwise). */
    static void ok(String... args) {
        CliRun r = run(args);
        assertEquals(0, r.code(), r.err());
    }
}
