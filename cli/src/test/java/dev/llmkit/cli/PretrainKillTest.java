package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.llmkit.core.Json;
import dev.llmkit.core.model.Checkpoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a real training process at several moments: every checkpoint left behind
 * loads, and {@code --resume} ends with the same weights as a run that was never interrupted.
 */
class PretrainKillTest {
    @TempDir
    Path dir;

    private static int cli(String... args) {
        return Main.run(new PrintWriter(new StringWriter(), true), args);
    }

    private List<String> pretrainArgs(Path tokens, Path out) {
        return List.of("pretrain", "--tokens", tokens.toString(), "--out", out.toString(), "--threads", "1",
                "--set", "model.dim=64", "--set", "model.hidden_dim=96", "--set", "model.n_layers=2", "--set", "model.n_heads=2",
                "--set", "model.n_kv_heads=2", "--set", "pretrain.steps=30", "--set", "pretrain.batch_size=2", "--set", "pretrain.seq_len=64",
                "--set", "pretrain.eval_interval=1", "--set", "pretrain.eval_batches=1", "--set", "pretrain.sample_tokens=0",
                "--set", "pretrain.keep_checkpoints=2");
    }

    @Test
    void killNineAtAnyMomentLeavesLoadableCheckpointsAndResumesBitwise() throws Exception {
        Path demo = dir.resolve("demo");
        String[] demoArgs = CliTest.demoArgs(demo);
        List<String> args = new ArrayList<>(List.of(demoArgs));
        args.addAll(List.of("--set", "pretrain.steps=1"));
        assertEquals(0, cli(args.toArray(String[]::new)));
        Path tokens = demo.resolve("02-tokens");

        Path straight = dir.resolve("straight");
        assertEquals(0, cli(pretrainArgs(tokens, straight).toArray(String[]::new)));

        Path killed = dir.resolve("killed");
        for (int round = 0; round < 3; round++) {
            Process p = child(pretrainArgs(tokens, killed), round > 0);
            long wait = 1500 + 700L * round;
            if (!p.waitFor(wait, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();     // SIGKILL
            }
            for (Path c : checkpoints(killed)) {
                Checkpoint.read(c);
                Json.MAPPER.readTree(c.resolve("trainer-state/state.json").toFile());
            }
        }
        List<String> resume = new ArrayList<>(pretrainArgs(tokens, killed));
        resume.add("--resume");
        assertEquals(0, cli(resume.toArray(String[]::new)));
        for (String f : List.of("model.safetensors", "trainer-state/optimizer.safetensors")) {
            assertArrayEquals(Files.readAllBytes(straight.resolve("final").resolve(f)), Files.readAllBytes(killed.resolve("final").resolve(f)), f);
        }
        assertEquals(Files.readAllLines(straight.resolve("metrics.jsonl")).size(), Files.readAllLines(killed.resolve("metrics.jsonl")).size());
    }

    private static List<Path> checkpoints(Path out) throws IOException {
        Path d = out.resolve("checkpoints");
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(p -> p.getFileName().toString().startsWith("step-")).toList();
        }
    }

    private static Process child(List<String> args, boolean resume) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        if (resume) cmd.add("--resume");
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }
}
