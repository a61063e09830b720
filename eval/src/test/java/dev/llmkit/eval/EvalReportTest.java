package dev.llmkit.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalReportTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private static JsonNode report(Path metrics) throws Exception {
        String json = """
                {
                  "created": "2026-11-30T08:40:00Z",
                  "llmkit_version": "0.1.0-SNAPSHOT",
                  "config": {"limit": 100, "fewshot": 0, "seed": 1234, "threads": 2},
                  "models": [
                    {"name": "f32", "path": "runs/demo/03-pretrain/final", "storage": "F32", "parameters": 4458752,
                     "bytes": 17835008, "metrics_jsonl": %s},
                    {"name": "q8", "path": "runs/demo/04-quantize/q8", "storage": "Q8_0", "parameters": 4458752,
                     "bytes": 4980736, "metrics_jsonl": null}
                  ],
                  "tasks": [
                    {"name": "piqa", "type": "multiple_choice", "description": "Physical <script>alert(1)</script> & more",
                     "data": "data/piqa.jsonl", "examples": 100, "fewshot": 0, "metrics": ["acc", "acc_norm"],
                     "results": {
                       "f32": {"metrics": {"acc": {"value": 0.61, "stderr": 0.048}, "acc_norm": {"value": 0.6, "stderr": 0.049}},
                               "examples": 100, "seconds": 12.3, "examples_per_second": 8.1},
                       "q8": {"metrics": {"acc": {"value": 0.59, "stderr": 0.0492}},
                              "examples": 100, "seconds": 6.0, "examples_per_second": 16.67}
                     }},
                    {"name": "wikitext", "type": "perplexity", "description": "held-out text", "data": "data/wiki.txt",
                     "examples": 50, "fewshot": 0,
                     "metrics": ["word_perplexity", "byte_perplexity", "bits_per_byte", "token_perplexity"],
                     "results": {
                       "f32": {"metrics": {"word_perplexity": {"value": 312.45678, "stderr": null},
                                           "byte_perplexity": {"value": 2.34567, "stderr": null},
                                           "bits_per_byte": {"value": 1.22905, "stderr": 0.01234},
                                           "token_perplexity": {"value": 45.6789}},
                               "examples": 50, "seconds": 5.0, "examples_per_second": 10.0},
                       "q8": {"metrics": {"word_perplexity": {"value": 320.1, "stderr": null},
                                          "byte_perplexity": {"value": 2.36, "stderr": null},
                                          "bits_per_byte": {"value": 1.2388, "stderr": 0.0125},
                                          "token_perplexity": {"value": 46.2}},
                              "examples": 50, "seconds": 2.5, "examples_per_second": 20.0}
                     }},
                    {"name": "facts", "type": "generate", "description": "answer questions", "data": "data/facts.jsonl",
                     "examples": 20, "fewshot": 2, "metrics": ["exact_match", "f1"],
                     "results": {
                       "f32": {"metrics": {"exact_match": {"value": 0.25, "stderr": 0.0993},
                                           "f1": {"value": 0.4123, "stderr": 0.08},
                                           "exact_match/birth_date": {"value": 0.5, "stderr": 0.16}},
                               "examples": 20, "seconds": 4.0, "examples_per_second": 5.0}
                     }}
                  ]
                }
                """.formatted(Json.MAPPER.writeValueAsString(metrics.toString()));
        return Json.MAPPER.readTree(json);
    }

    @Test
    void writesMarkdownAndSelfContainedHtml(@TempDir Path tmp) throws Exception {
        Path metrics = tmp.resolve("metrics.jsonl");
        Files.writeString(metrics, """
                {"step":1,"loss":8.35,"lr":1e-5}
                {"step":2,"loss":7.9,"lr":2e-5}
                {"step":3,"loss":7.1,"lr":3e-5,"val_loss":7.3,"val_bpb":2.1}
                {"step":4,"loss":6.5,"lr":4e-5}
                {"step":5,"loss":6.0,"lr":5e-5,"val_loss":6.4,"val_bpb":1.9}
                {"step":6,"lo
                """);
        Path out = tmp.resolve("eval");
        EvalReport.write(report(metrics), out);

        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.startsWith("# "), md);
        assertTrue(md.contains("limit=100, fewshot=0, seed=1234, threads=2"), md);
        assertTrue(md.contains("| f32 | runs/demo/03-pretrain/final | F32 | 4,458,752 | 17.8 |"), md);
        assertTrue(md.contains("### piqa"), md);
        assertTrue(md.contains("### wikitext"), md);
        assertTrue(md.contains("### facts"), md);
        assertTrue(md.contains("| metric | f32 | q8 |"), md);
        assertTrue(md.contains("| acc (higher is better) | 0.6100 ± 0.0480 | 0.5900 ± 0.0492 |"), md);
        assertTrue(md.contains("| acc_norm (higher is better) | 0.6000 ± 0.0490 | - |"), md);
        assertTrue(md.contains("| word_perplexity (lower is better) | 312.457 | 320.100 |"), md);
        assertTrue(md.contains("| bits_per_byte (lower is better) | 1.229 ± 0.012 | 1.239 ± 0.013 |"), md);
        assertTrue(md.contains("| token_perplexity (lower is better) | 45.679 | 46.200 |"), md);
        assertTrue(md.contains("| exact_match (higher is better) | 0.2500 ± 0.0993 | - |"), md);
        assertTrue(md.contains("| f1 (higher is better) | 0.4123 ± 0.0800 | - |"), md);
        assertTrue(md.contains("| exact_match/birth_date (higher is better) | 0.5000 ± 0.1600 | - |"), md);
        assertTrue(md.contains("| examples/s | 8.10 | 16.67 |"), md);
        assertTrue(md.contains("| examples/s | 5.00 | - |"), md);
        assertFalse(md.contains("<script>"), md);

        Path htmlFile = out.resolve("report.html");
        assertTrue(Files.isRegularFile(htmlFile));
        String html = Files.readString(htmlFile);
        assertFalse(html.contains("<script>"), "description must be escaped");
        assertTrue(html.contains("Physical &lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        assertFalse(html.toLowerCase(Locale.ROOT).contains("http"), "no external references");
        assertTrue(html.contains("0.6100 ± 0.0480"));
        assertTrue(html.contains("312.457"));

        Matcher m = Pattern.compile("<img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
        List<byte[]> images = new ArrayList<>();
        while (m.find()) images.add(Base64.getDecoder().decode(m.group(1)));
        assertTrue(images.size() >= 4, "3 task charts and the loss chart, got " + images.size());
        for (byte[] png : images) {
            assertTrue(png.length > 100);
            assertArrayEquals(PNG_MAGIC, Arrays.copyOf(png, 8));
        }
        try (var files = Files.list(out)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    @Test
    void missingMetricsFileOnlySkipsTheLossChart(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("eval");
        EvalReport.write(report(tmp.resolve("does-not-exist.jsonl")), out);
        String html = Files.readString(out.resolve("report.html"), StandardCharsets.UTF_8);
        int count = html.split("data:image/png;base64,", -1).length - 1;
        assertTrue(count == 3, "only the three task charts, got " + count);
        assertTrue(Files.readString(out.resolve("report.md")).contains("### facts"));
    }
}
