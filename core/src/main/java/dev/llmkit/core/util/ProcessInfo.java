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

    /** The CPU's vendor as /proc/cpuinfo gives it (GenuineIntel, AuthenticAMD), or "" where unknown. */
    public static String cpuVendor() {
        try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("vendor_id")).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("");
        } catch (Exception e) {
            return "";
        }
    }

    /**
     * The CPU as /proc/cpuinfo names it, with its family and model numbers (AMD family 25 is Zen 3/4,
     * 26 is Zen 5), or the JVM's os.arch where unknown.
     */
    public static String cpuModel() {
        String name = null, family = null, model = null;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.isBlank()) {
                    if (name != null) break;     // the end of the first processor's block
                    continue;
                }
                int colon = line.indexOf(':');
                if (colon < 0) continue;
                String key = line.substring(0, colon).trim(), value = line.substring(colon + 1).trim();
                if (key.equals("model name") && name == null) name = value;
                else if (key.equals("cpu family") && family == null) family = value;
                else if (key.equals("model") && model == null) model = value;
            }
        } catch (Exception e) {
            return System.getProperty("os.arch");
        }
        if (name == null) return System.getProperty("os.arch");
        return family == null ? name : name + ", family " + family + " model " + model;
    }
}
