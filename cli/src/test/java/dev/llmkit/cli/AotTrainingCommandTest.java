package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start-up archive's workload, as the launcher runs it in two JVMs: {@code --make} makes the tiny model's
 * checkpoint, F32, Q8_0 and Q4_0 files, {@code --run} generates from each (a workload that failed would leave
 * every later process without the archive, with only a line in its log).
 */
class AotTrainingCommandTest {
    @AfterEach
    void clearWait() {
        System.clearProperty("llmkit.compileAheadWait");     // set by the workload's second run
    }

    @Test
    void makesTheModelsThenRunsThem(@TempDir Path dir) {
        Path work = dir.resolve("work");
        CliRun.ok("aot-training", "--make", work.toString());
        for (String f : new String[] {"model/config.json", "model.gguf", "model-q8_0.gguf", "model-q4_0.gguf"}) {
            assertTrue(Files.exists(work.resolve(f)), f);
        }
        CliRun.ok("aot-training", "--run", work.toString());
    }
}
