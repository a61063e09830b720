package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.LlmkitException;
import dev.llmkit.core.StorageException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/** Entry point: runs the picocli command tree and maps errors to exit codes and one-line messages. */
public final class Main {
    private Main() {}

    static {
        // picocli's default factory looks for Groovy's closure class when first used: a class that is on
        // no llmkit class path, so the lookup opened every jar of lib/ before failing (60-80 ms of each
        // command's start on the Zen 1). picocli's own switch skips it.
        if (System.getProperty("picocli.disable.closures") == null) System.setProperty("picocli.disable.closures", "true");
    }

    /**
     * Commands that register no shutdown hook and leave no file to delete at exit: they end by halting
     * the JVM once their output is flushed. Since JDK 21, {@link System#exit} looks up a logger for
     * {@code java.lang.Runtime}, and finding the logging backend makes a service lookup open every jar
     * of lib/ (about 50 ms of a fresh {@code generate} on the Zen 1, after its last token).
     */
    private static final java.util.Set<String> HALT_AT_END = java.util.Set.of("generate", "chat");

    public static void main(String[] args) {
        if (!"false".equals(System.getProperty("llmkit.loadAhead"))) ModelPrefetch.start(args);
        int code = run(args);
        if (haltsAtEnd(args) && haltable()) {
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(code);
        }
        System.exit(code);
    }

    /**
     * Whether halting skips no shutdown hook that someone asked for: not when {@code llmkit.haltAtEnd} is
     * false, nor when a flight recording or a Java agent (a coverage tool, a profiler) would write its
     * results in one.
     */
    private static boolean haltable() {
        if ("false".equals(System.getProperty("llmkit.haltAtEnd")) || jdk.jfr.FlightRecorder.isInitialized()) return false;
        for (String a : dev.llmkit.core.util.ProcessInfo.commandLineAndJavaOptions()) {
            if (a.startsWith("-javaagent") || a.startsWith("-agentlib") || a.startsWith("-agentpath")) return false;
        }
        return true;
    }

    /** Whether the command line's command is one of {@link #HALT_AT_END} (none for {@code --version} or {@code --help} alone). */
    static boolean haltsAtEnd(String... args) {
        String sub = subcommand(args);
        return sub != null && HALT_AT_END.contains(sub);     // Set.of(...).contains(null) throws
    }

    /** The first word of a command line that is not an option: the subcommand's name, or null. */
    static String subcommand(String... args) {
        for (String a : args) if (!a.startsWith("-")) return a;
        return null;
    }

    /** Runs llmkit in-process (also used by tests) and returns the exit code. */
    public static int run(String... args) {
        return commandLine(args).execute(args);
    }

    /** Runs llmkit in-process with its error messages going to {@code err}. */
    public static int run(PrintWriter err, String... args) {
        CommandLine cl = commandLine(args);
        cl.setErr(err);
        return cl.execute(args);
    }

    static CommandLine commandLine(String... args) {
        LlmkitCommand.debug = false;     // a run in this process sets it again if its line has --debug
        CommandLine cl = new CommandLine(new LlmkitCommand());
        String named = subcommand(args);
        Class<?> only = null;
        for (Class<?> c : LlmkitCommand.SUBCOMMANDS) if (c.getAnnotation(CommandLine.Command.class).name().equals(named)) only = c;
        for (Class<?> c : LlmkitCommand.SUBCOMMANDS) if (only == null || c == only) cl.addSubcommand(c);
        cl.setExecutionExceptionHandler(Main::handle);
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpAutoWidth(true);
        return cl;
    }

    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        int code = exitCode(e);
        if (code == ExitCodes.INTERNAL) {
            err.println("llmkit: internal error: " + e);
            err.println("hint: this is a bug; rerun with --debug and report the stack trace");
        } else {
            err.println("llmkit: error: " + e.getMessage());
            String hint = e instanceof LlmkitException le && le.hint() != null ? le.hint() : defaultHint(code, cl);
            err.println("hint: " + hint);
        }
        if (LlmkitCommand.debug) e.printStackTrace(err);
        err.flush();
        return code;
    }

    /**
     * A command line picocli cannot parse (unknown option or command, a value of the wrong type, a
     * missing required option): the same one-line error and hint as every other error, not the usage
     * text, which --help shows.
     */
    private static int usageError(CommandLine.ParameterException ex, String[] args) {
        PrintWriter err = ex.getCommandLine().getErr();
        err.println("llmkit: error: " + ex.getMessage());
        java.util.List<String> similar = ex instanceof CommandLine.UnmatchedArgumentException u ? u.getSuggestions() : java.util.List.of();
        err.println("hint: " + (similar.isEmpty() ? "" : "did you mean " + String.join(" or ", similar.subList(0, Math.min(2, similar.size()))) + "? ")
                + "see " + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help");
        if (LlmkitCommand.debug) ex.printStackTrace(err);
        err.flush();
        return ExitCodes.USAGE;
    }

    /** The hint of an error that brings none of its own: every error has one, by its kind. */
    static String defaultHint(int code, CommandLine cl) {
        String cmd = cl == null ? "llmkit" : cl.getCommandSpec().qualifiedName();
        return switch (code) {
            case ExitCodes.USAGE -> "see " + cmd + " --help";
            case ExitCodes.BAD_DATA -> "the input named above is damaged or not what " + cmd + " reads; fix it or make it again";
            case ExitCodes.IO -> "check that the path exists and is readable (or writable), and that the disk has space";
            default -> "rerun with --debug for details";
        };
    }

    static int exitCode(Throwable e) {
        if (e instanceof ConfigException) return ExitCodes.USAGE;
        if (e instanceof DataException) return e.getCause() instanceof InterruptedException ? ExitCodes.INTERRUPTED : ExitCodes.BAD_DATA;
        if (e instanceof StorageException || e instanceof IOException || e instanceof UncheckedIOException) return ExitCodes.IO;
        return ExitCodes.INTERNAL;
    }
}
