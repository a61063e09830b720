package dev.llmkit.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The top-level {@code llmkit} command. */
@Command(name = "llmkit", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Train small Llama-style language models end to end on a CPU.",
        footer = {"", ExitCodes.HELP})
public final class LlmkitCommand {
    /**
     * The subcommands in help order. {@link Main} registers only the one a command line names (picocli
     * reads every registered command's annotations, a tenth of a second of a fresh process), or all of
     * them when the line names none (help, a typo that wants suggestions).
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(DataCommand.class, TokenizerCommand.class, ModelCommand.class, PretrainCommand.class,
            FinetuneCommand.class, ExportCommand.class, QuantizeCommand.class, EvalCommand.class, PipelineCommand.class, GenerateCommand.class,
            ChatCommand.class, DemoCommand.class, AotTrainingCommand.class);

    static volatile boolean debug;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "Show stack traces of errors and more detailed logs.")
    void setDebug(boolean on) {
        debug = on;
    }
}
