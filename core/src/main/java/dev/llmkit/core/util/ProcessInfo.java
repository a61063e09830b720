package dev.llmkit.core.util;

import java.nio.file.Files;
import java.nio.file.Path;

/** Facts about this process for reports and benchmarks. */
public final class ProcessInfo {
    private ProcessInfo() {}

    /** The process's peak resident set in MiB (Linux VmHWM), or -1 where unknown. */
    public static long peakRssMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }
}
