package dev.llmkit.eval.engine;

import dev.llmkit.core.kernels.Sgemm;
import dev.llmkit.core.quant.GgmlType;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Has C2 compile the engine's Vector API kernels ahead of their first use, on a background thread,
 * where the JVM offers it: HotSpot's WhiteBox API ({@code -XX:+WhiteBoxAPI} with the class
 * {@code jdk.test.whitebox.WhiteBox} on the boot class path, both passed by ./llmkit to {@code generate},
 * {@code chat} and {@code eval}; {@code -Dllmkit.compileAhead=false} turns it off). Without it the JVM
 * compiles a method once it has been called often enough, so the kernels would run interpreted first (every
 * vector operation allocating) and C2 would spend its first second on the Vector API's own fallback code
 * that the interpreter calls; the engine therefore starts on scalar loops ({@link ColdStart}).
 *
 * <p>With it, an engine that starts cold asks for its decode kernels at once (the matvec of each of its
 * weight types, attention's two products, norms, softmax, SwiGLU, residual adds): each is run once on a
 * tiny input (its classes initialised and its call sites linked), then compiled at C2's level one after
 * another, callers before their callees, and decode leaves the cold kernels when the last one is
 * compiled ({@link ColdStart#compiledAhead}). The batched products' kernels (Sgemm, for prefill and
 * scoring) are compiled once the cold start's budget is spent, and the batches switch when they are.
 * The kernels are written so that C2 needs no profile to compile them well: no call on a vector whose
 * class it cannot prove (it would leave the Vector API's fallback there), the attention scores' dot
 * product inlined by request.
 */
final class CompileAhead {
    private CompileAhead() {}

    static final boolean TRACE = Boolean.getBoolean("llmkit.compileAheadTrace");
    private static final int C2 = 4;

    private static Object wb;
    private static Method enqueue, compiled, forceInline;
    private static volatile boolean available, tried;
    private static final LinkedBlockingQueue<Runnable> jobs = new LinkedBlockingQueue<>();
    private static volatile boolean batchRequested;
    private static final Set<GgmlType> decodeTypes = EnumSet.noneOf(GgmlType.class);
    private static final long T0 = System.nanoTime();

    /** Whether kernels are compiled ahead in this process (the WhiteBox API is there and not turned off). */
    static boolean available() {
        return tried ? available : probe();
    }

    private static synchronized boolean probe() {
        if (!tried) {
            if (Kernels.SCALAR || "false".equals(System.getProperty("llmkit.compileAhead"))) {
                tried = true;
                return false;
            }
            try {
                Class<?> c = Class.forName("jdk.test.whitebox.WhiteBox");
                Object o = c.getField("WB").get(null);
                Method e = c.getMethod("enqueueMethodForCompilation0", Executable.class, int.class, int.class);
                Method m = c.getMethod("isMethodCompiled0", Executable.class, boolean.class);
                Method f = c.getMethod("testSetForceInlineMethod0", Executable.class, boolean.class);
                m.invoke(o, CompileAhead.class.getDeclaredMethod("available"), false);    // UnsatisfiedLinkError without the API
                wb = o; enqueue = e; compiled = m; forceInline = f;
                available = true;
                Thread t = new Thread(CompileAhead::work, "llmkit-compile-ahead");
                t.setDaemon(true);
                t.start();
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                trace("not available: " + (e.getCause() != null ? e.getCause() : e));
            }
            tried = true;
        }
        return available;
    }

    /** Compiles the decode kernels for weights of {@code types} (F32 for F32, F16 and BF16 ones); false when unavailable. */
    static boolean decode(Set<GgmlType> types) {
        if (!available()) return false;
        synchronized (CompileAhead.class) {
            EnumSet<GgmlType> missing = EnumSet.copyOf(types);
            missing.removeAll(decodeTypes);
            if (missing.isEmpty()) return true;
            boolean shared = decodeTypes.isEmpty();
            ColdStart.compilingAhead();
            decodeTypes.addAll(types);
            jobs.add(() -> run("decode " + missing, () -> decodeMethods(missing, shared), () -> ColdStart.compiledAhead(false)));
        }
        return true;
    }

    /**
     * Waits up to {@code llmkit.compileAheadWait} seconds (default 0) for the decode kernels asked for: tests
     * and measurements of the compiled kernels from the first token.
     */
    static void awaitDecode() {
        long wait = (long) (Double.parseDouble(System.getProperty("llmkit.compileAheadWait", "0")) * 1e9), end = System.nanoTime() + wait;
        try {
            while (wait > 0 && !ColdStart.decodeCompiled() && System.nanoTime() < end) Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Compiles the batched products' kernels (once per process); false when unavailable. */
    static boolean batch() {
        if (batchRequested) return true;
        if (!available()) return false;
        synchronized (CompileAhead.class) {
            if (!batchRequested) {
                batchRequested = true;
                jobs.add(() -> run("batch", CompileAhead::batchMethods, () -> ColdStart.compiledAhead(true)));
            }
        }
        return true;
    }

    private static void work() {
        while (true) {
            try {
                jobs.take().run();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Touches and compiles {@code methods} in order; {@code done} once all are compiled, or the cold start gives up on failure. */
    private static void run(String what, Callable<List<Executable>> list, Runnable done) {
        long t0 = System.nanoTime();
        try {
            touch(what.startsWith("batch"));
            List<Executable> methods = list.call();
            long t1 = System.nanoTime();
            for (Executable m : methods) {
                if ((Boolean) compiled.invoke(wb, m, false)) continue;
                if (!(Boolean) enqueue.invoke(wb, m, C2, -1)) throw new IllegalStateException("C2 refused " + m);
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!(Boolean) compiled.invoke(wb, m, false)) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("not compiled after 10 s: " + m);
                    Thread.sleep(1);
                }
            }
            done.run();
            trace(String.format("%s: %d methods, touched in %.0f ms, compiled in %.0f ms, ready %.2f s after the engine's class loaded",
                    what, methods.size(), (t1 - t0) / 1e6, (System.nanoTime() - t1) / 1e6, (System.nanoTime() - T0) / 1e9));
        } catch (Exception | LinkageError e) {
            trace(what + " failed, the cold start's budget decides: " + e);
            ColdStart.compileAheadFailed();
        }
    }

    private static void trace(String s) {
        if (TRACE) System.err.println("compile-ahead: " + s);
    }

    /** The decode kernels for {@code types}; the shared ones (attention, elementwise) with the first request. */
    private static List<Executable> decodeMethods(Set<GgmlType> types, boolean shared) throws ReflectiveOperationException {
        List<Executable> ms = new ArrayList<>();
        Class<?> k = Kernels.class;
        if (types.contains(GgmlType.F32)) {
            ms.add(k.getDeclaredMethod("matvecPacked", float[].class, int.class, float[].class, int.class, float[].class, int.class, int.class, int.class));
            ms.add(k.getDeclaredMethod("matvec", float[].class, float[].class, int.class, float[].class, int.class, int.class, int.class, int.class));
            ms.add(Sgemm.class.getDeclaredMethod("packTransposed", float[].class, int.class, int.class, int.class, int.class, float[].class, int.class, int.class));
        }
        if (types.stream().anyMatch(t -> t != GgmlType.F32)) {
            Class<?> q = QuantKernels.class;
            ms.add(q.getDeclaredMethod("dotRows", GgmlType.class, byte[].class, int.class, int.class, int.class, float[].class, int.class, int.class,
                    float[].class, int.class, float[].class, int.class));
            ms.add(q.getDeclaredMethod("dot", GgmlType.class, byte[].class, int.class, float[].class, int.class, int.class));
            ms.add(q.getDeclaredMethod("decode", GgmlType.class, byte[].class, int.class, float[].class, int.class, int.class));
            for (GgmlType t : types) for (String n : quantHelpers(t)) addAll(ms, q, n);
            // their small helpers inlined as a profile would have them (without one C2 calls them: "low call site frequency")
            for (Method m : q.getDeclaredMethods())
                if (List.of("widen", "ints", "floats", "shorts", "f16").contains(m.getName())) forceInline.invoke(wb, m, true);
        }
        if (shared) {
            forceInline.invoke(wb, k.getDeclaredMethod("dot", float[].class, int.class, float[].class, int.class, int.class), true);
            for (String n : new String[] {"scores", "weightedSum", "softmax", "rmsnorm", "swiglu", "add", "logSumExp", "max"}) addAll(ms, k, n);
        }
        return ms;
    }

    /** The private kernels of QuantKernels that {@code t}'s matvec and row decoding call. */
    private static List<String> quantHelpers(GgmlType t) {
        return switch (t) {
            case Q8_0 -> List.of("dot4Q8_0", "dotQ8_0", "decodeQ8_0");
            case Q4_0 -> List.of("blockSums", "dotQ4_0", "decodeQ4");
            case Q4_1 -> List.of("dotQ4_1", "decodeQ4");
            case Q5_0, Q5_1 -> List.of("dotQ5", "decodeQ5");
            case Q4_K, Q5_K -> List.of("blockSums", "dotQ4K", "decodeQ4K", "scalesK");
            case Q6_K -> List.of("dotQ6K", "decodeQ6K");
            default -> List.of();
        };
    }

    /** The batched products' kernels: Sgemm's packed path (prefill, scoring, attention's block products; quantized rows decode with the decode kernels). */
    private static List<Executable> batchMethods() {
        List<Executable> ms = new ArrayList<>();
        for (String n : new String[] {"rowsPrepacked", "rows", "kernelPackedZeroFixed", "kernelPackedFixed", "packA", "packRows", "kernel", "three", "two",
                "clear", "packTransposed"}) addAll(ms, Sgemm.class, n);
        return ms;
    }

    private static void addAll(List<Executable> ms, Class<?> c, String name) {
        for (Method m : c.getDeclaredMethods()) if (m.getName().equals(name) && !ms.contains(m)) ms.add(m);
    }

    /** Runs the kernels once on tiny inputs: their classes initialised and call sites linked before C2 compiles them. */
    private static void touch(boolean batch) {
        int in = 32, rows = Sgemm.NR;
        float[] w = new float[rows * in], x = new float[in], out = new float[rows * in], bp = new float[Sgemm.packedSize(rows, in)];
        for (int i = 0; i < w.length; i++) w[i] = (i % 7) * 0.01f;
        java.util.Arrays.fill(x, 1f);
        Sgemm.packTransposed(w, 0, in, rows, in, bp, 0, 1);
        if (batch) {
            float[] ap = new float[Sgemm.packedRowsSize(Sgemm.MR, in)];
            Sgemm.packRows(x, 0, 0, 1, 1, in, 0, 0, ap);
            Sgemm.rowsPrepacked(1, rows, in, x, 0, in, 1, ap, bp, 0, Sgemm.NR, in * Sgemm.NR, out, 0, rows, false);
            return;
        }
        Kernels.matvecPacked(bp, in, x, 0, out, 0, 0, 1);
        Kernels.matvec(w, x, 0, out, 0, in, 0, rows);
        Kernels.scores(x, 0, w, 0, in, rows, out, 0, in);
        Kernels.weightedSum(out, 0, rows, w, 0, in, x, 0, in);
        Kernels.rmsnorm(out, 0, x, 0, x, rows, 1e-5f);
        Kernels.logSumExp(x, 0, in);
        Kernels.softmax(x, 0, in, 1f);
        Kernels.swiglu(w, 0, x, 0, x, 0, in);
        Kernels.add(w, x, in);
        for (GgmlType t : new ArrayList<>(decodeTypes)) {
            if (t == GgmlType.F32) continue;
            int cols = 256, rb = (int) t.bytes(cols);
            byte[] q = new byte[4 * rb];
            float[] xs = new float[cols], o = new float[cols];
            QuantKernels.dotRows(t, q, 0, rb, 4, xs, 0, cols, o, 0, QuantKernels.blockScales(t, q, 4, cols), 0);
            QuantKernels.decode(t, q, 0, o, 0, cols);
        }
    }
}
