package dev.llmkit.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.LlmkitConfig;
import dev.llmkit.core.model.Checkpoint;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainerTest {
    @TempDir
    Path dir;

    private static LlmkitConfig cfg(String... sets) {
        List<String> all = new ArrayList<>(List.of("model.dim=32", "model.hidden_dim=48", "model.n_layers=2", "model.n_heads=4",
                "model.n_kv_heads=2", "model.context_length=64", "pretrain.batch_size=4", "pretrain.seq_len=32", "pretrain.steps=8",
                "pretrain.eval_interval=4", "pretrain.eval_batches=2", "pretrain.warmup_steps=2", "pretrain.lr=0.01",
                "pretrain.grad_accum=2", "pretrain.sample_tokens=8", "pretrain.threads=2"));
        all.addAll(List.of(sets));
        return ConfigLoader.load(null, all).config();
    }

    private static TrainingLoop.Result train(TinyTokens.Run run, LlmkitConfig c, Path out, boolean resume, Pretrainer.Listener l) {
        return Pretrainer.run(run.tokens(), run.tokenizer(), c.model(), c.pretrain(), out, resume, Progress.NONE, l);
    }

    private static final Pretrainer.Listener QUIET = new Pretrainer.Listener() {};

    /** metrics.jsonl without the wall-clock fields. */
    private static List<String> losses(Path out) throws IOException {
        List<String> r = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode n = Json.MAPPER.readTree(line);
            r.add(n.get("step") + " " + n.get("loss") + " " + n.get("grad_norm") + " " + n.get("lr") + " " + n.get("val_loss"));
        }
        return r;
    }

    @Test
    void resumeAfterACrashIsBitwiseTheUninterruptedRun() throws IOException {
        TinyTokens.Run run = TinyTokens.write(dir, 60);
        TrainingLoop.Result straight = train(run, cfg(), dir.resolve("a"), false, QUIET);
        assertEquals(8, straight.steps());
        Path b = dir.resolve("b");
        assertThrows(IllegalStateException.class, () -> train(run, cfg(), b, false, new Pretrainer.Listener() {
            @Override
            public void afterStep(long step) {
                if (step == 5) throw new IllegalStateException("simulated crash after step 5");
            }
        }));
        // a fresh start over an interrupted run is refused; --resume continues from step 4
        assertThrows(ConfigException.class, () -> train(run, cfg(), b, false, QUIET));
        TrainingLoop.Result resumed = train(run, cfg("pretrain.threads=1"), b, true, QUIET);
        assertTrue(resumed.resumed());
        for (String f : List.of("model.safetensors", "trainer-state/optimizer.safetensors")) {
            assertArrayEquals(Files.readAllBytes(straight.checkpoint().resolve(f)), Files.readAllBytes(resumed.checkpoint().resolve(f)), f);
        }
        assertEquals(losses(dir.resolve("a")), losses(b));
        assertEquals(dir.resolve("a/checkpoints/step-000008").toRealPath(), dir.resolve("a/final").toRealPath());
        assertTrue(Files.size(b.resolve("loss.png")) > 1000);
        // resuming with other arithmetic is refused, naming the key
        ConfigException e = assertThrows(ConfigException.class, () -> train(run, cfg("pretrain.lr=0.02", "pretrain.steps=9"), b, true, QUIET));
        assertTrue(e.getMessage().contains("pretrain.lr"), e.getMessage());
    }

    @Test
    void trainingLowersTheValidationLossAndWritesLoadableCheckpoints() throws IOException {
        TinyTokens.Run run = TinyTokens.write(dir, 60);
        TrainingLoop.Result r = train(run, cfg("pretrain.steps=40", "pretrain.eval_interval=20", "pretrain.keep_checkpoints=1"), dir.resolve("o"), false, QUIET);
        List<String> lines = Files.readAllLines(dir.resolve("o/metrics.jsonl"));
        assertEquals(40, lines.size());
        double first = Json.MAPPER.readTree(lines.get(0)).get("loss").asDouble();
        assertTrue(r.valLoss() < 0.6 * first, "validation loss " + r.valLoss() + " vs first training loss " + first);
        // one byte per token here, and <|endoftext|> counts no bytes: bits/byte a little above loss / ln 2
        double perToken = r.valLoss() / Math.log(2);
        assertTrue(r.valBitsPerByte() >= perToken && r.valBitsPerByte() < 1.1 * perToken, "bits per byte " + r.valBitsPerByte() + " vs " + perToken);
        // MFU is model FLOPs over the FMA peak this process measured, which every line records
        JsonNode last = Json.MAPPER.readTree(lines.get(lines.size() - 1));
        double peak = last.get("fma_peak_gflops").asDouble();
        assertTrue(peak > 1 && Math.abs(peak - r.fmaPeakGflops()) < 0.1, "peak " + peak + " vs " + r.fmaPeakGflops());
        long params = Checkpoint.read(r.checkpoint()).weights().config().parameters();
        assertEquals(6.0 * params * last.get("tokens_per_s").asDouble() / (r.fmaPeakGflops() * 1e9), last.get("mfu").asDouble(),
                0.01 * last.get("mfu").asDouble() + 1e-6);     // tokens_per_s and mfu are rounded in the file
        Checkpoint.Loaded loaded = Checkpoint.read(r.checkpoint());
        assertEquals(32, loaded.weights().config().dim());
        // provenance: the run's model and pretrain config with its sha256, as every stage records it
        var prov = Json.MAPPER.readTree(r.checkpoint().resolve("provenance.json").toFile());
        assertEquals(40, prov.get("config").get("pretrain").get("steps").asInt());
        assertEquals(dev.llmkit.core.config.ConfigLoader.sha256(prov.get("config")), prov.get("config_sha256").asText());
        // keep 1 plus the best: only step-000040 remains (it is also the best)
        try (var s = Files.list(dir.resolve("o/checkpoints"))) {
            assertEquals(List.of("step-000040"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertEquals(2, Files.readAllLines(dir.resolve("o/samples.jsonl")).size());
    }

    @Test
    void aNonFiniteLossStopsWithTheLastGoodCheckpointOrIsSkipped() throws IOException {
        TinyTokens.Run run = TinyTokens.write(dir, 30);
        Path out = dir.resolve("o");
        train(run, cfg("pretrain.steps=4"), out, false, QUIET);
        Path ckpt = out.resolve("checkpoints/step-000004");
        poison(ckpt.resolve("model.safetensors"));
        DataException e = assertThrows(DataException.class, () -> train(run, cfg(), out, true, QUIET));
        assertTrue(e.getMessage().contains("not finite") && e.getMessage().contains("step-000004"), e.getMessage());
        assertTrue(Files.isDirectory(ckpt));
        TrainingLoop.Result skipped = train(run, cfg("pretrain.on_non_finite=skip"), out, true, QUIET);
        assertEquals(4, skipped.skippedSteps());
    }

    @Test
    void oneTrainingProcessPerRunDirectory() throws IOException {
        TinyTokens.Run run = TinyTokens.write(dir, 30);
        Path out = dir.resolve("o");
        Files.createDirectories(out);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(out.resolve(".lock"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE); var held = ch.lock()) {
            ConfigException e = assertThrows(ConfigException.class, () -> train(run, cfg("pretrain.steps=2"), out, false, QUIET));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
        assertEquals(2, train(run, cfg("pretrain.steps=2"), out, false, QUIET).steps());
    }

    /** Sets the last float of a safetensors file (a norm weight) to NaN. */
    private static void poison(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(f.length() - 4);
            f.write(new byte[] {0, 0, (byte) 0xC0, 0x7F});
        }
    }
}
