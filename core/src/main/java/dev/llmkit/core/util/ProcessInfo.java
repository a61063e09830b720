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
        // (a plain loop: a fresh inference process reads this as it starts, where each lambda's first use costs a millisecond)
        try (java.io.BufferedReader r = Files.newBufferedReader(Path.of("/proc/cpuinfo"))) {
            for (String l = r.readLine(); l != null; l = r.readLine()) if (l.startsWith("vendor_id")) return l.substring(l.indexOf(':') + 1).trim();
        } catch (Exception e) {
            return "";
        }
        return "";
    }

    /**
     * When this process was launched, in epoch milliseconds: when ./llmkit started (it passes its start as the
     * property {@code llmkit.launched}, bash's EPOCHREALTIME), else when the JVM started.
     */
    public static long launchedMillis() {
        long l = launcherMillis();
        // (the management API costs a fresh process 30-45 ms, so only without the launcher's property)
        return l >= 0 ? l : java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
    }

    /** What {@link #launchedMillis} counts from: "launch" (./llmkit's start) or "the JVM started". */
    public static String launchedFrom() {
        return launcherMillis() >= 0 ? "launch" : "the JVM started";
    }

    /** The launcher's start from {@code llmkit.launched} (seconds since the epoch, '.' or ',' before the fraction), or -1. */
    static long launcherMillis() {
        String l = System.getProperty("llmkit.launched");
        if (l == null) return -1;
        try {
            double s = Double.parseDouble(l.replace(',', '.'));      // (bash writes the locale's decimal separator)
            return s > 0 && Double.isFinite(s) ? Math.round(s * 1000) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * The JVM's options and more: the process's command line after the program (Linux's /proc/self/cmdline: the
     * JVM's options, the main class or jar and the application's arguments) and the options in JAVA_TOOL_OPTIONS,
     * JDK_JAVA_OPTIONS and _JAVA_OPTIONS; where /proc cannot be read, or options come from files that the command
     * line names (@argfiles, -XX:VMOptionsFile, -XX:Flags), the management API's input arguments (which cost a
     * fresh process 30-45 ms).
     */
    public static java.util.List<String> commandLineAndJavaOptions() {
        try {
            String[] parts = new String(Files.readAllBytes(Path.of("/proc/self/cmdline")), java.nio.charset.StandardCharsets.UTF_8).split("\0");
            java.util.List<String> out = new java.util.ArrayList<>(java.util.Arrays.asList(parts).subList(Math.min(1, parts.length), parts.length));
            for (String env : new String[] {"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"}) {
                String v = System.getenv(env);
                if (v != null) for (String a : v.trim().split("\\s+")) if (!a.isEmpty()) out.add(a);
            }
            for (String a : out) {
                if (a.startsWith("@") || a.startsWith("-XX:VMOptionsFile") || a.startsWith("-XX:Flags")) {
                    return java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
                }
            }
            return out;
        } catch (Exception e) {
            return java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
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
