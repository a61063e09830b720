package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The benchmarks' child processes: this CLI again in a fresh JVM (for its own peak RSS), and anchors. */
final class ChildProcesses {
    private ChildProcesses() {}

    /** The command line that starts this CLI again in a child JVM with the same JVM flags. */
    static List<String> javaCommand() {
        return javaCommand(Main.class);
    }

    /** The command line that runs {@code main}'s main method in a child JVM with this one's flags and classpath. */
    static List<String> javaCommand(Class<?> main) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        return cmd;
    }

    /** Runs cmd; its output, or an error with that output. */
    static String run(List<String> cmd) throws IOException, InterruptedException {
        return run(cmd, Map.of());
    }

    /** Runs cmd with extra environment variables; its output, or an error with that output. */
    static String run(List<String> cmd, Map<String, String> env) throws IOException, InterruptedException {
        return run(cmd, env, java.util.Set.of());
    }

    /** Runs cmd with extra environment variables and without those named in {@code unset}. */
    static String run(List<String> cmd, Map<String, String> env, java.util.Set<String> unset) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().keySet().removeAll(unset);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException("command failed: " + String.join(" ", cmd) + "\n" + out);
        return out;
    }

    /** The last line of a command's output, parsed as JSON. */
    static JsonNode lastJson(String out) throws IOException {
        String[] lines = out.trim().split("\n");
        return Json.MAPPER.readTree(lines[lines.length - 1]);
    }
}
