package dev.llmkit.cli;

import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * llama.cpp's prebuilt tools in ../shared/tools/llama.cpp, the oracles and speed anchors of tests and
 * benchmarks, and whether they run on this machine: they are built for AVX-512, so on a CPU without it (a
 * Zen 1 EPYC, say) they start, print their system information and die with SIGILL at the first product.
 * There, {@code LLMKIT_LLAMA_CPP_DIR} names a folder of tools built from llama.cpp's source for this CPU
 * (README, "Tests"), used instead. A user's clone has no ../shared; either way, what needs them skips
 * with {@link #unavailable}'s reason.
 */
final class LlamaCppTools {
    private LlamaCppTools() {}

    private static final String ENV = System.getenv("LLMKIT_LLAMA_CPP_DIR");
    static final Path DIR = dir(ENV);
    private static String probed;

    /** The folder {@code env} ({@code LLMKIT_LLAMA_CPP_DIR}'s value) names, or ../shared's tools when it is unset or blank. */
    static Path dir(String env) {
        return names(env) ? Path.of(env) : Path.of(System.getProperty("llmkit.shared.dir", "../shared")).resolve("tools/llama.cpp");
    }

    /** Whether {@code env} names a folder of one's own (not unset, not blank). */
    private static boolean names(String env) {
        return env != null && !env.isBlank();
    }

    static Path tool(String name) {
        return DIR.resolve(name);
    }

    /**
     * Null when every one of {@code names} is there and the tools run on this CPU, else why not. The first call
     * runs llama-bench once on a one-layer model it writes (under a second) and keeps the answer for the process.
     */
    static synchronized String unavailable(String... names) {
        for (String name : names) if (!Files.isExecutable(tool(name))) return "no " + tool(name) + " here";
        if (probed == null) probed = probe();
        return probed.isEmpty() ? null : probed;
    }

    /** Skips the calling test, with {@link #unavailable}'s reason, unless the tools named run here. */
    static void assumeRunnable(String... names) {
        String why = unavailable(names);
        org.junit.jupiter.api.Assumptions.assumeTrue(why == null, why);
    }

    private static String probe() {
        Path bench = tool("llama-bench");
        if (!Files.isExecutable(bench)) return "";      // nothing to probe with: let the tool itself answer
        try {
            Path dir = Files.createTempDirectory("llmkit-llamacpp-probe"), gguf = dir.resolve("probe.gguf");
            try {
                ModelConfig c = new ModelConfig(64, 128, 1, 2, 2, 512, 64, 1e-5f, 10000f, true);
                GgufModel.export(Weights.init(c, 0.02f, 1), DecodeBench.byteTokenizer(c.vocabSize()), gguf, Gguf.F32, "probe");
                Process p = new ProcessBuilder(bench.toString(), "-m", gguf.toString(), "-t", "1", "-p", "8", "-n", "8", "-r", "1")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!ChildProcesses.await(p, 120)) return "llama-bench did not finish a one-layer model in 120 s";
                int rc = p.exitValue();
                if (rc == 0) return "";
                return rc == 128 + 4 ? "llama.cpp's tools in " + DIR + " die with SIGILL on this CPU (" + dev.llmkit.core.util.ProcessInfo.cpuModel()
                        + (names(ENV) ? "): they were built for another CPU (LLMKIT_LLAMA_CPP_DIR names them)"
                               : "): they are built for AVX-512, which it lacks (LLMKIT_LLAMA_CPP_DIR can name tools built for this CPU)")
                        : "llama-bench exits with " + rc + " on a one-layer model";
            } finally {
                Files.deleteIfExists(gguf);
                Files.deleteIfExists(dir);
            }
        } catch (Exception e) {
            return "llama-bench could not be probed: " + e;
        }
    }
}
