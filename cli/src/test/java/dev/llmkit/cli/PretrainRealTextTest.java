package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A short pre-training run on tiny shakespeare (../shared/data) lowers the validation loss clearly; skipped without it. */
@Tag("slow")
class PretrainRealTextTest {
    @TempDir
    Path dir;

    private static void cli(String... args) {
        StringWriter err = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(err, true), args), err::toString);
    }

    @Test
    void validationLossFallsOnShakespeare() throws Exception {
        Path src = Path.of(System.getProperty("llmkit.shared.dir", "../../shared")).resolve("data/pretrain_tinyshakespeare/tinyshakespeare.jsonl");
        assumeTrue(Files.isRegularFile(src), "no ../shared/data/pretrain_tinyshakespeare here");
        cli("data", "prepare", "--input", src.toString(), "--out", dir.resolve("00-corpus").toString(), "--set", "data.prepare.val_fraction=0.1");
        cli("tokenizer", "train", "--corpus", dir.resolve("00-corpus").toString(), "--vocab-size", "1024", "--out", dir.resolve("01-tokenizer").toString());
        cli("data", "tokenize", "--corpus", dir.resolve("00-corpus").toString(), "--tokenizer", dir.resolve("01-tokenizer/tokenizer.json").toString(),
                "--out", dir.resolve("02-tokens").toString());
        List<String> args = new ArrayList<>(List.of("pretrain", "--tokens", dir.resolve("02-tokens").toString(), "--out", dir.resolve("03-pretrain").toString(),
                "--set", "model.dim=128", "--set", "model.hidden_dim=344", "--set", "model.n_layers=2", "--set", "model.n_heads=4",
                "--set", "model.n_kv_heads=4", "--set", "pretrain.steps=200", "--set", "pretrain.batch_size=8", "--set", "pretrain.seq_len=128",
                "--set", "pretrain.lr=3e-3", "--set", "pretrain.warmup_steps=20", "--set", "pretrain.eval_interval=20",
                "--set", "pretrain.eval_batches=4"));
        cli(args.toArray(String[]::new));
        List<Double> val = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("03-pretrain/metrics.jsonl"))) {
            JsonNode n = Json.MAPPER.readTree(line);
            if (n.hasNonNull("val_loss")) val.add(n.get("val_loss").asDouble());
        }
        assertEquals(10, val.size());
        // ln(1024) = 6.93 at the start; after 20 steps the model knows the unigram statistics (about 5.5)
        assertTrue(val.get(val.size() - 1) < val.get(0) - 0.8, "validation loss " + val);
        assertTrue(val.get(val.size() - 1) < 4.9, "validation loss " + val);
    }
}
