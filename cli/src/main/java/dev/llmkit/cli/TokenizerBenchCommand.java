package dev.llmkit.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code llmkit tokenizer bench}: placeholder until written. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmark tokenizer training and encoding against Hugging Face tokenizers.")
public final class TokenizerBenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return ExitCodes.OK;
    }
}
