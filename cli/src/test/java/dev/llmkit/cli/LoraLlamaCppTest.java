package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our GGUF LoRA adapter in llama.cpp: the base GGUF with {@code --lora adapter.gguf} gives the next-token
 * distribution of our merged model's GGUF (and not the base's). Uses llama-server of ../shared/tools/llama.cpp (or $LLMKIT_LLAMA_CPP_DIR)
 * on 127.0.0.1; skipped without it.
 */
class LoraLlamaCppTest {
    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static void cli(String... args) {
        StringWriter err = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(err, true), args), err.toString());
    }

    @Test
    void baseWithOurAdapterEqualsOurMergedModel() throws Exception {
        Path server = LlamaCppTools.tool("llama-server");
        LlamaCppTools.assumeRunnable("llama-server");
        Path tok = dir.resolve("tokenizer.json"), base = dir.resolve("base"), run = dir.resolve("lora");
        TokenizerJson.write(TokenizerJson.build(new int[0][], List.of(Tokenizer.EOT, "<|im_start|>", "<|im_end|>", "<|pad|>"), SplitPattern.GPT2), tok);
        cli("model", "init", "--tokenizer", tok.toString(), "--out", base.toString(), "--set", "model.dim=32", "--set", "model.hidden_dim=64",
                "--set", "model.n_layers=2", "--set", "model.n_heads=2", "--set", "model.n_kv_heads=1", "--set", "model.context_length=64");
        StringBuilder qa = new StringBuilder();
        for (int i = 0; i < 24; i++) qa.append("{\"question\": \"Where is town ").append(i).append("?\", \"answer\": \"North ").append(i % 3).append("\"}\n");
        Files.writeString(dir.resolve("qa.jsonl"), qa);
        cli("finetune", "--base", base.toString(), "--data", dir.resolve("qa.jsonl").toString(), "--out", run.toString(), "--lora",
                "--set", "finetune.lora.rank=4", "--set", "finetune.lora.alpha=32", "--set", "finetune.lora.dropout=0", "--set", "finetune.lr=0.05",
                "--set", "finetune.steps=6", "--set", "finetune.batch_size=4", "--set", "finetune.seq_len=48", "--set", "finetune.em_samples=0");
        cli("export", "--model", base.toString(), "--out", dir.resolve("base.gguf").toString());
        cli("export", "--model", run.resolve("final").toString(), "--out", dir.resolve("merged.gguf").toString());
        cli("finetune", "export-lora", "--adapter", run.resolve("final").toString(), "--out", dir.resolve("lora.gguf").toString());
        String prompt = "<|im_start|>user\nWhere is town 5?<|im_end|>\n<|im_start|>assistant\n";
        TreeMap<Integer, Double> withLora = topLogprobs(server, List.of("-m", dir.resolve("base.gguf").toString(), "--lora", dir.resolve("lora.gguf").toString()), prompt);
        TreeMap<Integer, Double> merged = topLogprobs(server, List.of("-m", dir.resolve("merged.gguf").toString()), prompt);
        TreeMap<Integer, Double> plain = topLogprobs(server, List.of("-m", dir.resolve("base.gguf").toString()), prompt);
        assertEquals(merged.keySet(), withLora.keySet());
        double moved = 0;
        for (int id : merged.keySet()) {
            assertEquals(merged.get(id), withLora.get(id), 2e-3, "token " + id);
            moved = Math.max(moved, Math.abs(merged.get(id) - plain.getOrDefault(id, -100.0)));
        }
        assertTrue(moved > 1e-2, "the adapter changes the base's distribution (max change " + moved + ")");
    }

    /** The 8 most likely next tokens after the prompt and their log-probabilities, from a fresh llama-server. */
    private TreeMap<Integer, Double> topLogprobs(Path server, List<String> model, String prompt) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of(server.toString()));
        cmd.addAll(model);
        cmd.addAll(List.of("--host", "127.0.0.1", "--port", String.valueOf(port), "-t", "1", "-c", "64"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("server-" + port + ".log").toFile()).start();
        try {
            String base = "http://127.0.0.1:" + port;
            long end = System.nanoTime() + 60_000_000_000L;
            while (true) {
                if (!p.isAlive() || System.nanoTime() > end) throw new IllegalStateException("llama-server did not start: " + Files.readString(dir.resolve("server-" + port + ".log")));
                try {
                    if (HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health")).timeout(Duration.ofSeconds(2)).build(),
                            HttpResponse.BodyHandlers.ofString()).statusCode() == 200) break;
                } catch (java.io.IOException e) {
                    Thread.sleep(200);
                }
            }
            String body = Json.COMPACT.writeValueAsString(Json.MAPPER.createObjectNode().put("prompt", prompt).put("n_predict", 1).put("temperature", 0)
                    .put("n_probs", 8).put("cache_prompt", false).put("ignore_eos", true));
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/completion")).timeout(Duration.ofSeconds(20))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            TreeMap<Integer, Double> top = new TreeMap<>();
            for (JsonNode t : Json.MAPPER.readTree(r.body()).at("/completion_probabilities/0/top_logprobs")) top.put(t.get("id").asInt(), t.get("logprob").asDouble());
            assertEquals(8, top.size(), r.body());
            return top;
        } finally {
            p.destroy();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }
}
