package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.eval.Docs;
import dev.llmkit.eval.Template;
import dev.llmkit.eval.engine.LanguageModel;
import dev.llmkit.eval.engine.State;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multiple-choice scoring against llama.cpp (its llama-server, {@link LlamaCppTools}'s, which takes a
 * prompt as token ids and returns every token's log-probability by id; the de.kherud:llama binding
 * aborts on tokens that are not whole UTF-8) on the same GGUF files (the golden F32 and Q8_0 models of
 * ../shared/golden/quant) and the same token ids: on PIQA and MMLU examples of
 * ../shared/data, the chosen answer is the same and every continuation token's log-probability agrees
 * within 1e-3 (F32; within 0.15 for Q8_0, whose products llama.cpp runs on activations rounded to int8 (0.099 measured on 100 + 100)). Skipped
 * without ../shared. The server keeps its KV cache in F32 as we do (its default F16 cache alone moves
 * log-probabilities by up to 1.5e-3). {@code -Dllmkit.oracle.piqa=N} sets the PIQA count (default 30:
 * each continuation token is one request for the whole distribution; 100 takes 2.5 minutes a model).
 */
class EvalLlamaCppTest {
    private static final Path SHARED = Path.of(System.getProperty("llmkit.shared.dir", "../../shared"));

    /** Per choice, the continuation tokens' log-probabilities: ours and llama.cpp's. */
    private record Scores(double[][] ours, double[][] theirs) {
        int chosen(boolean llama) {
            double[][] s = llama ? theirs : ours;
            int best = 0;
            for (int c = 1; c < s.length; c++) if (Arrays.stream(s[c]).sum() > Arrays.stream(s[best]).sum()) best = c;
            return best;
        }
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** log p(next token = t) for every t after {@code prompt}, from the server at {@code base}. */
    private static double[] logprobs(String base, int[] prompt, int vocab) throws Exception {
        var req = Json.MAPPER.createObjectNode();
        var arr = req.putArray("prompt");
        for (int t : prompt) arr.add(t);
        req.put("n_predict", 1).put("temperature", 0).put("n_probs", vocab).put("cache_prompt", true).put("ignore_eos", true);
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/completion")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(Json.COMPACT.writeValueAsString(req))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        double[] lp = new double[vocab];
        java.util.Arrays.fill(lp, Double.NaN);
        for (JsonNode t : Json.MAPPER.readTree(r.body()).at("/completion_probabilities/0/top_logprobs")) lp[t.get("id").asInt()] = t.get("logprob").asDouble();
        return lp;
    }

    private static Scores score(State s, String llama, Tokenizer tok, String context, List<String> choices) throws Exception {
        String ctx = context.stripTrailing(), moved = context.substring(ctx.length());
        int[] c = tok.encode(ctx);
        double[][] ours = new double[choices.size()][], theirs = new double[choices.size()][];
        for (int k = 0; k < choices.size(); k++) {
            int[] whole = tok.encode(ctx + moved + " " + choices.get(k));
            int[] cont = Arrays.copyOfRange(whole, c.length, whole.length);
            int[] in = new int[cont.length];
            in[0] = c[c.length - 1];
            System.arraycopy(cont, 0, in, 1, cont.length - 1);
            s.rewind(0);
            s.prefill(c, 0, c.length - 1);
            ours[k] = new double[cont.length];
            s.score(in, 0, in.length, cont[cont.length - 1], ours[k], 0);
            theirs[k] = new double[cont.length];
            for (int j = 0; j < cont.length; j++) {
                int[] prompt = Arrays.copyOf(c, c.length + j);
                System.arraycopy(cont, 0, prompt, c.length, j);
                double lp = logprobs(llama, prompt, tok.vocabSize())[cont[j]];
                assertTrue(!Double.isNaN(lp), "llama.cpp's distribution has token " + cont[j]);
                theirs[k][j] = lp;
            }
        }
        return new Scores(ours, theirs);
    }

