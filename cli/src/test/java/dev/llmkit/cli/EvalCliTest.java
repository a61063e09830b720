package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code llmkit eval} end to end: two models side by side on the three task types, the reports, and the errors. */
class EvalCliTest {
    @TempDir
    static Path dir;

    static Path model, gguf;

    @BeforeAll
    static void models() throws IOException {
        Path corpus = dir.resolve("c.txt");
        Files.writeString(corpus, "the cat sat on the mat. the dog sat on the log. a bird flew over the tree.\n".repeat(50), StandardCharsets.UTF_8);
        CliRun.ok("tokenizer", "train", "--corpus", corpus.toString(), "--vocab-size", "300", "--out", dir.resolve("tok").toString());
        model = dir.resolve("model");
        CliRun.ok("model", "init", "--preset", "tiny", "--tokenizer", dir.resolve("tok/tokenizer.json").toString(), "--out", model.toString(),
                "--set", "model.dim=64", "--set", "model.hidden_dim=256", "--set", "model.n_layers=2", "--set", "model.n_heads=4",
                "--set", "model.context_length=128");
        gguf = dir.resolve("m-q8_0.gguf");
        CliRun.ok("quantize", "--model", model.toString(), "--type", "q8_0", "--out", gguf.toString(), "--eval-tokens", "0", "--bench-tokens", "0");
        StringBuilder mc = new StringBuilder(), qa = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            mc.append("{\"q\": \"the cat sat on the\", \"choices\": [\"mat\", \"dog ").append(i).append("\"], \"label\": ").append(i % 2).append("}\n");
            qa.append("{\"question\": \"where did the cat sit?\", \"answer\": \"on the mat\", \"kind\": \"").append(i % 3 == 0 ? "place" : "thing").append("\"}\n");
        }
        Files.writeString(dir.resolve("mc.jsonl"), mc);
        Files.writeString(dir.resolve("qa.jsonl"), qa);
        Files.writeString(dir.resolve("mc.yaml"), "type: multiple_choice\ndata: mc.jsonl\ndoc_to_text: \"{{q}}\"\ndoc_to_choice: \"{{choices}}\"\ndoc_to_target: \"{{label}}\"\n");
        Files.writeString(dir.resolve("qa.yaml"), "name: qa\ntype: generate\ndata: qa.jsonl\ndoc_to_text: \"Q: {{question}}\\nA:\"\ndoc_to_target: \"{{answer}}\"\n"
                + "until: [\"\\n\"]\nmax_tokens: 8\nnormalize: true\ngroup_by: kind\nfewshot: 2\n");
        Files.writeString(dir.resolve("ppl.yaml"), "name: ppl\ntype: perplexity\ndata: c.txt\nstride: 32\n");
    }

    @Test
    void twoModelsSideBySideOnEveryTaskType() throws IOException {
        Path out = dir.resolve("eval");
        CliRun.ok("eval", "--model", model.toString(), "--model", gguf.toString(), "--tasks", dir.resolve("mc.yaml") + "," + dir.resolve("qa.yaml"),
                "--tasks", dir.resolve("ppl.yaml").toString(), "--limit", "10", "--threads", "2", "--out", out.toString());
        JsonNode r = Json.MAPPER.readTree(out.resolve("report.json").toFile());
        assertEquals(2, r.get("models").size());
        assertEquals("Q8_0", r.at("/models/1/storage").asText());
        for (JsonNode t : r.get("tasks")) {
            for (String m : new String[] {"model", "m-q8_0"}) {
                JsonNode res = t.at("/results/" + m + "/metrics");
                assertTrue(res.size() >= 2, t.get("name") + " " + m + ": " + res);
                for (JsonNode metric : t.get("metrics")) assertTrue(res.has(metric.asText()), t.get("name") + " " + m + " lacks " + metric);
            }
        }
        JsonNode mc = r.at("/tasks/0"), qa = r.at("/tasks/1"), ppl = r.at("/tasks/2");
        assertEquals(10, mc.get("examples").asInt());
        double acc = mc.at("/results/model/metrics/acc/value").asDouble();
        assertTrue(acc >= 0 && acc <= 1 && mc.at("/results/model/metrics/acc/stderr").isNumber());
        assertTrue(qa.at("/results/model/metrics").has("exact_match/place"), qa.toString());
        assertTrue(ppl.at("/results/model/metrics/bits_per_byte/value").asDouble() > 0);
        assertEquals(ppl.at("/results/model/metrics/bits_per_byte/value").asDouble(), ppl.at("/results/m-q8_0/metrics/bits_per_byte/value").asDouble(), 0.02);
        assertEquals(2 * (10 + 10 + 1), Files.readAllLines(out.resolve("samples.jsonl")).size());
        assertTrue(Files.readString(out.resolve("report.md")).contains("| acc"));
        JsonNode shown = qa.at("/examples_shown/0");
        assertEquals("on the mat", shown.get("target").asText());
        assertTrue(shown.at("/outputs").has("model") && shown.at("/outputs").has("m-q8_0"), shown.toString());
        assertEquals(5, mc.get("examples_shown").size());
        assertTrue(Files.readString(out.resolve("report.html")).contains("data:image/png;base64,"));
    }

    @Test
    void badTasksAndDataExitWithTheirCodeNamingTheProblem() throws IOException {
        Path out = dir.resolve("bad");
        CliRun r = CliRun.run("eval", "--model", model.toString(), "--tasks", "no-such-preset", "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        Files.writeString(dir.resolve("broken.jsonl"), "{\"q\": \"x\", \"choices\": [\"a\", \"b\"], \"label\": 0}\n{\"q\": \n");
        Files.writeString(dir.resolve("broken.yaml"), "type: multiple_choice\ndata: broken.jsonl\ndoc_to_text: \"{{q}}\"\ndoc_to_choice: \"{{choices}}\"\ndoc_to_target: \"{{label}}\"\n");
        r = CliRun.run("eval", "--model", model.toString(), "--tasks", dir.resolve("broken.yaml").toString(), "--out", out.toString());
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().contains("broken.jsonl:2"), r.err());
        Files.writeString(dir.resolve("typo.yaml"), "type: multiple_choice\ndata: mc.jsonl\ndoc_to_txt: x\n");
        r = CliRun.run("eval", "--model", model.toString(), "--tasks", dir.resolve("typo.yaml").toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("doc_to_txt"), r.err());
        r = CliRun.run("eval", "--model", model.toString(), "--tasks", "arc", "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("arc:PATH"), r.err());
        assertTrue(!Files.exists(out.resolve("report.json")), "no report from failed runs");
    }
}
