package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One error format everywhere: a missing input is exit 2 in every command, and every error has its hint line. */
class InputErrorsTest {
    @TempDir
    Path dir;

    private static void usage(CliRun r, String names) {
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        assertTrue(r.err().startsWith("llmkit: error: ") && r.err().contains(names), r.err());
        assertTrue(r.err().contains("\nhint: "), "no hint line: " + r.err());
    }

    @Test
    void aMissingTokenizerOrModelIsExit2WithAHintInEveryCommand() throws IOException {
        String nope = dir.resolve("nope.json").toString();
        Path text = Files.writeString(dir.resolve("t.txt"), "some text\n");
        usage(CliRun.run("tokenizer", "encode", "--tokenizer", nope, "hi"), "nope.json");
        usage(CliRun.run("model", "init", "--preset", "tiny", "--tokenizer", nope, "--out", dir.resolve("m").toString()), "nope.json");
        usage(CliRun.run("data", "tokenize", "--tokenizer", nope, "--corpus", dir.toString(), "--out", dir.resolve("tok").toString()), "nope.json");
        usage(CliRun.run("generate", "--model", dir.resolve("none.gguf").toString(), "--prompt", "hi"), "none.gguf");
        Path noConfig = Files.createDirectories(dir.resolve("ck"));
        usage(CliRun.run("generate", "--model", noConfig.toString(), "--prompt", "hi"), "config.json");
        usage(CliRun.run("eval", "--model", dir.resolve("none.gguf").toString(), "--tasks", "wikitext2:" + text, "--out", dir.resolve("ev").toString()), "none.gguf");
    }

    @Test
    void aShardThatIsMissingOrADirectoryIsNamed() throws IOException {
        Path shard = Files.createDirectories(dir.resolve("train-00000.tok"));
        CliRun r = CliRun.run("tokenizer", "decode", "--tokenizer", dir.resolve("nope.json").toString(), "1");
        assertTrue(r.code() != 0 && r.err().contains("\nhint: "), r.err());
        dev.llmkit.core.LlmkitException e = org.junit.jupiter.api.Assertions.assertThrows(dev.llmkit.core.LlmkitException.class,
                () -> dev.llmkit.core.io.TokenShard.map(shard));
        assertTrue(e.getMessage().contains("train-00000.tok") && e.getMessage().contains("is a directory"), e.getMessage());
        assertEquals(ExitCodes.USAGE, Main.exitCode(e));
        dev.llmkit.core.LlmkitException missing = org.junit.jupiter.api.Assertions.assertThrows(dev.llmkit.core.LlmkitException.class,
                () -> dev.llmkit.core.io.TokenShard.map(dir.resolve("val-00000.tok")));
        assertEquals(ExitCodes.USAGE, Main.exitCode(missing));
        assertTrue(missing.hint() != null && !missing.hint().isBlank());
    }

    @Test
    void anErrorWithoutItsOwnHintGetsOneByItsKind() {
        assertTrue(Main.defaultHint(ExitCodes.IO, null).contains("disk has space"));
        assertTrue(Main.defaultHint(ExitCodes.USAGE, null).contains("--help"));
        assertTrue(Main.defaultHint(ExitCodes.BAD_DATA, null).contains("damaged"));
    }
}
