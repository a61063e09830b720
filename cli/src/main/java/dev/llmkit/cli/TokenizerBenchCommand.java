package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.PrepareConfig;
import dev.llmkit.core.config.TokenizeConfig;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.data.corpus.CorpusTexts;
import dev.llmkit.data.prepare.Corpus;
import dev.llmkit.data.prepare.InputFiles;
import dev.llmkit.data.tokenize.Pretokenizer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code llmkit tokenizer bench}: our BPE trainer and encoder beside Hugging Face tokenizers (the Rust
 * library through its Node bindings) on the same corpus, in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmark tokenizer training (time, peak RSS, held-out tokens/byte) and encoding (MB/s, 1 thread and all threads) against Hugging Face tokenizers on the same corpus in the same run, plus `data tokenize` throughput. Needs node and the npm package tokenizers@0.23.2 for the anchor (NODE_PATH); without them it reports ours alone.",
        footer = {"", "Example:", "  (cd ~/hf && npm install --no-save tokenizers@0.23.2)", "  NODE_PATH=~/hf/node_modules llmkit tokenizer bench --corpus-mb 100 --vocab-size 30000", "", ExitCodes.HELP})
public final class TokenizerBenchCommand implements Callable<Integer> {
    static final double ENCODE_GOAL_MB_S = 20;

    @Option(names = {"-i", "--input"}, arity = "1..*", paramLabel = "PATH", description = "Raw text sources (default: ../shared/data/pretrain_*).")
    List<String> inputs;

    @Option(names = "--corpus-mb", paramLabel = "MB", defaultValue = "100", description = "Training corpus size; the sources are repeated to reach it (default ${DEFAULT-VALUE}).")
    int corpusMb;

    @Option(names = "--encode-mb", paramLabel = "MB", defaultValue = "10", description = "Text for the encoding speed test (default ${DEFAULT-VALUE}).")
    int encodeMb;