    private static void agree(String file, double tolerance, Path dir) throws Exception {
        Path gguf = SHARED.resolve("golden/quant/" + file), server = LlamaCppTools.tool("llama-server");
        assumeTrue(Files.isRegularFile(gguf) && Files.isDirectory(SHARED.resolve("data/eval_piqa")), "no ../shared here");
        LlamaCppTools.assumeRunnable("llama-server");
        int port;
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = ss.getLocalPort();
        }
        Path log = dir.resolve("server.log");
        ProcessBuilder pb = new ProcessBuilder(server.toString(), "-m", gguf.toString(), "--host", "127.0.0.1", "--port", String.valueOf(port), "-t", "2", "-c", "256",
                "-ctk", "f32", "-ctv", "f32");
        // llama.cpp's flash attention, on by default since late 2025 ("auto"), moved F32 log-probabilities by up to 1.4e-3;
        // off through its environment variable, which older servers (flash attention off, no on/off argument) ignore
        pb.environment().put("LLAMA_ARG_FLASH_ATTN", "off");
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        String llama = "http://127.0.0.1:" + port;
        try {
            long end = System.nanoTime() + 60_000_000_000L;
            while (true) {
                if (!p.isAlive() || System.nanoTime() > end) throw new IllegalStateException("llama-server did not start: " + Files.readString(log));
                try {
                    if (HTTP.send(HttpRequest.newBuilder(URI.create(llama + "/health")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200) break;
                } catch (java.io.IOException e) {
                    Thread.sleep(200);
                }
            }
            run(file, tolerance, gguf, llama);
        } finally {
            p.destroy();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }

    private static void run(String file, double tolerance, Path gguf, String llama) throws Exception {
        Checkpoint.Loaded m = GgufModel.loadQuantized(gguf);
        Tokenizer tok = m.tokenizer();
        int piqaN = Integer.getInteger("llmkit.oracle.piqa", 30), same = 0, total = 0, tokens = 0;
        double worst = 0;
        List<Docs.Doc> piqa = Docs.withLabels(Docs.read(SHARED.resolve("data/eval_piqa/valid.jsonl")).docs(), SHARED.resolve("data/eval_piqa/valid-labels.lst"), "label");
        List<Docs.Doc> mmlu = new ArrayList<>();
        for (String f : List.of("mmlu_anatomy.csv", "mmlu_astronomy.csv")) mmlu.addAll(Docs.read(SHARED.resolve("data/eval_mmlu_redux/" + f)).docs());
        try (State s = LanguageModel.of(m).newState(256, 2)) {
            for (int i = 0; i < piqaN + 100; i++) {
                boolean isPiqa = i < piqaN;
                Docs.Doc d = isPiqa ? piqa.get(i) : mmlu.get(i - piqaN);
                String ctx = isPiqa ? Template.text("Question: {{goal}}\nAnswer:", d.fields(), d.where())
                        : Template.text("{{question}}\nA. {{choices.0}}\nB. {{choices.1}}\nC. {{choices.2}}\nD. {{choices.3}}\nAnswer:", d.fields(), d.where());
                List<String> choices = isPiqa ? List.of(d.fields().get("sol1").asText(), d.fields().get("sol2").asText()) : List.of("A", "B", "C", "D");
                int longest = 0;
                for (String ch : choices) longest = Math.max(longest, tok.encode(ctx + " " + ch).length);
                if (longest > 256) continue;     // the oracle compares whole contexts: no truncation
                Scores sc = score(s, llama, tok, ctx, choices);
                for (int k = 0; k < choices.size(); k++) {
                    for (int j = 0; j < sc.ours[k].length; j++) {
                        worst = Math.max(worst, Math.abs(sc.ours[k][j] - sc.theirs[k][j]));
                        tokens++;
                    }
                }
                if (sc.chosen(false) == sc.chosen(true)) same++;
                total++;
            }
        }
        System.err.printf("%s: %d of %d chosen answers the same, %d token log-probabilities, largest difference %.2e%n", file, same, total, tokens, worst);
        assertTrue(total >= piqaN + 80, file + ": only " + total + " examples fit the context");
        assertEquals(total, same, file + ": the same chosen answer on every example");
        assertTrue(worst < tolerance, file + ": per-token log-probabilities differ by up to " + worst);
    }

    @Test
    void f32ChoosesAsLlamaCppWithTheSameTokenLogProbabilities(@TempDir Path dir) throws Exception {
        agree("m-f32.gguf", 1e-3, dir);
    }

    @Test
    void q8_0ChoosesAsLlamaCpp(@TempDir Path dir) throws Exception {
        agree("m-q8_0.gguf", 0.15, dir);
    }
}
