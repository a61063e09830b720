package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.LlmkitConfig;
import dev.llmkit.core.config.ModelSection;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.util.ProcessInfo;
import dev.llmkit.data.corpus.CorpusTexts;
import dev.llmkit.data.prepare.Corpus;
import dev.llmkit.data.prepare.InputFiles;
import dev.llmkit.data.synth.Synth;
import dev.llmkit.data.tokenize.Pretokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code llmkit finetune bench}: fine-tuning throughput against pre-training's on the same model and
 * sequence length, each a real run of the CLI in its own JVM (tokens/s as the loop measures it, peak RSS).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmark fine-tuning against pre-training on the same model (a preset, random init) and sequence length: "
                + "`llmkit pretrain` on the demo biographies' token shards, `llmkit finetune` (full, packed) and `llmkit finetune --lora` "
                + "on their Q&A pairs, each in a fresh JVM for --steps steps. Prints the median tokens/s of the steps after --warmup "
                + "(row positions per second, as metrics.jsonl reports them), the ratio to pre-training measured in the same run (goal for "
                + "full fine-tuning: >= 0.9x) and each run's peak RSS. The data is built once under --work.",
        footer = {"", "Example:", "  llmkit finetune bench --preset tiny --steps 30", "", ExitCodes.HELP})
public final class FinetuneBenchCommand implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "tiny", paramLabel = "P", description = "Model preset (default ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--steps", defaultValue = "30", paramLabel = "N", description = "Steps per run (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup", defaultValue = "8", paramLabel = "N", description = "First steps left out of the median (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--seq-len", defaultValue = "256", paramLabel = "T", description = "Tokens per row (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "B", description = "Rows per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--threads", defaultValue = "2", paramLabel = "N", description = "Compute threads (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--rounds", defaultValue = "1", paramLabel = "R", description = "Rounds of (pretrain, full, LoRA); medians over rounds (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--work", defaultValue = "runs/bench-finetune", paramLabel = "DIR", description = "Work directory (default ${DEFAULT-VALUE}).")
    Path work;

    private static final Pattern RSS = Pattern.compile("peak RSS (\\d+) MiB");

    @Override
    public Integer call() throws Exception {
        if (!ModelSection.PRESETS.containsKey(preset)) throw new dev.llmkit.core.ConfigException("unknown preset '" + preset + "'", "use " + ModelSection.PRESETS.keySet());
        if (steps <= warmup || warmup < 0) throw new dev.llmkit.core.ConfigException("--steps must exceed --warmup (>= 0)", null);
        if (rounds < 1 || batch < 1 || seqLen < 2 || threads < 1) throw new dev.llmkit.core.ConfigException("--rounds, --batch and --threads must be >= 1, --seq-len >= 2", null);
        Path base = prepare();
        System.out.printf(Locale.ROOT, "llmkit finetune bench: %s preset, %d x %d tokens per step, %d threads, %d steps (median of the last %d), %s%n",
                preset, batch, seqLen, threads, steps, steps - warmup, ProcessInfo.cpuModel());
        String[] modes = {"pretrain", "finetune (full, packed)", "finetune --lora (packed)"};
        double[][] tps = new double[3][rounds];
        long[][] rss = new long[3][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int m = 0; m < 3; m++) {
                Path out = work.resolve("run-" + m);
                if (Files.exists(out)) AtomicFiles.deleteRecursively(out);
                String log = ChildProcesses.run(command(m, base, out), Map.of("OMP_WAIT_POLICY", "passive"));
                tps[m][r] = median(out.resolve("metrics.jsonl"));
                Matcher x = RSS.matcher(log);
                rss[m][r] = x.find() ? Long.parseLong(x.group(1)) : -1;
                System.out.printf(Locale.ROOT, "  round %d, %s: %,.0f tokens/s, peak RSS %d MiB%n", r + 1, modes[m], tps[m][r], rss[m][r]);
            }
        }
        double ref = med(tps[0]);
        System.out.printf("%n| run | tokens/s | vs pretrain | peak RSS |%n|---|---|---|---|%n");
        for (int m = 0; m < 3; m++) {
            System.out.printf(Locale.ROOT, "| %s | %,.0f | %.2fx | %d MiB |%n", modes[m], med(tps[m]), med(tps[m]) / ref, Math.round(med(toDouble(rss[m]))));
        }
        System.out.println("goal: full fine-tuning >= 0.90x pre-training's tokens/s");
        return ExitCodes.OK;
    }

    /** Demo data (2000 people), a tokenizer and a random base model of the preset, built once. */
    private Path prepare() throws Exception {
        List<String> sets = new ArrayList<>(ModelSection.PRESETS.get(preset));
        ModelSection shape = ConfigLoader.load(null, sets).config().model();
        Path base = work.resolve("base-" + preset + "-" + shape.dim() + "x" + shape.hiddenDim() + "x" + shape.nLayers());
        if (Files.isRegularFile(base.resolve("model.safetensors"))) return base;
        sets.addAll(List.of("data.synth.people=2000", "data.prepare.val_fraction=0.02", "tokenizer.vocab_size=4096"));
        LlmkitConfig cfg = ConfigLoader.load(null, sets).config();
        System.out.println("preparing " + work + " (once): demo data, tokenizer, token shards, a random " + preset + " model");
        Synth.generate(cfg.data().synth(), work.resolve("raw"), true, Progress.NONE);
        Corpus.prepare(cfg.data().prepare(), InputFiles.resolve(List.of(work.resolve("raw/corpus").toString())), work.resolve("00-corpus"), true, Progress.NONE);
        TokenizerTrainCommand.train(CorpusTexts.open(List.of(work.resolve("00-corpus")), List.of()), cfg.tokenizer(), work.resolve("01-tokenizer"), true);
        Path tokJson = work.resolve("01-tokenizer/tokenizer.json");
        Pretokenizer.run(work.resolve("00-corpus"), tokJson, cfg.data().tokenize(), work.resolve("02-tokens"), true, Progress.NONE);
        Tokenizer tok = Tokenizer.load(tokJson);
        Checkpoint.write(base, Weights.init(cfg.model().toConfig(tok.vocabSize()), (float) cfg.model().initStd(), cfg.model().seed()), tokJson, null, true);
        return base;
    }

    private List<String> command(int mode, Path base, Path out) {
        List<String> c = ChildProcesses.javaCommand();
        String p = mode == 0 ? "pretrain" : "finetune";
        if (mode == 0) {
            c.addAll(List.of("pretrain", "--tokens", work.resolve("02-tokens").toString(), "--tokenizer", work.resolve("01-tokenizer/tokenizer.json").toString(),
                    "--preset", preset, "--set", "pretrain.sample_tokens=0", "--set", "pretrain.warmup_steps=5"));
        } else {
            c.addAll(List.of("finetune", "--base", base.toString(), "--data", work.resolve("raw/qa/train.jsonl").toString(),
                    "--set", "finetune.em_samples=0", "--set", "finetune.warmup_steps=5"));
            if (mode == 2) c.add("--lora");
        }
        c.addAll(List.of("--out", out.toString(), "--max-steps", String.valueOf(steps), "--threads", String.valueOf(threads),
                "--set", p + ".batch_size=" + batch, "--set", p + ".seq_len=" + seqLen, "--set", p + ".eval_interval=0", "--set", p + ".eval_batches=1"));
        return c;
    }

    /** Median tokens_per_s of metrics.jsonl's steps after the warm-up. */
    private double median(Path metrics) throws java.io.IOException {
        List<String> lines = Files.readAllLines(metrics);
        double[] v = new double[lines.size() - warmup];
        for (int i = warmup; i < lines.size(); i++) {
            JsonNode n = Json.MAPPER.readTree(lines.get(i));
            v[i - warmup] = n.get("tokens_per_s").asDouble();
        }
        return med(v);
    }

    private static double med(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double[] toDouble(long[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }
}
