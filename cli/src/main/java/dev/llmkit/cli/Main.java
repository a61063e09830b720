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

    public static void main(String[] args) {
        if (!"false".equals(System.getProperty("llmkit.loadAhead"))) ModelPrefetch.start(args);
        System.exit(run(args));
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
        String named = null;             // the first word that is not an option names the subcommand
        for (String a : args) {
            if (!a.startsWith("-")) {
                named = a;
                break;
            }
        }
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
