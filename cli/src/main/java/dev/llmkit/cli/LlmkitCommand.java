package dev.llmkit.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The top-level {@code llmkit} command. */
@Command(name = "llmkit", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Train small Llama-style language models end to end on a CPU.",
        subcommands = {DataCommand.class, TokenizerCommand.class, ModelCommand.class, PretrainCommand.class, FinetuneCommand.class, ExportCommand.class, QuantizeCommand.class, EvalCommand.class, PipelineCommand.class, GenerateCommand.class, ChatCommand.class, DemoCommand.class, AotTrainingCommand.class},
        footer = {"", ExitCodes.HELP})
public final class LlmkitCommand {
    static volatile boolean debug;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "Show stack traces of errors and more detailed logs.")
    void setDebug(boolean on) {
        debug = on;
    }
}
