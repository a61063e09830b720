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
                new ProcessBuilder("bash", "-c", "sleep 600 & echo $! > " + pid + "; echo started; wait"), "the sleeper", 8));
        assertTrue((System.nanoTime() - t0) / 1e9 < 60, "killed after its 8 s, not waited for");
        assertTrue(hung.getMessage().contains("the sleeper ran past 8 s") && hung.getMessage().contains("started"), hung.getMessage());
        assertTrue(Files.exists(pid), "the child started its own child within 8 s");
        long sleeper = Long.parseLong(Files.readString(pid).strip());
        for (int i = 0; i < 50 && running(sleeper); i++) Thread.sleep(100);
        assertFalse(running(sleeper), "the child's own child was killed too");
    }

    /** Alive and not a zombie (a killed orphan stays one where PID 1 does not reap, as in a container). */
    private static boolean running(long pid) throws Exception {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) return false;
        Path stat = Path.of("/proc", String.valueOf(pid), "stat");
        if (!Files.exists(stat)) return true;
        String s;
        try {
            s = Files.readString(stat);
        } catch (java.io.IOException gone) {
            return false;
        }
        return s.charAt(s.lastIndexOf(')') + 2) != 'Z';
    }
}
