package dev.llmkit.cli;

import picocli.CommandLine.Command;

/** {@code llmkit tokenizer}: train and use byte-level BPE tokenizers. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Train a byte-level BPE tokenizer, encode and decode with one, benchmark against Hugging Face.",
        subcommands = {TokenizerTrainCommand.class, EncodeCommand.class, DecodeCommand.class, TokenizerBenchCommand.class},
        footer = {"", ExitCodes.HELP})
public final class TokenizerCommand {}
