package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI end to end, in-process: exit codes, one-line errors, the demo pipeline. */
class CliTest {
    @TempDir
    Path dir;

    private record Run(int code, String err) {}

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(err, true), args);
        return new Run(code, err.toString());
    }

    @Test
    void versionAndHelp() {
        assertEquals(0, run("--version").code());
        assertEquals(0, run("data", "prepare", "--help").code());
        assertEquals(2, run("--no-such-option").code());
        assertEquals(2, run("data", "prepare", "--out", "x").code()); // --input missing
    }

    @Test
    void onlyGenerateAndChatHaltAtTheEnd() {
        // main() asked this of `llmkit --version`, which names no command: a NullPointerException after the version
        assertFalse(Main.haltsAtEnd("--version"));
        assertFalse(Main.haltsAtEnd());
        assertFalse(Main.haltsAtEnd("eval", "--help"));
        assertTrue(Main.haltsAtEnd("generate", "-m", "x.gguf"));
        assertTrue(Main.haltsAtEnd("--debug", "chat"));
    }

    @Test
    void configErrorsExitTwoAndNameKeyAndFile() throws IOException {
        Path cfg = dir.resolve("bad.yaml");
        Files.writeString(cfg, "data:\n  prepare:\n    txt_field: body\n");
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"text\":\"hello\"}\n");
        Run r = run("data", "prepare", "--input", in.toString(), "--out", dir.resolve("o").toString(), "--config", cfg.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("data.prepare.txt_field") && r.err().contains("bad.yaml"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace without --debug: " + r.err());
        r = run("data", "prepare", "--input", in.toString(), "--out", dir.resolve("o").toString(), "--set", "data.prepare.zstd_level=99");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("zstd_level"), r.err());
    }

    @Test
    void badDataExitsThreeWithStrictAndZeroWithout() throws IOException {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"text\":\"hello\"}\n{oops\n{\"text\":\"world\"}\n");
        Run strict = run("data", "prepare", "--input", in.toString(), "--out", dir.resolve("s").toString(), "--strict");
        assertEquals(3, strict.code());
        assertTrue(strict.err().contains("in.jsonl:2: invalid_json"), strict.err());
        assertFalse(Files.exists(dir.resolve("s")));
        Run ok = run("data", "prepare", "--input", in.toString(), "--out", dir.resolve("o").toString());
        assertEquals(0, ok.code(), ok.err());
        assertEquals(1L, Json.MAPPER.readTree(dir.resolve("o/report.json").toFile()).at("/totals/skipped/invalid_json").asLong());
        Run again = run("data", "prepare", "--input", in.toString(), "--out", dir.resolve("o").toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("--force"), again.err());
        Run missing = run("data", "prepare", "--input", dir.resolve("nope").toString(), "--out", dir.resolve("m").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("nope"), missing.err());
    }

    @Test
    void debugShowsTheStackTrace() throws IOException {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{oops\n");
        Run r = run("--debug", "data", "prepare", "--input", in.toString(), "--out", dir.resolve("s").toString(), "--strict");
        assertEquals(3, r.code());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void demoRunsTheWholePipeline() throws IOException {
        Path out = dir.resolve("demo");
        Run r = run(demoArgs(out));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(out.resolve("pipeline.yaml"), StandardCharsets.UTF_8).contains("people: 60"));
        var report = Json.MAPPER.readTree(out.resolve("00-corpus/report.json").toFile());
        assertEquals(60 * 5, report.at("/totals/documents_out").asLong());
        assertTrue(Files.exists(out.resolve("raw/qa/heldout.jsonl")));
        assertTrue(Files.exists(out.resolve("01-tokenizer/report.json")));
        var manifest = Json.MAPPER.readTree(out.resolve("02-tokens/manifest.json").toFile());
        assertEquals(60 * 5, manifest.at("/train/documents").asLong() + manifest.at("/val/documents").asLong());
        assertTrue(Files.isRegularFile(out.resolve("03-pretrain/final/model.safetensors")));
        assertEquals(4, Files.readAllLines(out.resolve("03-pretrain/metrics.jsonl")).size());
        String text = stdout(0, "generate", "--model", out.resolve("03-pretrain/final").toString(), "--prompt", "He was born", "--max-tokens", "5");
        assertTrue(text.startsWith("He was born"), text);
        assertEquals(0, run(demoArgs(out)).code(), "a second run skips the finished stages");
        assertTrue(Files.isRegularFile(out.resolve("06-eval/report.html")));
    }

    /** The demo with a small, quick model. */
    static String[] demoArgs(Path out) {
        return new String[] {"demo", "--out", out.toString(), "--people", "60", "--set", "model.dim=64", "--set", "model.hidden_dim=96",
            "--set", "model.n_layers=2", "--set", "model.n_heads=2", "--set", "model.n_kv_heads=2", "--set", "pretrain.steps=4",
            "--set", "pretrain.batch_size=2", "--set", "pretrain.seq_len=64", "--set", "pretrain.eval_interval=2",
            "--set", "pretrain.eval_batches=1", "--set", "pretrain.sample_tokens=4", "--set", "tokenizer.vocab_size=512",
            "--set", "finetune.steps=2", "--set", "finetune.eval_interval=2", "--set", "finetune.em_samples=4", "--set", "finetune.batch_size=4"};
    }

    @Test
    void pretrainUsageErrors() {
        assertEquals(0, run("pretrain", "--help").code());
        assertEquals(0, run("pretrain", "bench", "--help").code());
        Run r = run("pretrain", "--out", dir.resolve("o").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--tokens"), r.err());
        r = run("pretrain", "--tokens", dir.resolve("nothing").toString(), "--out", dir.resolve("o").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("manifest.json"), r.err());
        r = run("pretrain", "--tokens", dir.toString(), "--out", dir.resolve("o").toString(), "--set", "pretrain.matmul=cuda");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("pretrain") && r.err().contains("matmul must be java or nd4j"), r.err());
        // picocli's own parse errors: one error line and a hint, not the usage text
        for (String[] line : new String[][] {{"pretrain", "--tokenz", "x"}, {"generate", "--model", "m", "--prompt", "p", "--max-tokens", "abc"}, {"pretrian"}}) {
            r = run(line);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().startsWith("llmkit: error: ") && r.err().contains("\nhint: ") && r.err().contains("--help") && !r.err().contains("Usage:"), r.err());
        }
        assertTrue(run("pretrian").err().contains("did you mean pretrain"));
    }

    /** Runs with standard output captured. */
    private static String stdout(int expectedCode, String... args) {
        java.io.PrintStream old = System.out;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            Run r = run(args);
            assertEquals(expectedCode, r.code(), r.err());
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void tokenizerTrainEncodeDecodeAndTokenize() throws IOException {
        Path corpus = dir.resolve("c.txt");
        Files.writeString(corpus, "the cat sat on the mat. the dog sat on the log.\n".repeat(200), StandardCharsets.UTF_8);
        Path out = dir.resolve("tok");
        stdout(0, "tokenizer", "train", "--corpus", corpus.toString(), "--vocab-size", "300", "--out", out.toString());
        String tok = out.resolve("tokenizer.json").toString();
        Path texts = dir.resolve("texts.json");
        Files.writeString(texts, "[\"the cat\", \"caf\u00e9 \ud83d\udc4d\", \"\"]", StandardCharsets.UTF_8);
        String ids = stdout(0, "tokenizer", "encode", "--tokenizer", tok, "--json", texts.toString()).trim();
        assertTrue(ids.startsWith("[[") && ids.endsWith("[]]"), ids);
        Path idsFile = dir.resolve("ids.json");
        Files.writeString(idsFile, ids);
        assertEquals("[\"the cat\",\"caf\u00e9 \ud83d\udc4d\",\"\"]", stdout(0, "tokenizer", "decode", "--tokenizer", tok, "--json", idsFile.toString()).trim());
        String plain = stdout(0, "tokenizer", "encode", "--tokenizer", tok, "the", "cat").trim();
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("tokenizer", "decode", "--tokenizer", tok));
        args.addAll(java.util.List.of(plain.split(" ")));
        assertEquals("the cat", stdout(0, args.toArray(new String[0])).trim());
        assertTrue(stdout(0, "tokenizer", "encode", "--tokenizer", tok, "-v", "the <|endoftext|>", "--special").contains("\"<|endoftext|>\""));

        assertEquals(2, run("tokenizer", "train", "--corpus", corpus.toString(), "--pattern", "bogus", "--out", dir.resolve("x").toString()).code());
        assertEquals(2, run("tokenizer", "train", "--corpus", dir.resolve("missing").toString(), "--out", dir.resolve("x").toString()).code());
        assertEquals(2, run("tokenizer", "train", "--corpus", corpus.toString(), "--out", out.toString()).code(), "exists without --force");
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"model\": {\"type\": \"Unigram\"}}");
        Run r = run("tokenizer", "encode", "--tokenizer", bad.toString(), "x");
        assertEquals(3, r.code());
        assertTrue(r.err().contains("bad.json: model.type"), r.err());
        assertEquals(2, run("tokenizer", "encode", "--tokenizer", dir.resolve("none.json").toString(), "x").code());     // missing input: a usage error
        Run tokDir = run("tokenizer", "encode", "--tokenizer", dir.toString(), "x");
        assertEquals(2, tokDir.code(), tokDir.err());
        assertTrue(tokDir.err().contains("is a directory, not a tokenizer.json") && tokDir.err().contains("hint:"), tokDir.err());
        assertEquals(3, run("tokenizer", "decode", "--tokenizer", tok, "999999").code());
        assertEquals(2, run("data", "tokenize", "--corpus", dir.toString(), "--tokenizer", tok, "--out", dir.resolve("t").toString()).code());

        // A model for this tokenizer: init, export, generate from both.
        Path model = dir.resolve("model");
        assertTrue(stdout(0, "model", "init", "--preset", "tiny", "--tokenizer", tok, "--out", model.toString(),
                "--set", "model.dim=32", "--set", "model.hidden_dim=48", "--set", "model.n_layers=1", "--set", "model.n_heads=2",
                "--set", "model.n_kv_heads=1").contains("parameters"));
        assertTrue(Files.exists(model.resolve("model.safetensors")) && Files.exists(model.resolve("config.json")));
        Path gguf = dir.resolve("model.gguf");
        stdout(0, "export", "--model", model.toString(), "--type", "f16", "--out", gguf.toString());
        String a = stdout(0, "generate", "--model", model.toString(), "--prompt", "the cat", "--max-tokens", "12", "--temperature", "0");
        String b = stdout(0, "generate", "--model", gguf.toString(), "--prompt", "the cat", "--max-tokens", "12", "--temperature", "0");
        assertTrue(a.startsWith("the cat") && a.length() > "the cat".length(), a);
        assertTrue(b.startsWith("the cat"), b);
        assertEquals(2, run("model", "init", "--preset", "huge", "--tokenizer", tok, "--out", dir.resolve("m2").toString()).code());
        assertEquals(2, run("model", "init", "--tokenizer", tok, "--out", dir.resolve("m3").toString(), "--set", "model.n_heads=5").code());
        assertEquals(2, run("generate", "--model", model.toString(), "--prompt", "x", "--top-p", "0").code());
        // an empty prompt: the tokens asked for (generate's status line goes to System.err)
        java.io.PrintStream oldErr = System.err;
        java.io.ByteArrayOutputStream status = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(status, true, StandardCharsets.UTF_8));
        try {
            stdout(0, "generate", "--model", model.toString(), "--prompt", "", "--max-tokens", "7", "--temperature", "0", "--ignore-eot");
        } finally {
            System.setErr(oldErr);
        }
        String line = status.toString(StandardCharsets.UTF_8);
        assertTrue(line.contains("generated: 7 tokens") && line.contains("stopped: max_tokens"), line);
        for (String t : java.util.List.of("0", "-3")) {
            Run threads = run("generate", "--model", model.toString(), "--prompt", "x", "--threads", t);
            assertEquals(2, threads.code(), threads.err());
            assertTrue(threads.err().contains("--threads must be in [1, 1024], got " + t) && threads.err().contains("hint:"), threads.err());
        }
        assertEquals(2, run("export", "--model", model.toString(), "--out", gguf.toString()).code(), "exists without --force");
        Path broken = dir.resolve("broken.gguf");
        Files.write(broken, java.util.Arrays.copyOf(Files.readAllBytes(gguf), 100));
        Run bad2 = run("generate", "--model", broken.toString(), "--prompt", "x");
        assertEquals(3, bad2.code());
        assertTrue(bad2.err().contains("broken.gguf"), bad2.err());
    }
}
