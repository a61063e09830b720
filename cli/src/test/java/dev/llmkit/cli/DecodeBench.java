package dev.llmkit.cli;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.LogFormat;
import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import dev.llmkit.eval.engine.LlamaEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Decode and prefill tokens/s of our engine beside llama.cpp (de.kherud:llama) on the same F32 GGUF,
 * same thread count, in the same run, for the tiny and small presets of ../shared/ANCHORS.md.
 * Not a test: run it with bench/decode-bench.sh (it needs the test classpath for llama.cpp).
 */
public final class DecodeBench {
    public static void main(String[] args) throws Exception {
        int tokens = args.length > 0 ? Integer.parseInt(args[0]) : 128;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        LlamaModel.setLogger(LogFormat.TEXT, (level, msg) -> {});
        Path dir = Files.createTempDirectory("llmkit-decode-bench");
        List<String> presets = List.of("tiny", "small");
        int[] threadCounts = {1, 2};
        Path[] files = new Path[presets.size()];
        Checkpoint.Loaded[] models = new Checkpoint.Loaded[presets.size()];
        for (int p = 0; p < presets.size(); p++) {
            boolean tiny = presets.get(p).equals("tiny");
            ModelConfig c = tiny ? new ModelConfig(256, 768, 4, 4, 4, 4096, 256, 1e-5f, 10000f, true)
                    : new ModelConfig(288, 768, 6, 6, 6, 32000, 256, 1e-5f, 10000f, true);
            files[p] = dir.resolve(presets.get(p) + ".gguf");
            GgufModel.export(Weights.init(c, 0.02f, 1), byteTokenizer(c.vocabSize()), files[p], Gguf.F32, presets.get(p));
            models[p] = GgufModel.load(files[p]);
        }
        int n = presets.size() * threadCounts.length * 2;     // (preset, threads, decode|prefill)
        double[][] ratios = new double[n][rounds], oursAll = new double[n][rounds], theirsAll = new double[n][rounds];
        // One prompt text for both engines, tokenized by each: capital letters, which byteTokenizer never
        // merges, so both prefill exactly `tokens` tokens (checked on both sides)
        String text = promptText(tokens);
        int[][] prompts = new int[presets.size()][];
        for (int p = 0; p < presets.size(); p++) {
            prompts[p] = models[p].tokenizer().encode(text);     // the tokenizer stored in the GGUF
            if (prompts[p].length != tokens) throw new IllegalStateException("the prompt is " + prompts[p].length + " tokens, not " + tokens);
        }
        // Rounds of (ours, then llama.cpp), so that drift of the shared machine hits both sides alike.
        // Ours first in each round while no llama.cpp thread exists; llama.cpp's models are closed after use.
        for (int round = 0; round < rounds; round++) {
            for (int p = 0; p < presets.size(); p++) {
                for (int k = 0; k < threadCounts.length; k++) {
                    double[] ours;
                    try (LlamaEngine e = new LlamaEngine(models[p].weights(), threadCounts[k])) {
                        for (int w = 0; w < 5; w++) oursRun(e, prompts[p], tokens);      // JIT warm-up (C2 compiles in the background)
                        ours = new double[] {0, 0};
                        for (int rep = 0; rep < 5; rep++) {                          // best of 5, as for llama.cpp
                            double[] a = oursRun(e, prompts[p], tokens);
                            ours[0] = Math.max(ours[0], a[0]);
                            ours[1] = Math.max(ours[1], a[1]);
                        }
                    }
                    for (int w = 0; w < 2; w++) oursAll[(p * threadCounts.length + k) * 2 + w][round] = ours[w];
                }
            }
            for (int p = 0; p < presets.size(); p++) {
                for (int k = 0; k < threadCounts.length; k++) {
                    double[] theirs;
                    try (LlamaModel llama = new LlamaModel(new ModelParameters().setModelFilePath(files[p].toString()).setNThreads(threadCounts[k])
                            .setNThreadsBatch(threadCounts[k]).setNCtx(256).setNGpuLayers(0))) {
                        theirs = llamaCpp(llama, tokens);
                    }
                    for (int w = 0; w < 2; w++) {
                        int row = (p * threadCounts.length + k) * 2 + w;
                        theirsAll[row][round] = theirs[w];
                        ratios[row][round] = oursAll[row][round] / theirs[w];
                    }
                }
            }
            System.out.printf(Locale.ROOT, "round %d of %d done%n", round + 1, rounds);
        }
        System.out.printf(Locale.ROOT, "%-6s %-7s %-12s %12s %12s %8s   %s%n", "preset", "threads", "what", "ours tok/s", "llama.cpp", "ratio", "ratio per round");
        for (int p = 0; p < presets.size(); p++) {
            for (int k = 0; k < threadCounts.length; k++) {
                for (int w = 0; w < 2; w++) {
                    int row = (p * threadCounts.length + k) * 2 + w;
                    StringBuilder per = new StringBuilder();
                    for (double r : ratios[row]) per.append(String.format(Locale.ROOT, " %.2f", r));
                    System.out.printf(Locale.ROOT, "%-6s %-7d %-12s %12.0f %12.0f %7.2fx  %s%n", presets.get(p), threadCounts[k],
                            (w == 0 ? "decode " : "prefill ") + tokens, median(oursAll[row]), median(theirsAll[row]), median(ratios[row]), per);
                }
            }
        }
        System.out.println("tok/s and ratio: medians over the rounds (each round: best of 5 per side)");
        System.exit(0);     // the llama.cpp binding's server threads do not stop on their own
    }

    static double median(double[] x) {
        double[] s = x.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** {decode tok/s, prefill tok/s} of llama.cpp: best of 5. */
    static double[] llamaCpp(LlamaModel m, int tokens) {
        String promptText = promptText(tokens);
        int promptTokens = m.encode(promptText).length;
        if (promptTokens != tokens) throw new IllegalStateException("llama.cpp reads the prompt as " + promptTokens + " tokens, not " + tokens);
        double decode = 0, prefill = 0;
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime(), first = 0;
            int n = 0;
            for (LlamaOutput o : m.generate(new InferenceParameters("a").setTemperature(0).setNPredict(tokens).setIgnoreEos(true).setCachePrompt(false))) {
                if (n++ == 0) first = System.nanoTime();
            }
            long t1 = System.nanoTime();
            decode = Math.max(decode, (n - 1) / ((t1 - first) / 1e9));
            long p0 = System.nanoTime();
            m.complete(new InferenceParameters(promptText).setTemperature(0).setNPredict(1).setCachePrompt(false));
            prefill = Math.max(prefill, tokens / ((System.nanoTime() - p0) / 1e9));
        }
        return new double[] {decode, prefill};
    }

    /** Capital letters A..Z repeated: one token each for {@link #byteTokenizer}, whose merges all start with a byte >= 'a'. */
    static String promptText(int tokens) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < tokens; i++) b.append((char) ('A' + i % 26));
        return b.toString();
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
