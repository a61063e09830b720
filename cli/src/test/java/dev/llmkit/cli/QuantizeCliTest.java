package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import dev.llmkit.core.io.Gguf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code llmkit quantize} end to end: the file, its report, the engine running it, and the errors. */
class QuantizeCliTest {
    @TempDir
    static Path dir;

    static Path model, text;

    private static CliRun run(String... args) {
        return CliRun.run(args);
    }

    private static void ok(String... args) {
        CliRun.ok(args);
    }

    /** A model whose rows of 64 fit no K-quant (fallbacks) and whose ffn_down rows of 256 fit them all. */
    @BeforeAll
    static void model() throws IOException {
        text = dir.resolve("c.txt");
        Files.writeString(text, "the cat sat on the mat. caf\u00e9 na\u00efve. the dog sat on the log; a bird flew over it.\n".repeat(60), StandardCharsets.UTF_8);
        ok("tokenizer", "train", "--corpus", text.toString(), "--vocab-size", "300", "--out", dir.resolve("tok").toString());
        model = dir.resolve("model");
        ok("model", "init", "--preset", "tiny", "--tokenizer", dir.resolve("tok/tokenizer.json").toString(), "--out", model.toString(),
                "--set", "model.dim=64", "--set", "model.hidden_dim=256", "--set", "model.n_layers=2", "--set", "model.n_heads=4",
                "--set", "model.n_kv_heads=2", "--set", "model.context_length=128");
    }

    @Test
    void writesTheFileAndAReportAndTheEngineRunsIt() throws IOException {
        Path out = dir.resolve("m-q4_k_m.gguf");
        ok("quantize", "--model", model.toString(), "--type", "q4_k_m", "--out", out.toString(), "--eval-text", text.toString(), "--bench-tokens", "16");
        JsonNode r = Json.MAPPER.readTree(dir.resolve("m-q4_k_m.report.json").toFile());
        assertEquals("q4_k_m", r.get("type").asText());
        assertEquals(Files.size(out), r.get("file_bytes").asLong());
        assertTrue(r.get("fallbacks").asInt() >= 6, r.toString());       // q, k, v, o, gate, up of both layers: rows of 64
        Gguf.Model g = Gguf.read(out);
        for (JsonNode t : r.get("tensors")) {
            assertEquals(t.get("type").asText(), dev.llmkit.core.quant.GgmlType.byId(g.tensors().get(t.get("name").asText()).type()).name(), t.toString());
            assertTrue(t.get("rmse").asDouble() < 0.05 && t.get("max_error").asDouble() >= t.get("rmse").asDouble() * 0.99, t.toString());
        }
        assertEquals("Q4_K", r.at("/tensors").findValues("type").stream().filter(v -> v.asText().equals("Q4_K")).findFirst().map(JsonNode::asText).orElse(""));
        assertTrue(r.at("/quality/tokens").asInt() > 100 && Math.abs(r.at("/quality/relative_change").asDouble()) < 0.05, r.get("quality").toString());
        assertTrue(r.at("/decode/tokens_per_second").asDouble() > 0, r.get("decode").toString());
        assertEquals(15L, (long) (Long) g.get("general.file_type").value());
        ok("generate", "--model", out.toString(), "--prompt", "the cat", "--max-tokens", "8", "--temperature", "0");
        // pure and overrides: every matrix the type, then attn_v as asked
        Path pure = dir.resolve("pure.gguf");
        ok("quantize", "--model", model.toString(), "--type", "q8_0", "--pure", "--tensor-type", "attn_v=f16", "--out", pure.toString(), "--eval-tokens", "0", "--bench-tokens", "0");
        Gguf.Model p = Gguf.read(pure);
        assertEquals(1, p.tensors().get("blk.1.attn_v.weight").type());
        assertEquals(8, p.tensors().get("token_embd.weight").type());
    }

    @Test
    void badRequestsExitWithTheirCodeAndWriteNothing() {
        Path out = dir.resolve("bad.gguf");
        assertEquals(2, run("quantize", "--model", model.toString(), "--type", "q3_k", "--out", out.toString()).code());
        assertEquals(2, run("quantize", "--model", model.toString(), "--type", "q8_0", "--tensor-type", "attn_v", "--out", out.toString()).code());
        assertEquals(2, run("quantize", "--model", model.toString(), "--type", "q8_0", "--tensor-type", "attn_v=q9", "--out", out.toString()).code());
        CliRun missing = run("quantize", "--model", model.toString(), "--type", "q8_0", "--eval-text", dir.resolve("none.txt").toString(), "--out", out.toString());
        assertEquals(2, missing.code(), missing.err());     // a missing input is a usage error (README)
        assertTrue(missing.err().contains("none.txt"), missing.err());
        assertFalse(Files.exists(out), "nothing written when the evaluation text is missing");
        Path q = dir.resolve("q.gguf");
        ok("quantize", "--model", model.toString(), "--type", "q4_0", "--out", q.toString(), "--eval-tokens", "0", "--bench-tokens", "0");
        assertEquals(2, run("quantize", "--model", model.toString(), "--type", "q4_0", "--out", q.toString()).code());     // exists, no --force
        CliRun re = run("quantize", "--model", q.toString(), "--type", "q8_0", "--out", dir.resolve("re.gguf").toString());
        assertEquals(2, re.code(), re.err());
        assertTrue(re.err().contains("--allow-requantize"), re.err());
        ok("quantize", "--model", q.toString(), "--type", "q8_0", "--allow-requantize", "--out", dir.resolve("re.gguf").toString(), "--eval-tokens", "0", "--bench-tokens", "0");
    }
}
