package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmarks' children: their output, a failure with its output's end, and a hung child killed with its own children. */
class ChildProcessesTest {
    @Test
    void outputFailureAndAHungChildKilledWithItsChildren(@TempDir Path dir) throws Exception {
        assertEquals("out\nerr\nX=1\n", ChildProcesses.run(List.of("bash", "-c", "echo out; echo err >&2; echo X=$X"), Map.of("X", "1"), Set.of()));

        IllegalStateException failed = assertThrows(IllegalStateException.class, () -> ChildProcesses.run(List.of("bash", "-c", "echo oops; exit 3")));
        assertTrue(failed.getMessage().contains("exited with 3") && failed.getMessage().contains("oops"), failed.getMessage());

        Path pid = dir.resolve("pid");
        long t0 = System.nanoTime();
        IllegalStateException hung = assertThrows(IllegalStateException.class, () -> ChildProcesses.output(
                new ProcessBuilder("bash", "-c", "sleep 600 & echo $! > " + pid + "; echo started; wait"), "the sleeper", 2));
        assertTrue((System.nanoTime() - t0) / 1e9 < 30, "killed after its 2 s, not waited for");
        assertTrue(hung.getMessage().contains("the sleeper ran past 2 s") && hung.getMessage().contains("started"), hung.getMessage());
        long sleeper = Long.parseLong(Files.readString(pid).strip());
        for (int i = 0; i < 50 && ProcessHandle.of(sleeper).map(ProcessHandle::isAlive).orElse(false); i++) Thread.sleep(100);
        assertFalse(ProcessHandle.of(sleeper).map(ProcessHandle::isAlive).orElse(false), "the child's own child was killed too");
    }
}
