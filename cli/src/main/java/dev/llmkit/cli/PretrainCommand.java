package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.LlmkitConfig;
import dev.llmkit.core.io.TokenManifest;
import dev.llmkit.trainer.Pretrainer;
import dev.llmkit.trainer.TrainingLoop;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code llmkit pretrain}: token shards in, checkpoints, metrics.jsonl and loss.png out (03-pretrain). */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false, subcommands = PretrainBenchCommand.class,
        description = "Pre-train a Llama-style model on token shards with AdamW (warmup + cosine decay, clipping, accumulation). "
                + "Every pretrain.eval_interval steps: validation loss and bits per byte, an atomic checkpoint in OUT/checkpoints/step-NNNNNN "
                + "(the newest keep_checkpoints and the best are kept) and a greedy sample (OUT/samples.jsonl). OUT/metrics.jsonl has one line "
                + "per step, OUT/loss.png the curves, OUT/final links to the last checkpoint. --resume continues a killed run bitwise exactly.",
        footer = {"", "Examples:", "  llmkit pretrain --tokens runs/demo/02-tokens --config configs/tiny.yaml --out runs/demo/03-pretrain",
                "  llmkit pretrain --tokens runs/demo/02-tokens --config configs/tiny.yaml --out runs/demo/03-pretrain --resume", "", ExitCodes.HELP})
public final class PretrainCommand implements Callable<Integer> {
    @Option(names = "--tokens", paramLabel = "DIR", description = "Token directory from `llmkit data tokenize` (02-tokens); required.")
    Path tokens;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Run directory (03-pretrain); required.")
    Path out;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: the one manifest.json names, or ../01-tokenizer/tokenizer.json).")
    Path tokenizer;

    @Option(names = "--preset", paramLabel = "NAME", description = "Model preset tiny or small (applied after --config, before --set).")
    String preset;

    @Option(names = "--max-steps", paramLabel = "N", description = "Optimizer steps (pretrain.steps).")
    Integer maxSteps;

    @Option(names = "--resume", description = "Continue from the newest complete checkpoint in OUT.")
    boolean resume;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads, 0 = all cores (pretrain.threads).")
    Integer threads;

    @Option(names = "--matmul", paramLabel = "BACKEND", description = "java or nd4j (pretrain.matmul).")
    String matmul;

    @Mixin
    ConfigOptions config;

    @Override
    public Integer call() {
        if (tokens == null || out == null) {
            throw new ConfigException("llmkit pretrain needs --tokens DIR and --out DIR", "see llmkit pretrain --help");
        }
        config.preset(preset);
        List<String> flags = new ArrayList<>();
        if (maxSteps != null) flags.add("pretrain.steps=" + maxSteps);
        if (threads != null) flags.add("pretrain.threads=" + threads);
        if (matmul != null) flags.add("pretrain.matmul=" + matmul);
        ConfigLoader.Resolved resolved = config.resolve(flags);
        Path tok = tokenizer != null ? tokenizer : defaultTokenizer(tokens);
        print(train(tokens, tok, resolved.config(), out, resume));
        return ExitCodes.OK;
    }

    /** Runs the pre-training with a progress bar, its log lines shown above the bar. */
    static TrainingLoop.Result train(Path tokens, Path tokenizer, LlmkitConfig cfg, Path out, boolean resume) {
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            return Pretrainer.run(tokens, tokenizer, cfg.model(), cfg.pretrain(), out, resume, progress, new Pretrainer.Listener() {
                @Override
                public void log(String line) {
                    progress.log(line);
                }
            });
        }
    }

    static Path defaultTokenizer(Path tokens) {
        TokenManifest m = TokenManifest.read(tokens);
        Path named = Path.of(m.tokenizer().path());
        if (Files.isRegularFile(named)) return named;
        Path sibling = tokens.toAbsolutePath().getParent().resolve("01-tokenizer/tokenizer.json");
        if (Files.isRegularFile(sibling)) return sibling;
        throw new ConfigException(tokens + ": the tokenizer " + named + " named in manifest.json is not there", "pass --tokenizer FILE");
    }

    static void print(TrainingLoop.Result r) {
        System.out.printf(Locale.ROOT, "pretrained %d steps%s in %.1f s: loss %s, val loss %s, val bits/byte %s, %,.0f tokens/s, MFU %.1f%%, peak RSS %d MiB%s%n",
                r.steps(), r.resumed() ? " (resumed)" : "", r.seconds(), f(r.trainLoss()), f(r.valLoss()), f(r.valBitsPerByte()), r.tokensPerSecond(),
                100 * r.mfu(), dev.llmkit.core.util.ProcessInfo.peakRssMib(), r.skippedSteps() > 0 ? ", " + r.skippedSteps() + " step(s) skipped" : "");
        System.out.println("final checkpoint: " + r.checkpoint());
    }

    private static String f(double x) {
        return Double.isNaN(x) ? "n/a" : String.format(Locale.ROOT, "%.4f", x);
    }
}
