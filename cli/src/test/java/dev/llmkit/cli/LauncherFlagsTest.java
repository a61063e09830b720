package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM flags ./llmkit gives generate, chat and eval (read from the launcher itself): a JVM started with
 * them runs generate with nothing but the text on standard output, and compiles as they intend: C2 only
 * the Vector API kernel classes, C1 the rest of the project's methods; a cold run never calls (so never
 * compiles) Kernels' elementwise steps; the kernels compiled ahead run as compiled.
 */
class LauncherFlagsTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern KERNELS = Pattern.compile("dev\\.llmkit\\.(eval\\.engine\\.(Quant|Auto)?Kernels|core\\.kernels\\.Sgemm)::");
    /** A -Xlog:deoptimization=debug line: the method (class.method) and the trap's reason. */
    private static final Pattern TRAP = Pattern.compile("\\[deoptimization\\].* level=4 (\\S+)\\(\\S* trap_bci=\\d+ (\\w+)");
    /** A PrintCompilation line: its tier and method. */
    private static final Pattern COMPILED = Pattern.compile("^\\s*\\d+\\s+\\d+\\s+[%sbn! ]*([0-4])\\s+(\\S+)");

    /** The -X flags of the launcher's generate|chat|eval case, with $ROOT resolved. */
    static List<String> inferenceFlags(String launcher) {
        int from = launcher.indexOf("generate|chat|eval)");
        String block = launcher.substring(from, launcher.indexOf("CDS=", from));
        List<String> flags = new ArrayList<>();
        Matcher m = Pattern.compile("\"(-X[^\"]*)\"|(?<=[\\s(])(-X[^\\s)\"]+)").matcher(block);
        while (m.find()) flags.add((m.group(1) != null ? m.group(1) : m.group(2)).replace("$ROOT", ROOT.toString()));
        return flags;
    }

    @Test
    void generateRunsWithTheLaunchersFlagsAndC2CompilesOnlyTheKernels(@TempDir Path dir) throws Exception {
        String launcher = Files.readString(ROOT.resolve("llmkit"));
        List<String> flags = inferenceFlags(launcher);
        for (String f : flags) if (f.contains("*")) assertTrue(launcher.contains("\"" + f.replace(ROOT.toString(), "$ROOT") + "\""), "quoted, not globbed by the shell: " + f);
        assertTrue(flags.contains("-XX:CompilerDirectivesFile=" + ROOT.resolve("scripts/inference-jit.json")), flags.toString());
        assertTrue(flags.contains("-XX:-DisplayVMOutput"), flags.toString());
        ModelConfig c = new ModelConfig(64, 128, 2, 2, 2, 512, 128, 1e-5f, 10000f, true);
        Path gguf = dir.resolve("m.gguf");
        GgufModel.export(Weights.init(c, 0.02f, 1), DecodeBench.byteTokenizer(c.vocabSize()), gguf, Gguf.F32, "m");

        String[] plain = generate(dir, flags, List.of(), gguf);
        assertTrue(plain[0].startsWith("hello there"), "standard output is the text alone: " + plain[0]);
        assertFalse(plain[0].contains("directives") || plain[1].contains("directives"), plain[0] + plain[1]);
        assertTrue(plain[1].contains("prompt: ") && plain[1].contains("generated: 48 tokens"), plain[1]);

        // the same with the JVM's console on and every compilation printed (each one finished before the code
        // goes on: -Xbatch), Vector API kernels from the start
        String[] traced = generate(dir, flags, List.of("-XX:+DisplayVMOutput", "-XX:+PrintCompilation", "-Xbatch", "-Dllmkit.coldStartSeconds=0"), gguf);
        int c1 = 0, kernelsC2 = 0;
        for (String line : traced[0].split("\n")) {
            Matcher m = COMPILED.matcher(line);
            if (!m.find() || !m.group(2).startsWith("dev.llmkit.")) continue;
            if (m.group(1).equals("4")) {
                assertTrue(KERNELS.matcher(m.group(2)).lookingAt(), "C2 compiled " + line);
                kernelsC2++;
            }
            if (m.group(1).equals("1") || m.group(1).equals("3")) c1++;
        }
        assertTrue(c1 > 20, "C1 compiled the project's methods: " + c1);
        assertTrue(kernelsC2 > 0, "C2 compiled the Vector API kernels");

        // cold throughout: the elementwise steps run on ColdKernels (through Elementwise) and never call into
        // Kernels, so nothing of Kernels' versions gets compiled (C2's compiling them had cost the first second)
        String[] cold = generate(dir, flags, List.of("-XX:+DisplayVMOutput", "-XX:+PrintCompilation", "-Xbatch", "-Dllmkit.coldStartSeconds=1000",
                "-Dllmkit.compileAhead=false"), gguf);
        int coldKernels = 0;
        for (String line : cold[0].split("\n")) {
            Matcher m = COMPILED.matcher(line);
            if (!m.find()) continue;
            assertFalse(m.group(2).matches("dev\\.llmkit\\.eval\\.engine\\.Kernels::(rmsnorm|softmax|swiglu|add|max|logSumExp)"), "cold, yet compiled " + line);
            if (m.group(2).startsWith("dev.llmkit.eval.engine.ColdKernels::")) coldKernels++;
        }
        assertTrue(coldKernels > 0, "the cold kernels ran and were compiled");
    }

    /**
     * The launcher's flags let the engine compile its kernels ahead (CompileAhead, through the WhiteBox API), F32
     * and Q8_0: C2 compiles them without a profile, and the code it makes must not fall back on the Vector
     * API's Java code (a call on a vector whose class C2 cannot prove), nor call the small quantized helpers
     * out of line, nor trap on a class that was not loaded when it was compiled.
     */
    @Test
    void kernelsCompiledAheadRunAsCompiled(@TempDir Path dir) throws Exception {
        List<String> flags = inferenceFlags(Files.readString(ROOT.resolve("llmkit")));
        assertTrue(flags.contains("-XX:+WhiteBoxAPI"), flags.toString());
        Path whitebox = ROOT.resolve("cli/target/llmkit-whitebox.jar");
        assertTrue(flags.contains("-Xbootclasspath/a:" + whitebox) && Files.isRegularFile(whitebox), flags.toString());
        // rows of whole 256-value blocks, so that q4_k_m gives Q4_K and Q6_K matrices
        ModelConfig c = new ModelConfig(256, 512, 2, 4, 4, 512, 128, 1e-5f, 10000f, true);
        Path f32 = dir.resolve("m.gguf");
        GgufModel.export(Weights.init(c, 0.02f, 1), DecodeBench.byteTokenizer(c.vocabSize()), f32, Gguf.F32, "m");
        for (String type : List.of("F32", "Q8_0", "Q4_K_M")) {
            Path gguf = dir.resolve("m-" + type + ".gguf");
            if (type.equals("F32")) gguf = f32;
            else assertEquals(0, Main.run("quantize", "-m", f32.toString(), "--type", type.toLowerCase(java.util.Locale.ROOT), "-o", gguf.toString(),
                    "--eval-tokens", "0", "--bench-tokens", "0"));
            // the inlining of the kernel classes' compiles alone: C2's, each printed whole (C1 prints its own as it goes, which
            // would cut into C2's lines)
            // (the JVM's console into a file, away from the text and stats that the run prints; its traps in a file of their own)
            Path traps = dir.resolve("traps-" + type + ".log"), vm = dir.resolve("vm-" + type + ".log");
            String[] r = generate(dir, flags, List.of("-XX:+LogVMOutput", "-XX:LogFile=" + vm, "-Dllmkit.compileAheadTrace=true",
                    "-Dllmkit.compileAhead=all", "-Dllmkit.compileAheadWait=120", "-XX:CompileCommand=PrintInlining,dev/llmkit/eval/engine/Kernels.*",
                    "-XX:CompileCommand=PrintInlining,dev/llmkit/eval/engine/QuantKernels.*", "-XX:CompileCommand=PrintInlining,dev/llmkit/core/kernels/Sgemm.*",
                    "-Xlog:deoptimization=debug:file=" + traps), gguf);
            String decode = type.equals("Q4_K_M") ? "decode [Q4_K, Q6_K]" : "decode [" + type + "]";
            for (String kind : List.of("cold_batch", decode, "elementwise", "batch")) assertTrue(r[1].contains("compile-ahead: " + kind + ": "), kind + "\n" + r[1]);
            assertFalse(r[1].matches("(?s).*compile-ahead: [^\n]* failed.*"), r[1]);
            assertTrue(r[1].contains("generated: 48 tokens"), r[1]);
            for (String line : (Files.readString(vm) + "\n" + Files.readString(traps)).split("\n")) {
                // (C2 may first meet such a call, then find the vector's class and inline it late: "callee changed to")
                assertFalse(line.contains("jdk.incubator.vector.") && line.contains("failed to inline: virtual call") && !line.contains("callee changed to"),
                        type + ": a Vector API call left to its Java fallback: " + line);
                assertFalse(line.matches(".*QuantKernels::(widen|ints|floats|shorts|f16|six) .*failed to inline.*"), type + ": " + line);
                // a class the code needs that was not loaded when C2 compiled it (the touch missed it): a trap, and the code is thrown away
                Matcher m = TRAP.matcher(line);
                assertFalse(m.find() && m.group(1).matches("dev\\.llmkit\\.(eval\\.engine\\.(Quant|Auto)?Kernels|core\\.kernels\\.Sgemm)\\..*")
                        && (m.group(2).equals("unloaded") || m.group(2).equals("uninitialized")), type + ": " + line);
            }
        }
    }

    /** generate ends by halting the JVM (Main.HALT_AT_END): its exit code and its error lines still come out. */
    @Test
    void generateHaltsWithItsExitCodeAndMessage(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1, 2, 3});
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "generate", "-m", bad.toString(), "-p", "hello", "-n", "4");
        Path err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out.txt").toFile()).redirectError(err.toFile()).start();
        assertTrue(ChildProcesses.await(p, 120), "generate finished");
        String e = Files.readString(err, StandardCharsets.ISO_8859_1);
        assertEquals(ExitCodes.BAD_DATA, p.exitValue(), e);
        assertTrue(e.contains("llmkit: error: ") && e.contains(bad.toString()) && e.contains("\nhint: "), e);
    }

    private static String[] generate(Path dir, List<String> flags, List<String> more, Path gguf) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
                "-XX:+UseParallelGC"));
        cmd.addAll(flags);
        cmd.addAll(more);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "generate", "-m", gguf.toString(), "-p", "hello there",
                "-n", "48", "--temperature", "0", "--ignore-eot", "--threads", "2"));
        Path out = dir.resolve("out.txt"), err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(ChildProcesses.await(p, 120), "generate finished");
        String[] r = {Files.readString(out, StandardCharsets.ISO_8859_1), Files.readString(err, StandardCharsets.ISO_8859_1)};
        assertEquals(0, p.exitValue(), r[1]);
        return r;
    }
}
