package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.quant.QuantPlan;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.eval.engine.LlamaEngine;
import dev.llmkit.quantize.Quantizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Decode (tg128) and prefill (pp128) tokens/s of our engine, warm, against llama.cpp's own
 * {@code llama-bench} on the same GGUF files (F32, Q8_0, Q4_0, Q4_K_M of the tiny and small presets,
 * random init), 1 and 2 threads, in alternating rounds of one run; each side's figure is its best of
 * 5 repetitions per round, the printed figure the median over rounds. Not a test: bench/quant-bench.sh
 * runs it. Where llama-bench cannot run, the anchor is llama.cpp's Java binding ({@link LlamaCppAnchor}).
 */
public final class QuantBench {
    static final Path LLAMA_BENCH = LlamaCppTools.tool("llama-bench");

    public static void main(String[] args) {
        LlamaCppAnchor.runThenExit(() -> run(args));
    }

    private static void run(String[] args) throws Exception {
        BenchDir.with("llmkit-quant-bench", dir -> run(args, dir));
    }

    private static void run(String[] args, Path dir) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3, tokens = 128;
        LlamaCppAnchor anchor = LlamaCppAnchor.choose();
        List<String> presets = List.of("tiny", "small"), types = List.of("f32", "q8_0", "q4_0", "q4_k_m");
        int[] threads = {1, 2};
        List<Path> files = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (String preset : presets) {
            ModelConfig c = preset.equals("tiny") ? new ModelConfig(256, 768, 4, 4, 4, 4096, 256, 1e-5f, 10000f, true)
                    : new ModelConfig(288, 768, 6, 6, 6, 32000, 256, 1e-5f, 10000f, true);
            Weights w = Weights.init(c, 0.02f, 1);
            Tokenizer tok = DecodeBench.byteTokenizer(c.vocabSize());
            for (String type : types) {
                Path f = dir.resolve(preset + "-" + type + ".gguf");
                if (type.equals("f32")) GgufModel.export(w, tok, f, Gguf.F32, preset);
                else Quantizer.quantize(w, tok, null, new QuantPlan(QuantPlan.Preset.parse(type), false, c.nLayers(), false, List.of()), f, preset, 2, null);
                files.add(f);
                labels.add(preset + " " + type);
            }
        }
        int rows = files.size() * threads.length;
        double[][] ourTg = new double[rows][rounds], ourPp = new double[rows][rounds], theirTg = new double[rows][rounds], theirPp = new double[rows][rounds];
        int[] prompt = new int[tokens];
        for (int i = 0; i < tokens; i++) prompt[i] = 'A' + i % 26;
        for (int round = 0; round < rounds; round++) {
            for (int f = 0; f < files.size(); f++) {
                Checkpoint.Loaded m = GgufModel.loadQuantized(files.get(f));
                for (int k = 0; k < threads.length; k++) {
                    int row = f * threads.length + k;
                    try (LlamaEngine e = new LlamaEngine(m.weights(), threads[k])) {
                        for (int w = 0; w < 5; w++) DecodeBench.oursRun(e, prompt, tokens);     // JIT warm-up
                        for (int rep = 0; rep < 5; rep++) {
                            double[] a = DecodeBench.oursRun(e, prompt, tokens);
                            ourTg[row][round] = Math.max(ourTg[row][round], a[0]);
                            ourPp[row][round] = Math.max(ourPp[row][round], a[1]);
                        }
                    }
                    double[] t = anchor.measure(files.get(f), threads[k], tokens);
                    theirTg[row][round] = t[0];
                    theirPp[row][round] = t[1];
                }
            }
            System.out.printf(Locale.ROOT, "round %d of %d done%n", round + 1, rounds);
        }
        System.out.printf(Locale.ROOT, "%n| model | threads | decode tg%d ours | %s | ratio | prefill pp%d ours | %s | ratio |%n|---|---|---|---|---|---|---|---|%n",
                tokens, anchor.name(), tokens, anchor.name());
        for (int f = 0; f < files.size(); f++) {
            for (int k = 0; k < threads.length; k++) {
                int row = f * threads.length + k;
                double tg = PretrainBenchCommand.median(ourTg[row]), pp = PretrainBenchCommand.median(ourPp[row]), ttg = PretrainBenchCommand.median(theirTg[row]), tpp = PretrainBenchCommand.median(theirPp[row]);
                System.out.printf(Locale.ROOT, "| %s | %d | %,.0f | %s | %s | %,.0f | %s | %s |%n", labels.get(f), threads[k], tg, anchored(anchor.present(), "%,.0f", ttg),
                        anchored(anchor.present(), "%.2fx", tg / ttg), pp, anchored(anchor.present(), "%,.0f", tpp), anchored(anchor.present(), "%.2fx", pp / tpp));
            }
        }
        System.out.println("tokens/s: medians over " + rounds + " rounds, each side's best of 5 per round; goal >= 1.00x everywhere" + anchor.goalNote());
    }

    /** {@code v} formatted, or "-" without the anchor. */
    static String anchored(boolean anchor, String format, double v) {
        return anchor ? String.format(Locale.ROOT, format, v) : "-";
    }

    /** {tg tok/s, pp tok/s}: llama-bench's best of 5 repetitions. */
    static double[] llamaBench(Path gguf, int threads, int tokens) throws Exception {
        String out = LlamaCppAnchor.output(new ProcessBuilder(LLAMA_BENCH.toString(), "-m", gguf.toString(), "-t", String.valueOf(threads),
                "-p", String.valueOf(tokens), "-n", String.valueOf(tokens), "-r", "5", "-o", "json").redirectError(ProcessBuilder.Redirect.DISCARD),
                "llama-bench on " + gguf);
        double tg = 0, pp = 0;
        for (JsonNode r : Json.MAPPER.readTree(out)) {
            double best = 0;
            for (JsonNode s : r.get("samples_ts")) best = Math.max(best, s.asDouble());
            if (r.get("n_gen").asInt() > 0) tg = best;
            else pp = best;
        }
        return new double[] {tg, pp};
    }
}
