package dev.llmkit.cli;

import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.eval.engine.LlamaEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a user sees: one fresh {@code ./llmkit generate} process (128 new tokens after a 128-token
 * prompt, greedy, 2 threads) on the small preset's F32 GGUF (vocabulary 4096) and on its Q8_0
 * quantization ({@code llmkit quantize}), each against a fresh
 * {@code llama-cli -t 2 -no-cnv --ignore-eos --temp 0 -n 128} (llama-completion in llama.cpp's tools since late 2025) on the
 * same file, in alternating rounds:
 * wall time (best and median), peak RSS, prompt and generation tokens/s as each reports them, when our
 * model was loaded and our first token came, and our first-call prefill against our warm prefill in this JVM. Not a test: run it with
 * bench/first-call-bench.sh (without llama.cpp tools that run here, in ../shared/tools/llama.cpp or $LLMKIT_LLAMA_CPP_DIR, only ours is printed).
 */
public final class FirstCallBench {
    /** llama.cpp's plain completion tool: llama-completion since llama.cpp split it off llama-cli (late 2025), llama-cli before. */
    static final Path LLAMA_CLI = Files.isExecutable(LlamaCppTools.tool("llama-completion")) ? LlamaCppTools.tool("llama-completion")
            : LlamaCppTools.tool("llama-cli");
    static final String CLI_NAME = LLAMA_CLI.getFileName().toString();
    static final Path TIME = Path.of("/usr/bin/time");

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        String why = LlamaCppTools.unavailable(CLI_NAME);
        boolean anchor = why == null;
        if (!anchor) System.out.println(why + ": printing ours only");
        BenchDir.with("llmkit-first-call-bench", dir -> bench(dir, rounds, anchor));
    }

    private static void bench(Path dir, int rounds, boolean anchor) throws Exception {
        int tokens = 128, threads = 2;
        ModelConfig c = new ModelConfig(288, 768, 6, 6, 6, 4096, 256, 1e-5f, 10000f, true);
        Path f32 = dir.resolve("small.gguf"), q8 = dir.resolve("small-q8_0.gguf");
        GgufModel.export(Weights.init(c, 0.02f, 1), DecodeBench.byteTokenizer(c.vocabSize()), f32, Gguf.F32, "small");
        run(List.of("./llmkit", "quantize", "-m", f32.toString(), "--type", "q8_0", "-o", q8.toString(), "--eval-tokens", "0",
                "--bench-tokens", "0"), dir);    // also builds the CLI if it is stale; not timed
        String prompt = LlamaCppAnchor.promptText(tokens);
        List<Path> files = List.of(f32, q8);
        List<List<double[]>> us = new ArrayList<>(), them = new ArrayList<>();
        for (Path gguf : files) {
            us.add(new ArrayList<>());
            them.add(new ArrayList<>());
            run(ours(gguf, prompt, tokens, threads), dir);     // records the start-up cache if needed; not timed
        }
        for (int r = 0; r < rounds; r++) {
            for (int f = 0; f < files.size(); f++) {
                us.get(f).add(ours(run(ours(files.get(f), prompt, tokens, threads), dir)));
                if (anchor) them.get(f).add(llamaCli(run(List.of(LLAMA_CLI.toString(), "-m", files.get(f).toString(), "-t", String.valueOf(threads),
                        "-no-cnv", "--ignore-eos", "--temp", "0", "-n", String.valueOf(tokens), "-p", prompt), dir)));
            }
            System.out.printf(Locale.ROOT, "round %d of %d done%n", r + 1, rounds);
        }
        for (int f = 0; f < files.size(); f++) {
            List<double[]> a = us.get(f), b = them.get(f);
            String type = f == 0 ? "F32" : "Q8_0";
            double warmPrefill = warmPrefill(GgufModel.loadQuantized(files.get(f)).weights(), tokens, threads);
            System.out.printf(Locale.ROOT, "%n| fresh process, small %s, %d-token prompt + %d new tokens, %d threads | llmkit generate | %s | ratio |%n|---|---|---|---|%n",
                    type, tokens, tokens, threads, CLI_NAME);
            row("wall, best (s)", a, b, 0, Stat.MIN, "%.2f");
            row("wall, median (s)", a, b, 0, Stat.MEDIAN, "%.2f");
            row("peak RSS, median (MB)", a, b, 1, Stat.MEDIAN, "%.0f");
            row("prompt tokens/s, median", a, b, 2, Stat.MEDIAN, "%,.0f");
            row("generation tokens/s, median", a, b, 3, Stat.MEDIAN, "%,.0f");
            row("model loaded after start, median (s)", a, b, 5, Stat.MEDIAN, "%.2f");
            row("first token after start, median (s)", a, b, 4, Stat.MEDIAN, "%.2f");
            double firstPrefill = median(a, 2);
            System.out.printf(Locale.ROOT, "%nour %s prefill: first call %,.0f tokens/s, warm (this JVM, best of 5) %,.0f tokens/s: %.2f of warm%n",
                    type, firstPrefill, warmPrefill, firstPrefill / warmPrefill);
        }
        System.out.println("anchor: " + LLAMA_CLI + "\ngoals: wall within 1.5x " + CLI_NAME + "'s (best of " + rounds + " each); first-call prefill >= 0.5 of warm");
    }

    private static List<String> ours(Path gguf, String prompt, int tokens, int threads) {
        return List.of("./llmkit", "generate", "-m", gguf.toString(), "-p", prompt, "-n", String.valueOf(tokens),
                "--temperature", "0", "--ignore-eot", "--threads", String.valueOf(threads));
    }

    enum Stat { MIN, MEDIAN }

    private static void row(String what, List<double[]> us, List<double[]> them, int k, Stat s, String fmt) {
        double a = s == Stat.MIN ? us.stream().mapToDouble(x -> x[k]).min().orElse(Double.NaN) : median(us, k);
        double b = them.isEmpty() ? Double.NaN : s == Stat.MIN ? them.stream().mapToDouble(x -> x[k]).min().orElse(Double.NaN) : median(them, k);
        System.out.printf(Locale.ROOT, "| %s | " + fmt + " | %s | %s |%n", what, a, Double.isNaN(b) ? "-" : String.format(Locale.ROOT, fmt, b),
                Double.isNaN(a / b) ? "-" : String.format(Locale.ROOT, "%.2fx", a / b));
    }

    private static double median(List<double[]> xs, int k) {
        double[] v = xs.stream().mapToDouble(x -> x[k]).filter(d -> !Double.isNaN(d)).toArray();
        return v.length == 0 ? Double.NaN : PretrainBenchCommand.median(v);
    }

    /** {wall s, peak RSS MB, stderr text} of one process (RSS through /usr/bin/time when it exists). */
    static Object[] run(List<String> cmd, Path dir) throws Exception {
        Path rss = dir.resolve("rss.txt"), err = dir.resolve("err.txt");
        List<String> full = new ArrayList<>();
        if (Files.isExecutable(TIME)) full.addAll(List.of(TIME.toString(), "-f", "%M", "-o", rss.toString()));
        full.addAll(cmd);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(full).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!ChildProcesses.await(p, 300)) throw new IllegalStateException(String.join(" ", cmd) + " ran past 300 s and was killed");
        double wall = (System.nanoTime() - t0) / 1e9;
        String text = new String(Files.readAllBytes(err), StandardCharsets.UTF_8);     // replaces malformed bytes
        if (p.exitValue() != 0) throw new IllegalStateException(cmd.get(0) + " exited " + p.exitValue() + ":\n" + text);
        double mb = Files.exists(rss) ? Double.parseDouble(Files.readAllLines(rss).getLast().trim()) / 1024 : Double.NaN;
        return new Object[] {wall, mb, text};
    }

    /** {wall, RSS, prompt tok/s, generation tok/s, first token s, model loaded s} from our stats line. */
    private static double[] ours(Object[] r) {
        Matcher m = Pattern.compile("prompt: \\d+ tokens, ([\\d.]+) tokens/s; generated: \\d+ tokens, ([\\d.]+) tokens/s.*?"
                + "model loaded ([\\d.]+) s(?:, first token ([\\d.]+) s)? after[^\\n]*$", Pattern.MULTILINE).matcher((String) r[2]);
        if (!m.find()) throw new IllegalStateException("no stats line from llmkit generate:\n" + r[2]);
        return new double[] {(double) r[0], (double) r[1], Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)),
            m.group(4) == null ? Double.NaN : Double.parseDouble(m.group(4)), Double.parseDouble(m.group(3))};
    }

    /** The same from llama-cli's performance lines (no time to first token). */
    private static double[] llamaCli(Object[] r) {
        String t = (String) r[2];
        return new double[] {(double) r[0], (double) r[1], tokensPerSecond(t, "prompt eval time"), tokensPerSecond(t, "       eval time"), Double.NaN,
            Double.NaN};
    }

    private static double tokensPerSecond(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what) + " =.*?([\\d.]+) tokens per second").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /** Our prefill of the same prompt, warm: best of 5 after 10 passes. */
    private static double warmPrefill(Weights w, int tokens, int threads) {
        int[] prompt = new int[tokens];
        for (int i = 0; i < tokens; i++) prompt[i] = 'A' + i % 26;
        double best = 0;
        try (LlamaEngine e = new LlamaEngine(w, threads)) {
            for (int i = 0; i < 15; i++) {
                long t0 = System.nanoTime();
                e.prefill(prompt, 0);
                if (i >= 10) best = Math.max(best, tokens / ((System.nanoTime() - t0) / 1e9));
            }
        }
        return best;
    }
}
