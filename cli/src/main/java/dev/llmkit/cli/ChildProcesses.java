package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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
        return output(pb, String.join(" ", cmd), TIMEOUT_SECONDS);
    }

    /** How long a benchmark's child may run before it is taken for hung ({@code -Dllmkit.childTimeoutSeconds}). */
    static final long TIMEOUT_SECONDS = Long.getLong("llmkit.childTimeoutSeconds", 3600);

    /**
     * Runs {@code pb} with its standard output in a temporary file (standard error as {@code pb} redirects it,
     * else joined to the output) and returns that output. A child that fails is an exception naming {@code what}, with the end of its output; one that
     * runs past {@code timeoutSeconds} is killed with its own children first (reading a pipe to its end would
     * wait for a hung child forever), and so is one still running when this JVM exits (Ctrl-C).
     */
    static String output(ProcessBuilder pb, String what, long timeoutSeconds) throws IOException, InterruptedException {
        Path log = Files.createTempFile("llmkit-child", ".out");
        try {
            log.toFile().deleteOnExit();                  // also when Ctrl-C ends this JVM before the finally below
            if (!pb.redirectErrorStream() && pb.redirectError() == ProcessBuilder.Redirect.PIPE) pb.redirectErrorStream(true);   // a pipe nobody reads would fill
            Process p = pb.redirectOutput(log.toFile()).start();
            boolean done = await(p, timeoutSeconds);
            String out = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
            if (!done) throw new IllegalStateException(what + " ran past " + timeoutSeconds + " s and was killed: " + tail(out));
            if (p.exitValue() != 0) throw new IllegalStateException(what + " exited with " + p.exitValue() + ": " + tail(out));
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /**
     * Waits for {@code p} up to {@code timeoutSeconds}: true when it ended; false when it ran past them and
     * was killed with its own children. It is killed too if this JVM exits or this thread is interrupted first.
     */
    static boolean await(Process p, long timeoutSeconds) throws InterruptedException {
        Thread hook = new Thread(() -> kill(p));
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            if (p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) return true;
            kill(p);
            p.waitFor();
            return false;
        } catch (InterruptedException e) {
            kill(p);
            throw e;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException exiting) {
                // the JVM is exiting: the hook kills the child
            }
        }
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    /** The last 2,000 characters of a child's output, for an error message. */
    static String tail(String out) {
        String s = out.strip();
        return s.length() > 2000 ? "..." + s.substring(s.length() - 2000) : s;
    }

    /** The last line of a command's output, parsed as JSON. */
    static JsonNode lastJson(String out) throws IOException {
        String[] lines = out.trim().split("\n");
        return Json.MAPPER.readTree(lines[lines.length - 1]);
    }
}