    @Option(names = "--vocab-size", paramLabel = "V", defaultValue = "30000", description = "Vocabulary size for both trainers (default ${DEFAULT-VALUE}, Hugging Face's default).")
    int vocabSize;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "runs/bench-tokenizer", description = "Scratch directory (default ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--hf-train-script", paramLabel = "FILE", description = "Hugging Face training script (default: ../shared/bench/hf-tokenizers-train.js).")
    Path hfTrain;

    @Mixin
    ConfigOptions config;

    private final Map<String, Object> results = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(work);
        String home = System.getProperty("llmkit.home", ".");
        if (hfTrain == null) hfTrain = Path.of(home).resolve("../shared/bench/hf-tokenizers-train.js").normalize();
        Path hfEncode = Path.of(home, "bench", "hf-tokenizers-encode.js");
        boolean hf = hfAvailable(hfTrain);
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf(Locale.ROOT, "llmkit tokenizer bench: %d cores, vocab %d, corpus %d MB; Hugging Face anchor: %s%n",
                cores, vocabSize, corpusMb, hf ? "tokenizers (node) " + hfTrain : "unavailable (install node and npm tokenizers@0.23.2, set NODE_PATH)");

        // 1. The corpus: prepared sources, train texts repeated to corpus-mb, validation texts held out.
        Path corpusDir = work.resolve("00-corpus");
        PrepareConfig pc = config.resolve(List.of("data.prepare.val_fraction=0.05")).config().data().prepare();
        Corpus.prepare(pc, InputFiles.resolve(inputs != null ? inputs : BenchPrepareCommand.defaultInputs()), corpusDir, true, Progress.NONE);
        CorpusTexts texts = CorpusTexts.open(List.of(corpusDir), List.of());
        Path corpusTxt = work.resolve("corpus.txt"), heldout = work.resolve("heldout.txt"), encodeTxt = work.resolve("encode.txt");
        long corpusBytes = writeRepeated(texts.train(), corpusTxt, (long) corpusMb << 20);
        long heldoutBytes = writeRepeated(texts.val(), heldout, Math.max(1, texts.val().textBytes()));
        writePrefix(corpusTxt, encodeTxt, (long) encodeMb << 20);
        System.out.printf(Locale.ROOT, "corpus: %s %.1f MB (sources repeated), held-out %s %.2f MB%n", corpusTxt, corpusBytes / 1e6, heldout, heldoutBytes / 1e6);

        // 2. Training: ours in a child JVM (for its own peak RSS), Hugging Face in node.
        Path ours = work.resolve("ours");
        List<String> cmd = ChildProcesses.javaCommand();
        cmd.addAll(List.of("tokenizer", "train", "--corpus", corpusTxt.toString(), "--vocab-size", String.valueOf(vocabSize),
                "--min-frequency", "2", "--max-token-length", "0", "--out", ours.toString(), "--force"));
        double oursWall = runTimed(cmd);
        JsonNode report = Json.MAPPER.readTree(ours.resolve("report.json").toFile());
        double oursTrain = report.path("training").path("seconds_total").asDouble();
        long oursRss = report.path("training").path("peak_rss_mib").asLong();
        Tokenizer oursTok = Tokenizer.load(ours.resolve("tokenizer.json"));
        double oursTpb = tokensPerByte(oursTok, heldout);
        line("train, ours", String.format(Locale.ROOT, "%.2f s (%.2f s with JVM start), peak RSS %d MiB, held-out %.4f tokens/byte (vocab %d)",
                oursTrain, oursWall, oursRss, oursTpb, oursTok.vocabSize()));
        results.put("train_ours", Map.of("seconds", oursTrain, "seconds_wall", oursWall, "peak_rss_mib", oursRss, "tokens_per_byte", oursTpb));
        if (hf) {
            Path hfJson = work.resolve("hf-tokenizer.json");
            JsonNode h = ChildProcesses.lastJson(ChildProcesses.run(List.of("node", hfTrain.toString(), corpusTxt.toString(), hfJson.toString())));
            double hfSeconds = h.path("seconds").asDouble();
            JsonNode he = ChildProcesses.lastJson(ChildProcesses.run(List.of("node", hfEncode.toString(), hfJson.toString(), heldout.toString())));
            double hfTpb = he.path("tokens").asDouble() / he.path("bytes").asDouble();
            line("train, Hugging Face", String.format(Locale.ROOT, "%.2f s, peak RSS %d MiB, held-out %.4f tokens/byte (vocab %d)",
                    hfSeconds, h.path("peak_rss_mib").asLong(), hfTpb, h.path("vocab").asInt()));
            line("  ratio", String.format(Locale.ROOT, "speed %.2fx Hugging Face (goal >= 1.0x); tokens/byte %+.2f%% vs Hugging Face (goal within 1%%)",
                    hfSeconds / oursTrain, 100 * (oursTpb / hfTpb - 1)));
            results.put("train_hf", Map.of("seconds", hfSeconds, "peak_rss_mib", h.path("peak_rss_mib").asLong(), "tokens_per_byte", hfTpb,
                    "speed_ratio", hfSeconds / oursTrain));
        }

        // 3. Encoding speed on the same text and the same tokenizer.json.
        List<String> lines = readLines(encodeTxt);
        long encBytes = Files.size(encodeTxt);
        // JIT warm-up: a full pass each way with throw-away tokenizers; the measured passes start with cold word caches.
        encodeOnce(Tokenizer.load(ours.resolve("tokenizer.json")), lines, 1);
        encodeOnce(Tokenizer.load(ours.resolve("tokenizer.json")), lines, cores);
        double one = encBytes / 1e6 / encodeOnce(Tokenizer.load(ours.resolve("tokenizer.json")), lines, 1);
        double all = encBytes / 1e6 / encodeOnce(Tokenizer.load(ours.resolve("tokenizer.json")), lines, cores);
        line("encode, ours, 1 thread", String.format(Locale.ROOT, "%.1f MB/s (%.2fx goal %.0f MB/s per thread; JIT warm, cache cold)", one, one / ENCODE_GOAL_MB_S, ENCODE_GOAL_MB_S));
        line("encode, ours, " + cores + " threads", String.format(Locale.ROOT, "%.1f MB/s", all));
        results.put("encode_ours", Map.of("mb_per_s_1_thread", one, "mb_per_s_all_threads", all, "threads", cores));
        if (hf) {
            JsonNode he = ChildProcesses.lastJson(ChildProcesses.run(List.of("node", hfEncode.toString(), ours.resolve("tokenizer.json").toString(), encodeTxt.toString())));
            double hfMb = he.path("bytes").asDouble() / 1e6 / he.path("seconds").asDouble();
            line("encode, Hugging Face (node, encodeBatch)", String.format(Locale.ROOT, "%.1f MB/s on our tokenizer.json", hfMb));
            line("  ratio", String.format(Locale.ROOT, "ours %.1fx Hugging Face (1 thread vs its batch), %.1fx (all threads)", one / hfMb, all / hfMb));
            results.put("encode_hf", Map.of("mb_per_s", hfMb));
        }

        // 4. The tokenize stage on the prepared sources.
        Pretokenizer.Result r = Pretokenizer.run(corpusDir, ours.resolve("tokenizer.json"), new TokenizeConfig(0), work.resolve("02-tokens"), true, Progress.NONE);
        long bytes = r.manifest().train().textBytes() + r.manifest().val().textBytes();
        line("data tokenize, " + cores + " threads", String.format(Locale.ROOT, "%.1f MB/s (%.1f MB in %.2f s, JVM warm)", bytes / 1e6 / r.seconds(), bytes / 1e6, r.seconds()));
        results.put("tokenize_stage", Map.of("mb_per_s", bytes / 1e6 / r.seconds()));
        Json.write(work.resolve("bench.json"), results);
        System.out.println("figures: " + work.resolve("bench.json"));
        return ExitCodes.OK;
    }

    private static void line(String what, String figures) {
        System.out.printf(Locale.ROOT, "%-42s %s%n", what, figures);
    }

    private static double encodeOnce(Tokenizer tok, List<String> lines, int threads) {
        long t0 = System.nanoTime();
        if (threads == 1) {
            for (String s : lines) tok.encode(s);
        } else {
            for (int i = 0; i < lines.size(); i += 10_000) tok.encodeBatch(lines.subList(i, Math.min(lines.size(), i + 10_000)), false, threads);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double tokensPerByte(Tokenizer tok, Path file) throws IOException {
        long tokens = 0;
        for (String s : readLines(file)) tokens += tok.encode(s).length;
        return (double) tokens / Files.size(file);
    }

    /** Lines with their newline, as the Hugging Face scripts read them. */
    static List<String> readLines(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        int p = 0;
        while (p < text.length()) {
            int nl = text.indexOf('\n', p);
            int end = nl < 0 ? text.length() : nl + 1;
            out.add(text.substring(p, end));
            p = end;
        }
        return out;
    }

    /** Writes the split's texts, one per line block, repeated until {@code target} bytes. */
    private static long writeRepeated(CorpusTexts.Split split, Path out, long target) throws IOException {
        long n = 0;
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            while (n < target) {
                long before = n;
                for (Iterator<String> it = split.iterator(); it.hasNext() && n < target; ) {
                    String s = it.next();
                    String t = s.endsWith("\n") ? s : s + "\n";
                    w.write(t);
                    n += dev.llmkit.core.util.Text.utf8Length(t);
                }
                if (n == before) throw new ConfigException("the inputs hold no text for " + out.getFileName(), "pass other --input sources");
            }
        }
        return n;
    }

    private static void writePrefix(Path in, Path out, long bytes) throws IOException {
        byte[] all = Files.readAllBytes(in);
        int n = (int) Math.min(all.length, bytes);
        while (n < all.length && n > 0 && all[n - 1] != '\n') n++;
        Files.write(out, java.util.Arrays.copyOf(all, n));
    }

    private static boolean hfAvailable(Path script) {
        if (!Files.isRegularFile(script)) return false;
        try {
            ChildProcesses.output(new ProcessBuilder("node", "-e", "require('tokenizers')").redirectErrorStream(true), "node", 60);
            return true;
        } catch (IOException | InterruptedException | IllegalStateException e) {
            return false;
        }
    }

    /** Runs a command with inherited output; returns wall seconds. */
    private static double runTimed(List<String> cmd) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().put("LLMKIT_PROGRESS_SECONDS", "30");
        Process p = pb.start();
        if (!ChildProcesses.await(p, ChildProcesses.TIMEOUT_SECONDS)) {
            throw new IllegalStateException(String.join(" ", cmd) + " ran past " + ChildProcesses.TIMEOUT_SECONDS + " s and was killed");
        }
        int rc = p.exitValue();
        if (rc != 0) throw new IllegalStateException("command failed with exit code " + rc + ": " + String.join(" ", cmd));
        return (System.nanoTime() - t0) / 1e9;
    }
}
