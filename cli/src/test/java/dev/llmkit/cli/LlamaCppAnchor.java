package dev.llmkit.cli;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.LogFormat;
import java.nio.file.Path;

/**
 * The llama.cpp speed anchor of decode-bench and quant-bench, {tg tok/s, pp tok/s} on a GGUF file:
 * llama.cpp's own {@code llama-bench} where it runs, else llama.cpp through its Java binding (de.kherud:llama,
 * the test-scope oracle, whose natives are built for AVX2). The prebuilt tools need AVX-512 and a user's
 * clone has no ../shared, so without the binding an AVX2 machine would have no anchor at all. The binding is
 * the weaker anchor (an older llama.cpp, timed around its server's completion calls), so the
 * tables name which one ran, and the goals stay stated against llama-bench.
 */
record LlamaCppAnchor(String name, Kind kind) {
    enum Kind { LLAMA_BENCH, BINDING, NONE }

    /** llama-bench if it runs here, else the binding if its natives load, else none; says why on stdout. */
    static LlamaCppAnchor choose() {
        String why = LlamaCppTools.unavailable("llama-bench");
        if (why == null) return new LlamaCppAnchor("llama-bench", Kind.LLAMA_BENCH);
        try {
            LlamaModel.setLogger(LogFormat.TEXT, (level, msg) -> {});
        } catch (Throwable t) {     // no native library for this platform
            System.out.println(why + "; llama.cpp's Java binding cannot load here either (" + t + "): printing ours only");
            return new LlamaCppAnchor("llama.cpp", Kind.NONE);
        }
        System.out.println(why + ": the anchor is llama.cpp through its Java binding (de.kherud:llama " + bindingVersion()
                + "), in a child process per model and thread count, timed per call of its completion (a JNI call and its server's JSON each)");
        return new LlamaCppAnchor("llama.cpp binding", Kind.BINDING);
    }

    boolean present() {
        return kind != Kind.NONE;
    }

    /** Appended to a benchmark's goal line: the goals are against llama-bench. */
    String goalNote() {
        return kind == Kind.LLAMA_BENCH ? "" : " (against llama-bench, which did not run here)";
    }

    /** {tg tok/s, pp tok/s}, each the best of 5; NaN for both without an anchor. */
    double[] measure(Path gguf, int threads, int tokens) throws Exception {
        return switch (kind) {
            case LLAMA_BENCH -> QuantBench.llamaBench(gguf, threads, tokens);
            case BINDING -> binding(gguf, threads, tokens);
            case NONE -> new double[] {Double.NaN, Double.NaN};
        };
    }

    /** The de.kherud:llama version on the classpath, from the jar's Maven properties (its manifest has none). */
    static String bindingVersion() {
        try (var in = LlamaModel.class.getResourceAsStream("/META-INF/maven/de.kherud/llama/pom.properties")) {
            var props = new java.util.Properties();
            if (in != null) props.load(in);
            return props.getProperty("version", "of unknown version");
        } catch (java.io.IOException e) {
            return "of unknown version";
        }
    }

    /**
     * {decode tok/s, prefill tok/s} of llama.cpp through the binding, measured in a child JVM ({@link #main}), as
     * llama-bench runs in its own process: the binding's {@code close} leaves the model's server thread behind,
     * which crashed the JVM (SIGSEGV in libjllama's task handler) in quant-bench's third round, and models kept
     * open instead slowed the later ones' 2-thread decode (tiny: 494 tokens/s against 654-696 in fresh ones).
     */
    private static double[] binding(Path gguf, int threads, int tokens) throws Exception {
        java.util.List<String> cmd = ChildProcesses.javaCommand(LlamaCppAnchor.class);
        cmd.addAll(java.util.List.of(gguf.toString(), String.valueOf(threads), String.valueOf(tokens)));
        String out = output(new ProcessBuilder(cmd).redirectErrorStream(true), "llama.cpp's binding on " + gguf + " with " + threads + " threads");
        for (String line : out.lines().toList()) {
            if (line.startsWith(RESULT)) {
                String[] f = line.substring(RESULT.length()).trim().split(" ");
                return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1])};
            }
        }
        throw new IllegalStateException("llama.cpp's binding on " + gguf + " printed no result: " + ChildProcesses.tail(out));
    }

    /** The child's line with its figures: the rest of its output is the binding's and the JVM's. */
    private static final String RESULT = "llmkit-anchor-result";

    /** Runs {@code pb} ({@link ChildProcesses#output}), killed past 300 s. */
    static String output(ProcessBuilder pb, String what) throws Exception {
        return ChildProcesses.output(pb, what, 300);
    }

    /**
     * Child process: prints {@link #RESULT}, then decode and prefill tokens/s of llama.cpp through the binding on GGUF ARGS[0] with ARGS[1]
     * threads, best of 5, each one call without streaming: decode generates ARGS[2] tokens after a one-token prompt
     * (as llama-bench's tg, which counts every pass from an empty context; the prompt's one pass stands for the
     * first), prefill reads an ARGS[2]-token prompt and makes one token.
     */
    public static void main(String[] args) {
        runThenExit(() -> {
            int threads = Integer.parseInt(args[1]), tokens = Integer.parseInt(args[2]);
            LlamaModel.setLogger(LogFormat.TEXT, (level, msg) -> {});
            LlamaModel m = new LlamaModel(new ModelParameters().setModelFilePath(args[0]).setNThreads(threads).setNThreadsBatch(threads)
                    .setNCtx(2 * tokens + 8).setNBatch(tokens).setNUbatch(tokens).setNGpuLayers(0));
            String text = promptText(tokens);
            int read = m.encode(text).length;
            if (read != tokens) throw new IllegalStateException("llama.cpp reads the prompt as " + read + " tokens, not " + tokens);
            double decode = 0, prefill = 0;
            for (int rep = 0; rep < 5; rep++) {
                long t0 = System.nanoTime();
                m.complete(new InferenceParameters("A").setTemperature(0).setNPredict(tokens).setIgnoreEos(true).setCachePrompt(false));
                decode = Math.max(decode, tokens / ((System.nanoTime() - t0) / 1e9));
                long p0 = System.nanoTime();
                m.complete(new InferenceParameters(text).setTemperature(0).setNPredict(1).setCachePrompt(false));
                prefill = Math.max(prefill, tokens / ((System.nanoTime() - p0) / 1e9));
            }
            System.out.println(RESULT + " " + decode + " " + prefill);
        });
    }

    /**
     * Capital letters A..Z repeated: one token each for {@link DecodeBench#byteTokenizer}, whose merges all start
     * with a byte >= 'a'. (Here, not in DecodeBench, so that the child JVM loads no class of the engine's.)
     */
    static String promptText(int tokens) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < tokens; i++) b.append((char) ('A' + i % 26));
        return b.toString();
    }

    /** A benchmark's body, then exit: the binding's server threads would keep the JVM alive after main, even after a failure. */
    static void runThenExit(Body body) {
        int rc = 0;
        try {
            body.run();
        } catch (Throwable t) {
            t.printStackTrace();
            rc = 1;
        }
        System.exit(rc);
    }

    interface Body {
        void run() throws Exception;
    }
}
