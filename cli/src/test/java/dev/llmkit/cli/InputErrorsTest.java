package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
    void engineOptionsAreChecked() throws IOException {
        Path in = Files.writeString(dir.resolve("a.jsonl"), "{\"text\": \"hello\"}\n");
        String out = dir.resolve("c").toString();
        CliRun r = CliRun.run("data", "prepare", "--engine", "hadoop", "--input", in.toString(), "--out", out);
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        assertTrue(r.err().contains("--engine hadoop is not an engine"), r.err());
        r = CliRun.run("data", "prepare", "--master", "local[2]", "--input", in.toString(), "--out", out);
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        assertTrue(r.err().contains("--master is for --engine spark"), r.err());
        // the cli's own class path has no Spark module: the error says how to get it
        r = CliRun.run("data", "tokenize", "--engine", "spark", "--corpus", out, "--tokenizer", in.toString(), "--out", dir.resolve("t").toString());
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        assertTrue(r.err().contains("spark data engine is not on the class path") && r.err().contains("hint: run it through ./llmkit"), r.err());
        // Parquet is the Spark engine's
        Path pq = Files.write(dir.resolve("x.parquet"), new byte[] {'P', 'A', 'R', '1'});
        r = CliRun.run("data", "prepare", "--input", pq.toString(), "--out", out);
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        assertTrue(r.err().contains("pass --engine spark"), r.err());
        assertFalse(Files.exists(dir.resolve("c")));
    }

    @Test
    void anErrorWithoutItsOwnHintGetsOneByItsKind() {
        assertTrue(Main.defaultHint(ExitCodes.IO, null).contains("disk has space"));
        assertTrue(Main.defaultHint(ExitCodes.USAGE, null).contains("--help"));
        assertTrue(Main.defaultHint(ExitCodes.BAD_DATA, null).contains("damaged"));
    }

    /**
     * The hostile suite through the CLI itself: 150 mutations of a small model's GGUF file given to
     * {@code llmkit generate}. Each run ends in exit 0, or in exit 2 or 3 with one "llmkit: error:" line
     * naming the file and a hint line; never an internal error, a stack trace or an I/O exit.
     */
    @Test
    void mutatedGgufFilesThroughGenerate() throws IOException {
        dev.llmkit.core.model.ModelConfig c = new dev.llmkit.core.model.ModelConfig(32, 64, 1, 2, 2, 300, 32, 1e-5f, 10000f, true);
        int[][] merges = new int[300 - 257][];
        for (int k = 0; k < merges.length; k++) merges[k] = new int[] {'a' + k % 26, 'a' + k / 26};
        dev.llmkit.core.tokenizer.Tokenizer tok = dev.llmkit.core.tokenizer.TokenizerJson.build(merges, java.util.List.of(dev.llmkit.core.tokenizer.Tokenizer.EOT),
                dev.llmkit.core.tokenizer.SplitPattern.GPT2);
        Path good = dir.resolve("good.gguf");
        dev.llmkit.core.model.GgufModel.export(dev.llmkit.core.model.Weights.init(c, 0.05f, 3), tok, good, dev.llmkit.core.io.Gguf.F32, "t");
        byte[] bytes = Files.readAllBytes(good);
        long dataStart = dev.llmkit.core.io.Gguf.read(good).tensors().values().stream().mapToLong(dev.llmkit.core.io.Gguf.TensorInfo::offset).min().orElseThrow();
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        int[] codes = new int[5];
        Path f = dir.resolve("m.gguf");
        java.io.PrintStream out = System.out;
        System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        try {
            for (int i = 0; i < 150; i++) {
                byte[] b = bytes.clone();
                switch (r.nextInt(3)) {
                    case 0 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
                    case 1 -> { int p = r.nextInt((int) dataStart); b[p] = (byte) (b[p] ^ (1 << r.nextInt(8))); }
                    default -> { int p = r.nextInt((int) dataStart - 8); for (int k = 0; k < 8; k++) b[p + k] = (byte) (r.nextBoolean() ? 0xff : 0); }
                }
                Files.write(f, b);
                CliRun run = CliRun.run("generate", "-m", f.toString(), "-p", "ab", "-n", "2", "--temperature", "0", "--threads", "1");
                codes[Math.min(run.code(), 4)]++;
                if (run.code() == 0) continue;
                assertTrue(run.code() == ExitCodes.USAGE || run.code() == ExitCodes.BAD_DATA, "mutation " + i + ": exit " + run.code() + "\n" + run.err());
                String[] lines = run.err().strip().split("\n");
                assertEquals(2, lines.length, "mutation " + i + ": " + run.err());
                assertTrue(lines[0].startsWith("llmkit: error: ") && lines[0].contains("m.gguf") && lines[1].startsWith("hint: "), "mutation " + i + ": " + run.err());
            }
        } finally {
            System.setOut(out);
        }
        System.out.printf("hostile GGUF files through generate: 150 mutations, exits 0: %d, 2: %d, 3: %d%n", codes[0], codes[2], codes[3]);
        assertTrue(codes[3] > 50, java.util.Arrays.toString(codes));
    }
}
