package dev.llmkit.cli;

import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import dev.llmkit.eval.engine.LlamaEngine;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Decode and prefill tokens/s of our engine, warm, beside llama.cpp's own {@code llama-bench} on the
 * same F32 GGUF, 1 and 2 threads, for the tiny and small presets of ../shared/ANCHORS.md (vocabulary
 * 4096, as its inference table), in alternating rounds of one run: ours (best of 5 after 5 warm-up
 * passes), then llama-bench (best of its 5 repetitions), per round; the printed figures are medians
 * over the rounds. Decode is tg: {@code tokens} tokens one by one from position 0, as llama-bench runs
 * it; prefill is pp: one prompt of {@code tokens} tokens. Not a test: run it with bench/decode-bench.sh.
 * Where llama-bench cannot run, the anchor is llama.cpp's Java binding ({@link LlamaCppAnchor}).
 */
public final class DecodeBench {
    public static void main(String[] args) {
        LlamaCppAnchor.runThenExit(() -> run(args));
    }

    private static void run(String[] args) throws Exception {
        BenchDir.with("llmkit-decode-bench", dir -> run(args, dir));
    }

    private static void run(String[] args, Path dir) throws Exception {
        int tokens = args.length > 0 ? Integer.parseInt(args[0]) : 128;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        LlamaCppAnchor anchor = LlamaCppAnchor.choose();
        List<String> presets = List.of("tiny", "small");
        int[] threadCounts = {1, 2};
        Path[] files = new Path[presets.size()];
        Checkpoint.Loaded[] models = new Checkpoint.Loaded[presets.size()];
        for (int p = 0; p < presets.size(); p++) {
            ModelConfig c = presets.get(p).equals("tiny") ? new ModelConfig(256, 768, 4, 4, 4, 4096, 256, 1e-5f, 10000f, true)
                    : new ModelConfig(288, 768, 6, 6, 6, 4096, 256, 1e-5f, 10000f, true);
            files[p] = dir.resolve(presets.get(p) + ".gguf");
            GgufModel.export(Weights.init(c, 0.02f, 1), byteTokenizer(c.vocabSize()), files[p], Gguf.F32, presets.get(p));
            models[p] = GgufModel.load(files[p]);
        }
        int n = presets.size() * threadCounts.length * 2;     // (preset, threads, decode|prefill)
        double[][] ratios = new double[n][rounds], oursAll = new double[n][rounds], theirsAll = new double[n][rounds];
        int[] prompt = new int[tokens];
        for (int i = 0; i < tokens; i++) prompt[i] = 'A' + i % 26;
        // Rounds of (ours, then the anchor), so that drift of the shared machine hits both sides alike
        for (int round = 0; round < rounds; round++) {
            for (int p = 0; p < presets.size(); p++) {
                for (int k = 0; k < threadCounts.length; k++) {
                    double[] ours = {0, 0};
                    try (LlamaEngine e = new LlamaEngine(models[p].weights(), threadCounts[k])) {
                        for (int w = 0; w < 5; w++) oursRun(e, prompt, tokens);      // JIT warm-up (C2 compiles in the background)
                        for (int rep = 0; rep < 5; rep++) {                          // best of 5, as llama-bench's -r 5
                            double[] a = oursRun(e, prompt, tokens);
                            ours[0] = Math.max(ours[0], a[0]);
                            ours[1] = Math.max(ours[1], a[1]);
                        }
                    }
                    double[] theirs = anchor.measure(files[p], threadCounts[k], tokens);
                    for (int w = 0; w < 2; w++) {
                        int row = (p * threadCounts.length + k) * 2 + w;
                        oursAll[row][round] = ours[w];
                        theirsAll[row][round] = theirs[w];
                        ratios[row][round] = ours[w] / theirs[w];
                    }
                }
            }
            System.out.printf(Locale.ROOT, "round %d of %d done%n", round + 1, rounds);
        }
        System.out.printf(Locale.ROOT, "%n| preset | threads | what | ours tok/s | %s tok/s | ratio | ratio per round |%n|---|---|---|---|---|---|---|%n", anchor.name());
        for (int p = 0; p < presets.size(); p++) {
            for (int k = 0; k < threadCounts.length; k++) {
                for (int w = 0; w < 2; w++) {
                    int row = (p * threadCounts.length + k) * 2 + w;
                    StringBuilder per = new StringBuilder();
                    for (double r : ratios[row]) per.append(' ').append(QuantBench.anchored(anchor.present(), "%.2f", r));
                    System.out.printf(Locale.ROOT, "| %s | %d | %s | %,.0f | %s | %s |%s |%n", presets.get(p), threadCounts[k],
                            (w == 0 ? "decode tg" : "prefill pp") + tokens, PretrainBenchCommand.median(oursAll[row]),
                            QuantBench.anchored(anchor.present(), "%,.0f", PretrainBenchCommand.median(theirsAll[row])),
                            QuantBench.anchored(anchor.present(), "%.2fx", PretrainBenchCommand.median(ratios[row])), per);
                }
            }
        }
        System.out.println("tokens/s and ratio: medians over the rounds (each round: each side's best of 5); goal: decode >= 1.00x on 1 and 2 threads"
                + anchor.goalNote());
    }

    /** {decode tok/s, prefill tok/s} of ours. */
    static double[] oursRun(LlamaEngine e, int[] prompt, int tokens) {
        long p0 = System.nanoTime();
        e.prefill(prompt, 0);
        double prefill = prompt.length / ((System.nanoTime() - p0) / 1e9);
        long t0 = System.nanoTime();
        int token = 'a';
        for (int i = 0; i < tokens; i++) {
            float[] logits = e.forward(token, i, true);
            int best = 0;
            for (int k = 1; k < logits.length; k++) if (logits[k] > logits[best]) best = k;
            token = best;
        }
        return new double[] {tokens / ((System.nanoTime() - t0) / 1e9), prefill};
    }

    /** A byte-level tokenizer of exactly {@code vocab} tokens: merges of distinct byte pairs. */
    static Tokenizer byteTokenizer(int vocab) {
        int merges = vocab - 256 - 1;
        int[][] m = new int[merges][];
        int k = 0;
        for (int a = 'a'; a < 256 && k < merges; a++) for (int b = 0; b < 256 && k < merges; b++) m[k++] = new int[] {a, b};
        return TokenizerJson.build(m, List.of(Tokenizer.EOT), SplitPattern.GPT2);
    }
}
