package dev.llmkit.cli;

import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.eval.engine.Generator;
import dev.llmkit.eval.engine.LanguageModel;
import dev.llmkit.eval.engine.State;
import dev.llmkit.eval.engine.Sampler;
import dev.llmkit.core.util.ProcessInfo;
import dev.llmkit.core.util.Text;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llmkit generate}: text from a prompt, streamed. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate text with the pure-Java engine from a checkpoint directory or a GGUF file (F32, F16, BF16 or any of the quantized types llmkit quantize writes, run as stored). Streams the text to standard output as it is produced and prints prompt and generation tokens/s to standard error at the end.",
        footer = {"", "Examples:", "  llmkit generate --model runs/demo/model-init --prompt \"Alice was born\" --max-tokens 40",
                "  llmkit generate --model model.gguf --prompt \"Once\" --temperature 0.8 --top-p 0.9 --seed 7", "", ExitCodes.HELP})
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|FILE", description = "Checkpoint directory or .gguf file.")
    Path model;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "The prompt (special tokens such as <|endoftext|> are recognised).")
    String prompt;

    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", defaultValue = "128", description = "Tokens to generate at most (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when this text appears (repeatable); it is not printed.")
    List<String> stop = new ArrayList<>();

    @Option(names = "--ignore-eot", description = "Do not stop at <|endoftext|>.")
    boolean ignoreEot;

    @picocli.CommandLine.Mixin
    SamplerOptions sampling;

    @Option(names = "--threads", paramLabel = "N", description = "Engine threads (default: all cores).")
    Integer threads;

    @Override
    public Integer call() {
        Sampler.Params sp = sampling.params("generate");
        if (maxTokens < 0) throw new dev.llmkit.core.ConfigException("--max-tokens must be >= 0, got " + maxTokens, "give the number of tokens to generate (0: the prompt alone)");
        Checkpoint.Loaded m = ModelCommand.loadForInference(model);
        long loaded = System.currentTimeMillis();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        int t = ModelCommand.engineThreads(threads);
        Generator.Result r;
        // an empty prompt starts from <|endoftext|> (Generator), which takes a position too
        long needed = Math.max(1, m.tokenizer().encode(prompt, true).length) + (long) maxTokens;
        int positions = (int) Math.min(m.weights().config().contextLength(), Math.max(1, needed));
        long[] firstText = {0};
        try (State state = LanguageModel.of(m).newState(positions, t)) {
            out.print(prompt);
            r = Generator.generate(state, m.tokenizer(), prompt, new Generator.Options(maxTokens, sp, stop, !ignoreEot), s -> {
                if (firstText[0] == 0) firstText[0] = System.currentTimeMillis();
                out.print(s);
                out.flush();
            });
        }
        out.println();
        // time to first token as the user sees it: from the launch (start-up, model load, prefill)
        long launched = ProcessInfo.launchedMillis();
        String ttft = Text.format("; model loaded %.2f s", (loaded - launched) / 1e3)
                + (firstText[0] == 0 ? "" : Text.format(", first token %.2f s", (firstText[0] - launched) / 1e3))
                + " after " + ProcessInfo.launchedFrom();
        System.err.println(Text.format("prompt: %d tokens, %.1f tokens/s; generated: %d tokens, %.1f tokens/s (%d threads); stopped: %s%s",
                r.promptTokens().length, r.prefillTokensPerSecond(), r.generated().length, r.decodeTokensPerSecond(), t, r.stopReason(), ttft));
        return ExitCodes.OK;
    }
}
