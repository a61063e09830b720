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
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a user sees: one fresh {@code ./llmkit generate} process (128 new tokens after a 128-token
 * prompt, greedy, 2 threads) on the small preset's F32 GGUF (vocabulary 4096), against a fresh
 * {@code llama-cli -t 2 -no-cnv --ignore-eos --temp 0 -n 128} on the same file, in alternating rounds:
 * wall time (best and median), peak RSS, prompt and generation tokens/s as each reports them, our time
 * to first token, and our first-call prefill against our warm prefill in this JVM. Not a test: run it with
 * bench/first-call-bench.sh (without ../shared/tools/llama.cpp only ours is printed).
 */
public final class FirstCallBench {
    static final Path LLAMA_CLI = QuantBench.LLAMA_BENCH.resolveSibling("llama-cli");
    static final Path TIME = Path.of("/usr/bin/time");

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3, tokens = 128, threads = 2;
        boolean anchor = Files.isExecutable(LLAMA_CLI);
        if (!anchor) System.out.println("no " + LLAMA_CLI + ": printing ours only");
        Path dir = Files.createTempDirectory("llmkit-first-call-bench");
        ModelConfig c = new ModelConfig(288, 768, 6, 6, 6, 4096, 256, 1e-5f, 10000f, true);
        Path gguf = dir.resolve("small.gguf");
        Weights w = Weights.init(c, 0.02f, 1);
        GgufModel.export(w, DecodeBench.byteTokenizer(c.vocabSize()), gguf, Gguf.F32, "small");
        String prompt = DecodeBench.promptText(tokens);
        List<String> ours = List.of("./llmkit", "generate", "-m", gguf.toString(), "-p", prompt, "-n", String.valueOf(tokens),
                "--temperature", "0", "--ignore-eot", "--threads", String.valueOf(threads));
        List<String> theirs = List.of(LLAMA_CLI.toString(), "-m", gguf.toString(), "-t", String.valueOf(threads), "-no-cnv", "--ignore-eos",
                "--temp", "0", "-n", String.valueOf(tokens), "-p", prompt);
        run(ours, dir);           // the launcher builds the CLI if it is stale; not timed
        List<double[]> us = new ArrayList<>(), them = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            us.add(ours(run(ours, dir)));
            if (anchor) them.add(llamaCli(run(theirs, dir)));
            System.out.printf(Locale.ROOT, "round %d of %d done%n", r + 1, rounds);
        }
        double warmPrefill = warmPrefill(w, tokens, threads);
        System.out.printf(Locale.ROOT, "%n| fresh process, small F32, %d-token prompt + %d new tokens, %d threads | llmkit generate | llama-cli | ratio |%n|---|---|---|---|%n",
                tokens, tokens, threads);
        row("wall, best (s)", us, them, 0, Stat.MIN, "%.2f");
        row("wall, median (s)", us, them, 0, Stat.MEDIAN, "%.2f");
        row("peak RSS, median (MB)", us, them, 1, Stat.MEDIAN, "%.0f");
        row("prompt tokens/s, median", us, them, 2, Stat.MEDIAN, "%,.0f");
        row("generation tokens/s, median", us, them, 3, Stat.MEDIAN, "%,.0f");
        row("first token after start, median (s)", us, them, 4, Stat.MEDIAN, "%.2f");
        double firstPrefill = median(us, 2);
        System.out.printf(Locale.ROOT, "%nour prefill: first call %,.0f tokens/s, warm (this JVM, best of 5) %,.0f tokens/s: %.2f of warm%n",
                firstPrefill, warmPrefill, firstPrefill / warmPrefill);
        System.out.println("goals: wall within 1.5x llama-cli's (best of " + rounds + " each); first-call prefill >= 0.5 of warm");
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
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + cmd.get(0));
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        String text = new String(Files.readAllBytes(err), StandardCharsets.UTF_8);     // replaces malformed bytes
        if (p.exitValue() != 0) throw new IllegalStateException(cmd.get(0) + " exited " + p.exitValue() + ":\n" + text);
        double mb = Files.exists(rss) ? Double.parseDouble(Files.readAllLines(rss).getLast().trim()) / 1024 : Double.NaN;
        return new Object[] {wall, mb, text};
    }

    /** {wall, RSS, prompt tok/s, generation tok/s, first token s} from our stats line. */
    private static double[] ours(Object[] r) {
        Matcher m = Pattern.compile("prompt: \\d+ tokens, ([\\d.]+) tokens/s; generated: \\d+ tokens, ([\\d.]+) tokens/s.*?(?:first token ([\\d.]+) s after[^\\n]*)?$", Pattern.MULTILINE)
                .matcher((String) r[2]);
        if (!m.find()) throw new IllegalStateException("no stats line from llmkit generate:\n" + r[2]);
        return new double[] {(double) r[0], (double) r[1], Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)),
            m.group(3) == null ? Double.NaN : Double.parseDouble(m.group(3))};
    }

    /** The same from llama-cli's performance lines (no time to first token). */
    private static double[] llamaCli(Object[] r) {
        String t = (String) r[2];
        return new double[] {(double) r[0], (double) r[1], tokensPerSecond(t, "prompt eval time"), tokensPerSecond(t, "       eval time"), Double.NaN};
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
