package dev.llmkit.cli;

import picocli.CommandLine.Command;

/** {@code llmkit data}: the data stage. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Prepare corpora and generate the built-in demo data.",
        subcommands = {PrepareCommand.class, TokenizeCommand.class, SynthCommand.class, BenchPrepareCommand.class},
        footer = {"", ExitCodes.HELP})
public final class DataCommand {}
