package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.quant.QuantPlan;
import dev.llmkit.eval.engine.LlamaEngine;
import dev.llmkit.quantize.Quantizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quantized models in our engine and in llama.cpp's (llama-simple of ../shared/tools/llama.cpp or $LLMKIT_LLAMA_CPP_DIR, greedy;
 * skipped without it): every golden file of ../shared/golden/quant continues identically in both, and
 * llama.cpp loads the Q8_0, Q4_0 and Q4_K_M files llmkit writes and continues them as our engine does.
 */
class QuantLlamaCppTest {
    private static final Path SHARED = Path.of(System.getProperty("llmkit.shared.dir", "../../shared"));
    private static final Path SIMPLE = LlamaCppTools.tool("llama-simple"), GOLDEN = SHARED.resolve("golden/quant");
    private static final List<String> PROMPTS = List.of("Umar Voupi was born on", "He graduated from", "The company");
    private static final int N = 24;

    private static String llamaCpp(Path gguf, String prompt) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(SIMPLE.toString(), "-m", gguf.toString(), "-n", String.valueOf(N), prompt).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "llama-simple did not finish");
        assertEquals(0, p.exitValue(), "llama-simple on " + gguf);
        return new String(out, StandardCharsets.UTF_8).strip();
    }

    /** The prompt and our greedy continuation of up to N tokens, stopping at an end-of-generation token as llama-simple does. */
    private static String ours(Checkpoint.Loaded m, String prompt) {
        int[] ids = m.tokenizer().encode(prompt, true);
        int[] out = new int[N];
        int n = 0;
        try (LlamaEngine e = new LlamaEngine(m.weights(), 2, ids.length + N)) {
            float[] logits = e.prefill(ids, 0);
            for (; n < N; n++) {
                int best = 0;
                for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
                if (best == m.tokenizer().eotId()) break;
                out[n] = best;
                if (n + 1 < N) logits = e.forward(best, ids.length + n, true);
            }
        }
        return (prompt + m.tokenizer().decode(java.util.Arrays.copyOf(out, n))).strip();
    }

    @Test
    void everyGoldenFileContinuesAsInLlamaCpp() throws Exception {
        assumeTrue(Files.isDirectory(GOLDEN), "no ../shared/golden/quant here");
        LlamaCppTools.assumeRunnable("llama-simple");
        int files = 0;
        try (var s = Files.list(GOLDEN)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".gguf")).sorted().toList()) {
                Checkpoint.Loaded m = GgufModel.loadQuantized(f);
                for (String prompt : PROMPTS) assertEquals(llamaCpp(f, prompt), ours(m, prompt), f.getFileName() + ": " + prompt);
                files++;
            }
        }
        assertTrue(files >= 15, files + " golden files");
    }

    @Test
    void llamaCppRunsTheFilesLlmkitWrites(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isDirectory(GOLDEN), "no ../shared/golden/quant here");
        LlamaCppTools.assumeRunnable("llama-simple");
        Checkpoint.Loaded src = GgufModel.load(GOLDEN.resolve("m-f32.gguf"));
        for (String type : List.of("q8_0", "q4_0", "q4_k_m")) {
            Path out = dir.resolve("m-" + type + ".gguf");
            Quantizer.quantize(src.weights(), src.tokenizer(), null, new QuantPlan(QuantPlan.Preset.parse(type), false, 4, false, List.of()), out, "m", 2, null);
            Checkpoint.Loaded m = GgufModel.loadQuantized(out);
            for (String prompt : PROMPTS) assertEquals(llamaCpp(out, prompt), ours(m, prompt), type + ": " + prompt);
        }
    }
}
