package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** finetune, finetune eval/merge and chat through the CLI: hostile data, exit codes, the outputs users read. */
class FinetuneCliTest {
    @TempDir
    Path dir;

    private Path base;

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(new PrintWriter(err, true), args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    private static final String[] TINY = {"--set", "finetune.batch_size=4", "--set", "finetune.seq_len=48", "--set", "finetune.steps=4",
        "--set", "finetune.eval_interval=2", "--set", "finetune.em_samples=2", "--set", "finetune.em_max_tokens=4", "--set", "finetune.val_fraction=0.2"};

    @BeforeEach
    void base() {
        Path tok = dir.resolve("tokenizer.json");
        TokenizerJson.write(TokenizerJson.build(new int[0][], List.of(Tokenizer.EOT, "<|im_start|>", "<|im_end|>", "<|pad|>"), SplitPattern.GPT2), tok);
        base = dir.resolve("base");
        Run r = run("model", "init", "--tokenizer", tok.toString(), "--out", base.toString(), "--set", "model.dim=32", "--set", "model.hidden_dim=64",
                "--set", "model.n_layers=1", "--set", "model.n_heads=2", "--set", "model.n_kv_heads=2", "--set", "model.context_length=64");
        assertEquals(0, r.code(), r.err());
    }

    private Path qa() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 30; i++) sb.append("{\"question\": \"Where is town ").append(i).append("?\", \"answer\": \"North\"}\n");
        sb.append("{oops\n");                                                         // invalid_json
        sb.append("{\"question\": \"No answer?\"}\n");                                // missing_field
        sb.append("{\"question\": \"Empty?\", \"answer\": \"  \"}\n");              // empty_answer
        sb.append("{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}\n"); // unknown_role
        sb.append("{\"question\": 7, \"answer\": \"seven\"}\n");                      // not_a_string
        Path f = dir.resolve("qa.jsonl");
        Files.writeString(f, sb.toString());
        return f;
    }

    private Run finetune(Path data, Path out, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("finetune", "--base", base.toString(), "--data", data.toString(), "--out", out.toString()));
        a.addAll(List.of(TINY));
        a.addAll(List.of(more));
        return run(a.toArray(new String[0]));
    }

    @Test
    void badRecordsAreCountedOrFatalWithStrict() throws IOException {
        Path data = qa();
        Run strict = finetune(data, dir.resolve("s"), "--strict");
        assertEquals(3, strict.code(), strict.err());
        assertTrue(strict.err().contains("qa.jsonl:31") && strict.err().contains("invalid_json"), strict.err());
        assertFalse(strict.err().contains("\tat "), strict.err());
        Run ok = finetune(data, dir.resolve("o"));
        assertEquals(0, ok.code(), ok.err());
        JsonNode skipped = Json.MAPPER.readTree(dir.resolve("o/report.json").toFile()).at("/data/skipped");
        for (String reason : List.of("invalid_json", "missing_field", "empty_answer", "unknown_role", "not_a_string")) {
            assertEquals(1, skipped.path(reason).asInt(), reason + " in " + skipped);
        }
        assertTrue(ok.out().contains("final checkpoint"), ok.out());
        // the fine-tuned model answers through its template; the base has none
        Run eval = run("finetune", "eval", "--model", dir.resolve("o/final").toString(), "--data", data.toString(), "--limit", "5", "--max-tokens", "3");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("exact match") && eval.out().contains("/5"), eval.out());
        Run chat = run("chat", "--model", dir.resolve("o/final").toString(), "--prompt", "Where is town 3?", "--max-tokens", "3", "--temperature", "0");
        assertEquals(0, chat.code(), chat.err());
        Run noTemplate = run("chat", "--model", base.toString(), "--prompt", "hi");
        assertEquals(2, noTemplate.code());
        assertTrue(noTemplate.err().contains("no chat template"), noTemplate.err());
    }

    @Test
    void usageErrorsExitTwoAndDamagedFilesThree() throws IOException {
        Path data = qa();
        assertEquals(2, finetune(dir.resolve("nope.jsonl"), dir.resolve("a")).code());
        assertEquals(2, finetune(data, dir.resolve("b"), "--field", "question").code());
        assertEquals(2, run("finetune", "--base", dir.resolve("nobase").toString(), "--data", data.toString(), "--out", dir.resolve("c").toString()).code());
        assertEquals(2, finetune(data, dir.resolve("d"), "--set", "finetune.lora.targets=[q, x]").code());
        byte[] gz;
        try (ByteArrayOutputStream bos = new ByteArrayOutputStream(); GZIPOutputStream z = new GZIPOutputStream(bos)) {
            z.write(Files.readAllBytes(data));
            z.finish();
            gz = bos.toByteArray();
        }
        Path cut = dir.resolve("cut.jsonl.gz");
        Files.write(cut, java.util.Arrays.copyOf(gz, gz.length / 2));
        Run r = finetune(cut, dir.resolve("e"));
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().contains("cut.jsonl.gz"), r.err());
    }

    @Test
    void loraAdaptersChatAndMerge() throws IOException {
        Run r = finetune(qa(), dir.resolve("l"), "--lora", "--set", "finetune.lora.rank=2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("merged model"), r.out());
        Path adapter = dir.resolve("l/final");
        assertTrue(Files.exists(adapter.resolve("adapter_config.json")));
        Run chat = run("chat", "--model", adapter.toString(), "--prompt", "Where is town 3?", "--max-tokens", "3", "--temperature", "0");
        assertEquals(0, chat.code(), chat.err());
        Run merge = run("finetune", "merge", "--adapter", adapter.toString(), "--out", dir.resolve("m").toString());
        assertEquals(0, merge.code(), merge.err());
        assertTrue(Files.exists(dir.resolve("m/model.safetensors")) && Files.exists(dir.resolve("m/tokenizer_config.json")));
        assertEquals(2, run("finetune", "merge", "--adapter", base.toString(), "--out", dir.resolve("n").toString()).code());
    }
}
