package dev.llmkit.cli;

import dev.llmkit.core.Progress;
import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.eval.Evaluator;
import dev.llmkit.eval.TaskSpec;
import dev.llmkit.eval.engine.LanguageModel;
import dev.llmkit.eval.engine.State;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Evaluation speed: examples/s of `llmkit eval`'s scorer on PIQA and MMLU (100 examples each, 1 thread)
 * with the tiny and small presets (random init, F32), and the tokens/s it runs (every position
 * prefilled or scored) against llama.cpp's prompt processing (llama-bench pp128, 1 thread) on the same
 * GGUF in the same run. Not a test: bench/eval-bench.sh runs it (../shared is needed for the data and
 * the anchor).
 */
public final class EvalBench {
    private static final Path SHARED = Path.of(System.getProperty("llmkit.shared.dir", "../shared"));

    /** A State that counts the positions it runs. */
    static final class Counting implements State {
        final State s;
        long positions;

        Counting(State s) {
            this.s = s;
        }

        @Override public int position() { return s.position(); }
        @Override public int capacity() { return s.capacity(); }
        @Override public void rewind(int p) { s.rewind(p); }
        @Override public float[] prefill(int[] t, int from, int to) { positions += to - from; return s.prefill(t, from, to); }
        @Override public void score(int[] t, int from, int to, int next, double[] lp, int off) { positions += to - from; s.score(t, from, to, next, lp, off); }
        @Override public float[] decode(int token) { positions++; return s.decode(token); }
        @Override public void close() { s.close(); }
    }

    /** llama-perplexity's tokens/s at 1 thread, context 128: every position's logits, as scoring needs. */
    static double allLogits(Path gguf, Path text) throws Exception {
        double[] t = new double[2];
        int[] chunks = {8, 40};
        for (int i = 0; i < 2; i++) {
            Path tool = LlamaCppTools.tool("llama-perplexity");
            long t0 = System.nanoTime();
            ChildProcesses.output(new ProcessBuilder(tool.toString(), "-m", gguf.toString(), "-f", text.toString(), "-c", "128", "-b", "128", "-t", "1",
                    "--chunks", String.valueOf(chunks[i])).redirectErrorStream(true), "llama-perplexity on " + gguf, 300);
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        return 32 * 128 / (t[1] - t[0]);
    }

    public static void main(String[] args) throws Exception {
        BenchDir.with("llmkit-eval-bench", dir -> run(args, dir));
    }

    private static void run(String[] args, Path dir) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path data = SHARED.resolve("data");
        if (!Files.isDirectory(data.resolve("eval_piqa"))) throw new IllegalStateException("no " + data + ": the benchmark needs ../shared/data");
        Path text = SHARED.resolve("data/pretrain_wikitext2/test.txt");
        String why = LlamaCppTools.unavailable("llama-bench", "llama-perplexity");
        boolean anchor = why == null;
        if (!anchor) System.out.println(why + ": printing ours only");
        System.out.printf(Locale.ROOT, "| model | task | examples/s | scored tokens/s | llama.cpp pp128 | ratio | llama.cpp, logits at every position | ratio |%n|---|---|---|---|---|---|---|---|%n");
        for (String preset : List.of("tiny", "small")) {
            ModelConfig c = preset.equals("tiny") ? new ModelConfig(256, 768, 4, 4, 4, 4096, 256, 1e-5f, 10000f, true)
                    : new ModelConfig(288, 768, 6, 6, 6, 32000, 256, 1e-5f, 10000f, true);
            Weights w = Weights.init(c, 0.02f, 1);
            Tokenizer tok = DecodeBench.byteTokenizer(c.vocabSize());
            Path f = dir.resolve(preset + ".gguf");
            GgufModel.export(w, tok, f, Gguf.F32, preset);
            List<Counting> states = new ArrayList<>();
            LanguageModel base = LanguageModel.of(w, tok, null), lm = new LanguageModel() {
                @Override public ModelConfig config() { return base.config(); }
                @Override public Tokenizer tokenizer() { return tok; }
                @Override public String chatTemplate() { return null; }
                @Override public State newState(int capacity, int threads) {
                    Counting s = new Counting(base.newState(capacity, threads));
                    states.add(s);
                    return s;
                }
            };
            for (String task : List.of("piqa", "mmlu")) {
                TaskSpec spec = TaskSpec.resolve(task, data);
                double bestEx = 0, bestTok = 0, bestLlama = 0, bestAll = 0;
                for (int r = 0; r < rounds; r++) {
                    states.clear();
                    long t0 = System.nanoTime();
                    Evaluator.run(List.of(new Evaluator.Model(preset, f, lm, "F32", c.parameters(), 0, null)), List.of(spec),
                            new Evaluator.Options(100, 0, 1, 1, Progress.NONE), dir.resolve("out-" + preset + "-" + task));
                    double sec = (System.nanoTime() - t0) / 1e9;
                    long pos = states.stream().mapToLong(s -> s.positions).sum();
                    bestEx = Math.max(bestEx, 100 / sec);
                    bestTok = Math.max(bestTok, pos / sec);
                    if (anchor) {
                        bestLlama = Math.max(bestLlama, QuantBench.llamaBench(f, 1, 128)[1]);
                        bestAll = Math.max(bestAll, allLogits(f, text));
                    }
                }
                System.out.printf(Locale.ROOT, "| %s F32 | %s | %.1f | %,.0f | %s | %s | %s | %s |%n", preset, task, bestEx, bestTok,
                        QuantBench.anchored(anchor, "%,.0f", bestLlama), QuantBench.anchored(anchor, "%.2fx", bestTok / bestLlama),
                        QuantBench.anchored(anchor, "%,.0f", bestAll), QuantBench.anchored(anchor, "%.2fx", bestTok / bestAll));
            }
        }
        System.out.println("best of " + rounds + " rounds each (the first includes JIT warm-up); 1 thread; 100 examples per task. pp128 computes the logits of the"
                + " last position only; scoring needs them at every continuation position, as llama-perplexity does (its tokens/s: the time of 40 chunks of 128"
                + " tokens less that of 8, over 32 x 128)");
    }
}
