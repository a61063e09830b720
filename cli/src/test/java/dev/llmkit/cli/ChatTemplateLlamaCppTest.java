package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.Json;
import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.ChatMessage;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * llama.cpp renders conversations with the chat template our GGUF carries exactly as fine-tuning did:
 * llama-server's /apply-template gives our text and its /tokenize our tokens. Uses
 * ../shared/tools/llama.cpp or $LLMKIT_LLAMA_CPP_DIR (skipped without it); the server listens on 127.0.0.1 only.
 */
class ChatTemplateLlamaCppTest {
    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void llamaServerRendersAndTokenizesOurTemplateAsWeDo() throws Exception {
        Path server = LlamaCppTools.tool("llama-server");
        LlamaCppTools.assumeRunnable("llama-server");
        Path tokJson = dir.resolve("tokenizer.json");
        TokenizerJson.write(TokenizerJson.build(new int[][] {{104, 101}, {32, 116}}, List.of(Tokenizer.EOT, ChatTemplate.IM_START, ChatTemplate.IM_END, "<|pad|>"),
                SplitPattern.GPT2), tokJson);
        Tokenizer tok = Tokenizer.load(tokJson);
        ModelConfig c = new ModelConfig(32, 64, 1, 2, 2, tok.vocabSize(), 128, 1e-5f, 10000f, true);
        Path gguf = dir.resolve("chat.gguf");
        GgufModel.export(Weights.init(c, 0.02f, 1), tok, gguf, Gguf.F32, "chat-test", ChatTemplate.JINJA);
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Process p = new ProcessBuilder(server.toString(), "-m", gguf.toString(), "--host", "127.0.0.1", "--port", String.valueOf(port), "-t", "1", "-c", "128")
                .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile()).start();
        try {
            String base = "http://127.0.0.1:" + port;
            waitHealthy(base, p);
            List<List<ChatMessage>> conversations = List.of(
                    List.of(new ChatMessage("user", "Where was Ada born?")),
                    List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", "Where was Ada born?"), new ChatMessage("assistant", "Oslo"),
                            new ChatMessage("user", "And the\nthe \"other\" one?")));
            for (List<ChatMessage> msgs : conversations) {
                ObjectNode req = Json.MAPPER.createObjectNode();
                ArrayNode a = req.putArray("messages");
                for (ChatMessage m : msgs) a.addObject().put("role", m.role()).put("content", m.content());
                String text = post(base + "/apply-template", req).get("prompt").asText();
                assertEquals(ChatTemplate.renderText(msgs, true), text);
                ObjectNode t = Json.MAPPER.createObjectNode().put("content", text).put("add_special", false).put("parse_special", true);
                JsonNode ids = post(base + "/tokenize", t).get("tokens");
                int[] theirs = new int[ids.size()];
                for (int i = 0; i < theirs.length; i++) theirs[i] = ids.get(i).asInt();
                assertArrayEquals(ChatTemplate.render(tok, msgs, true).tokens(), theirs, text);
            }
        } finally {
            p.destroy();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }

    private static void waitHealthy(String base, Process p) throws Exception {
        long end = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < end && p.isAlive()) {
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return;
            } catch (java.io.IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("llama-server did not become healthy (alive: " + p.isAlive() + ")");
    }

    private static JsonNode post(String url, JsonNode body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(Json.COMPACT.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return Json.MAPPER.readTree(r.body());
    }
}
