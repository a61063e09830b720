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
    void demoRunsSynthAndPrepare() throws IOException {
        Path out = dir.resolve("demo");
        Run r = run("demo", "--out", out.toString(), "--people", "60");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(out.resolve("pipeline.yaml"), StandardCharsets.UTF_8).contains("people: 60"));
        var report = Json.MAPPER.readTree(out.resolve("00-corpus/report.json").toFile());
        assertEquals(60 * 5, report.at("/totals/documents_out").asLong());
        assertTrue(Files.exists(out.resolve("raw/qa/heldout.jsonl")));
        assertEquals(0, run("demo", "--out", out.toString(), "--people", "60").code(), "a second run replaces the stages");
    }
}
