package dev.llmkit.eval.engine;

import dev.llmkit.core.kernels.Sgemm;
import dev.llmkit.core.quant.GgmlType;
import dev.llmkit.core.util.ProcessInfo;
import dev.llmkit.core.util.Text;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import jdk.incubator.vector.FloatVector;

/**
 * Has C2 compile the engine's Vector API kernels ahead of their first use, on a background thread,
 * where the JVM offers it: HotSpot's WhiteBox API ({@code -XX:+WhiteBoxAPI} with the class
 * {@code jdk.test.whitebox.WhiteBox} on the boot class path, both passed by ./llmkit to {@code generate},
 * {@code chat} and {@code eval}; {@code -Dllmkit.compileAhead=false} turns it off, {@code =all} asks for every
 * kind at the engine's start). Without it the JVM
 * compiles a method once it has been called often enough, so the kernels would run interpreted first (every
 * vector operation allocating) while C2 spent its first second on the Vector API's own fallback code that
 * the interpreter calls; the engine therefore starts on scalar loops ({@link ColdStart}).
 *
 * <p>With it, the work is split in three {@link Kind kinds}, each leaving the cold kernels once its own
 * kernels are compiled: an engine that starts cold asks for its decode products at once; the elementwise
 * steps and the batched products are asked for once the cold start's budget is spent (the batches' by the
 * first batch after it). A fourth kind, COLD_BATCH ({@link AutoKernels}, which the cold batched products run on
 * once compiled), is asked for by the first cold batch that does not run on the decode products; those
 * are asked for sooner where a process is about to load a model ({@link LlamaEngine#prepare}), and a cold prompt
 * or scoring block waits for them ({@link ColdStart#promptOnDecode}). A fifth, PACKED, is the F32 decode matvec's packing
 * ({@link ColdStart#unpackedDecode}). A request runs each kernel once on a tiny input (its classes initialised and its
 * call sites linked), then has C2 compile the kernels one after another, callers before their callees.
 * C2 compiles them without a profile beyond that one run, so they are written not to need one: no call on a vector whose class
 * C2 cannot prove (it would leave the Vector API's Java fallback there), and the small helpers that a
 * profile would have inlined are marked to be inlined ({@code LauncherFlagsTest} checks the compiled code).
 */
final class CompileAhead {
    private CompileAhead() {}

    /**
     * The kinds of work that leave the cold kernels separately (see {@link ColdStart}); COLD_BATCH: the cold
     * batched weight products' {@link AutoKernels}, which replace {@link ColdKernels}' there once compiled; and
     * PACKED: the F32 decode matvec on packed panels, and the packing ({@link ColdStart#unpackedDecode()}).
     */
    enum Kind { DECODE, ELEMENTWISE, BATCH, COLD_BATCH, PACKED }

    static final boolean TRACE = Boolean.getBoolean("llmkit.compileAheadTrace");
    private static final int C2 = 4;

    private static Object wb;
    private static Method enqueue, level, forceInline;
    private static volatile boolean available, tried;
    /** What was asked for, in order: the kernels of {@code kind}, listed by {@code methods} once touched. */
    private record Job(Kind kind, String what, Callable<List<Executable>> methods) {}

    private static final LinkedBlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
    /** Bit kind.ordinal(): asked for (ELEMENTWISE, BATCH, COLD_BATCH, PACKED: once per process). */
    private static volatile int requested;
    private static final Set<GgmlType> decodeTypes = EnumSet.noneOf(GgmlType.class);
    /** Decode requests not compiled yet: decode is ready when none is left. */
    private static int decodePending;

    /** Whether kernels are compiled ahead in this process (the WhiteBox API is there and not turned off). */
    static boolean available() {
        return tried ? available : probe();
    }

    private static long T0;

    private static synchronized boolean probe() {
        if (!tried) {
            T0 = System.nanoTime();
            if (Kernels.SCALAR || "false".equals(System.getProperty("llmkit.compileAhead"))) {
                tried = true;
                return false;
            }
            try {
                Class<?> c = Class.forName("jdk.test.whitebox.WhiteBox");
                Object o = c.getField("WB").get(null);
                Method e = c.getMethod("enqueueMethodForCompilation0", Executable.class, int.class, int.class);
                Method m = c.getMethod("getMethodCompilationLevel0", Executable.class, boolean.class);
                Method f = c.getMethod("testSetForceInlineMethod0", Executable.class, boolean.class);
                m.invoke(o, CompileAhead.class.getDeclaredMethod("available"), false);    // UnsatisfiedLinkError without the API
                wb = o; enqueue = e; level = m; forceInline = f;
                Thread t = new Thread(CompileAhead::work, "llmkit-compile-ahead");
                t.setDaemon(true);
                t.start();
                available = true;
                if (TRACE) trace(Text.format("the WhiteBox API bound in %.0f ms", (System.nanoTime() - T0) / 1e6));
            } catch (Throwable e) {
                trace("not available: " + (e.getCause() != null ? e.getCause() : e));
            }
            tried = true;
        }
        return available;
    }

    /** Compiles the decode products' kernels for weights of {@code types} (F32 for F32, F16 and BF16 ones); false when unavailable. */
    static boolean decode(Set<GgmlType> types) {
        if (!available()) return false;
        synchronized (CompileAhead.class) {
            EnumSet<GgmlType> missing = EnumSet.copyOf(types);
            missing.removeAll(decodeTypes);
            if (missing.isEmpty()) return true;
            boolean first = decodeTypes.isEmpty();
            decodeTypes.addAll(types);
            decodePending++;
            ColdStart.compiling(Kind.DECODE);
            jobs.add(new Job(Kind.DECODE, "decode " + missing, () -> decodeMethods(missing, first)));
        }
        return true;
    }

    /** Whether the kernels of {@code kind} (not DECODE) have been asked for in this process. */
    static boolean requested(Kind kind) {
        return (requested & 1 << kind.ordinal()) != 0;
    }

    /** Whether decode kernels have been asked for in this process (they are ready when ColdStart says so). */
    static boolean decodeRequested() {
        synchronized (CompileAhead.class) {
            return !decodeTypes.isEmpty();
        }
    }

    /** Compiles the kernels of the elementwise steps, of the batched products or of the cold batched products (once per process); false when unavailable. */
    static boolean request(Kind kind) {
        if (kind == Kind.DECODE) throw new IllegalArgumentException("decode kernels are asked for by weight type");
        if (requested(kind)) return true;     // (checked on every product until they are compiled)
        if (!available()) return false;
        synchronized (CompileAhead.class) {
            if (!requested(kind)) {
                requested |= 1 << kind.ordinal();
                String what = kind.name().toLowerCase(java.util.Locale.ROOT);
                jobs.add(new Job(kind, what, switch (kind) {
                    case BATCH -> CompileAhead::batchMethods;
                    case COLD_BATCH -> CompileAhead::coldBatchMethods;
                    case PACKED -> CompileAhead::packedMethods;
                    default -> CompileAhead::elementwiseMethods;
                }));
            }
        }
        return true;
    }

    /**
     * An engine that starts cold: asks for its decode kernels, and for the other kinds too under
     * {@code -Dllmkit.compileAhead=all}; then waits up to {@code llmkit.compileAheadWait} seconds (default 0)
     * for all it asked for (tests, and measurements of the compiled kernels from the first token).
     */
    static void engineStarts(Set<GgmlType> types) {
        if (!available()) return;
        if (!decode(types)) return;
        boolean all = "all".equals(System.getProperty("llmkit.compileAhead"));
        if (all) for (Kind k : List.of(Kind.COLD_BATCH, Kind.ELEMENTWISE, Kind.BATCH, Kind.PACKED)) request(k);
        long wait, end;
        try {
            wait = (long) (Double.parseDouble(System.getProperty("llmkit.compileAheadWait", "0")) * 1e9);
        } catch (NumberFormatException e) {
            wait = 0;
        }
        end = System.nanoTime() + wait;
        try {
            while (wait > 0 && System.nanoTime() < end && !ColdStart.aheadFailed() && !(ColdStart.compiledAhead(Kind.DECODE)
                    && (!requested(Kind.COLD_BATCH) || ColdStart.compiledAhead(Kind.COLD_BATCH)) && (!all || ColdStart.compiledAhead(Kind.ELEMENTWISE) && ColdStart.compiledAhead(Kind.BATCH) && ColdStart.compiledAhead(Kind.PACKED)))) Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Takes the jobs in order: touches a job's kernels and has C2 compile the first of them, then touches the next
     * job's (if one is waiting) while C2 works, before it has C2 compile the rest of the first job's, one after another.
     */
    private static void work() {
        java.util.ArrayDeque<Started> started = new java.util.ArrayDeque<>();
        while (true) {
            Job next;
            try {
                next = started.isEmpty() ? jobs.take() : started.size() < 2 ? jobs.poll() : null;
            } catch (InterruptedException e) {
                return;
            }
            if (next != null) {
                Started s = start(next);
                if (s != null) started.add(s);
            } else {
                finish(started.poll());
            }
        }
    }

    /** A job whose kernels are touched and listed, the first of them asked of C2. */
    private record Started(Job job, List<Executable> methods, long t0, long touched) {}

    /** Touches the job's kernels and has C2 compile the first; null on failure (then the cold start's budget decides). */
    private static Started start(Job job) {
        long t0 = System.nanoTime();
        try {
            touch(job.kind());
            List<Executable> methods = job.methods().call();
            long t1 = System.nanoTime();
            if (!methods.isEmpty()) compile(methods.getFirst());
            return new Started(job, methods, t0, t1);
        } catch (Throwable e) {
            failed(job, e);
            return null;
        }
    }

    /** Has C2 compile the job's kernels in order, each once the one before is compiled; then they are ready, or on failure the cold start's budget decides. */
    private static void finish(Started s) {
        try {
            for (Executable m : s.methods()) {
                compile(m);
                long deadline = System.nanoTime() + 10_000_000_000L, again = System.nanoTime() + 100_000_000L;
                while (!c2(m)) {
                    long now = System.nanoTime();
                    if (now > deadline) throw new IllegalStateException("not compiled after 10 s: " + m);
                    // asked again every 0.1 s: a request finds the method queued already when the JIT's own compile of it (C1's
                    // profiled tier, or an OSR compile, from its touch) is, and is dropped; in CI a cold_batch kernel then
                    // never reached C2 (the touch runs it once: the JIT would not ask again)
                    if (now > again) {
                        compile(m);
                        again = now + 100_000_000L;
                    }
                    Thread.sleep(1);
                }
            }
            Kind kind = s.job().kind();
            synchronized (CompileAhead.class) {      // (a decode request in between makes decode pending again: not ready)
                if (kind != Kind.DECODE || --decodePending == 0) ColdStart.compiled(kind);
            }
            if (TRACE) trace(Text.format("%s: %d methods, touched in %.0f ms, compiled in %.0f ms, ready %.2f s after compiling ahead began",
                    s.job().what(), s.methods().size(), (s.touched() - s.t0()) / 1e6, (System.nanoTime() - s.touched()) / 1e6, (System.nanoTime() - T0) / 1e9));
        } catch (Throwable e) {
            failed(s.job(), e);
        }
    }

    /** Asks C2 to compile {@code m} unless it has C2's code or is being compiled (C1's code does not count: a kernel's is no faster than the interpreter). */
    private static void compile(Executable m) throws ReflectiveOperationException {
        if (!c2(m) && !(Boolean) enqueue.invoke(wb, m, C2, -1)) throw new IllegalStateException("C2 refused " + m);
    }

    private static void failed(Job job, Throwable e) {
        trace(job.what() + " failed, the cold start's budget decides: " + e);
        ColdStart.compileAheadFailed();
    }

    /** Whether {@code m} has C2's code. */
    private static boolean c2(Executable m) throws ReflectiveOperationException {
        return (Integer) level.invoke(wb, m, false) == C2;
    }

    private static void trace(String s) {
        if (TRACE) System.err.println(Text.format("compile-ahead: %s (%.2f s after %s)", s, (System.currentTimeMillis() - ProcessInfo.launchedMillis()) / 1e3,
                ProcessInfo.launchedFrom()));
    }

    /** The decode products' kernels for {@code types}; decode attention's with the first request. */
    private static List<Executable> decodeMethods(Set<GgmlType> types, boolean first) throws ReflectiveOperationException {
        List<Executable> ms = new ArrayList<>();
        Class<?> k = Kernels.class;
        if (types.contains(GgmlType.F32)) {
            ms.add(k.getDeclaredMethod("matvecs", float[].class, float[].class, int.class, int.class, int.class, float[].class, int.class, int.class,
                    int.class, int.class, int.class));
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
                if (List.of("widen", "ints", "floats", "shorts", "f16", "six").contains(m.getName())) forceInline.invoke(wb, m, true);
        }
        if (first) {
            forceInline.invoke(wb, k.getDeclaredMethod("dot", float[].class, int.class, float[].class, int.class, int.class), true);
            addAll(ms, k, "scores");
            addAll(ms, k, "weightedSum");
        }
        return ms;
    }

    /** The F32 decode matvec on packed panels, and the packing ({@link ColdStart#unpackedDecode()}). */
    private static List<Executable> packedMethods() throws ReflectiveOperationException {
        List<Executable> ms = new ArrayList<>();
        ms.add(Kernels.class.getDeclaredMethod("matvecPacked", float[].class, int.class, float[].class, int.class, float[].class, int.class, int.class, int.class));
        ms.add(Sgemm.class.getDeclaredMethod("packTransposed", float[].class, int.class, int.class, int.class, int.class, float[].class, int.class, int.class));
        addAll(ms, Sgemm.class, "transpose16");
        return ms;
    }

    /** The elementwise steps' kernels ({@link Elementwise}). */
    private static List<Executable> elementwiseMethods() {
        List<Executable> ms = new ArrayList<>();
        for (String n : new String[] {"softmax", "rmsnorm", "swiglu", "add", "logSumExp", "max"}) addAll(ms, Kernels.class, n);
        return ms;
    }

    /** The cold batched products' auto-vectorised loops ({@link AutoKernels}). */
    private static List<Executable> coldBatchMethods() throws ReflectiveOperationException {
        List<Executable> ms = new ArrayList<>();
        for (String n : new String[] {"matmul", "row"}) addAll(ms, AutoKernels.class, n);
        // the loop, not its wrapper that splits it over the threads
        ms.add(AutoKernels.class.getDeclaredMethod("transpose", float[].class, int.class, int.class, float[][].class, int.class, int.class));
        addAll(ms, AutoKernels.class, "decodeQ8_0");     // last: the products' loops first
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

    /**
     * The batched products' kernels: Sgemm's (prefill, scoring, attention's block products; quantized rows decode
     * with the decode kernels). Not the kernels of a partial panel, which take its masks as arguments: without a
     * profile C2 knows neither the masks' class nor, inlined, the loads' (they are left to the JVM's own counters).
     */
    private static List<Executable> batchMethods() {
        List<Executable> ms = new ArrayList<>();
        for (String n : new String[] {"rowsPrepacked", "rows", "kernelPackedZeroFixed", "kernelPackedFixed", "packA", "packRows", "packWhole", "packTiles", "transposeTile", "kernel",
                "kernelPacked", "kernelPackedZero", "kernelHalf", "four", "three", "two", "row", "clear", "packTransposed", "transpose16"}) addAll(ms, Sgemm.class, n);
        ms.removeIf(m -> List.of(((Method) m).getParameterTypes()).contains(jdk.incubator.vector.VectorMask.class));
        return ms;
    }

    private static void addAll(List<Executable> ms, Class<?> c, String name) {
        for (Method m : c.getDeclaredMethods()) if (m.getName().equals(name) && !ms.contains(m)) ms.add(m);
    }

    /** Runs the kernels of {@code kind} once on tiny inputs: their classes initialised and call sites linked before C2 compiles them. */
    private static void touch(Kind kind) {
        // (Sgemm only where its kernels run: its class initialised and its packing run interpreted had taken 30-40 ms of the
        // decode kernels' touch, which a fresh generate's prompt waits for)
        boolean sgemm = kind == Kind.BATCH || kind == Kind.PACKED;
        int in = 32, rows = sgemm ? Sgemm.NR : 32;
        float[] w = new float[rows * in], x = new float[in], out = new float[rows * in];
        for (int i = 0; i < w.length; i++) w[i] = (i % 7) * 0.01f;
        java.util.Arrays.fill(x, 1f);
        float[] bp = null;
        if (sgemm) {
            bp = new float[Sgemm.packedSize(rows, in)];
            Sgemm.packTransposed(w, 0, in, rows, in, bp, 0, 1);
            // the masks' classes loaded (the kernels' tails use them; C2 leaves a trap where a class is not loaded yet)
            jdk.incubator.vector.VectorSpecies<Float> s = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
            jdk.incubator.vector.FloatVector.fromArray(s, x, 0, s.indexInRange(0, 1)).intoArray(out, 0, s.maskAll(true));
        }
        switch (kind) {
            case PACKED -> Kernels.matvecPacked(bp, in, x, 0, out, 0, 0, 1);
            case DECODE -> {
                Kernels.matvec(w, x, 0, out, 0, in, 0, rows);
                Kernels.matvecs(w, x, 0, 0, 2, out, 0, 0, in, 0, rows);      // (a prompt's block: the loop over vectors run too)
                Kernels.scores(x, 0, w, 0, in, rows, out, 0, in);
                Kernels.weightedSum(out, 0, rows, w, 0, in, x, 0, in);
                List<GgmlType> types;
                synchronized (CompileAhead.class) {
                    types = new ArrayList<>(decodeTypes);
                }
                for (GgmlType t : types) {
                    if (t == GgmlType.F32) continue;
                    int cols = 256, rb = (int) t.bytes(cols);
                    byte[] q = new byte[4 * rb];
                    float[] xs = new float[cols], o = new float[cols];
                    QuantKernels.dotRows(t, q, 0, rb, 4, xs, 0, cols, o, 0, QuantKernels.blockScales(t, q, 4, cols), 0);
                    QuantKernels.decode(t, q, 0, o, 0, cols);
                }
            }
            case ELEMENTWISE -> {
                Kernels.rmsnorm(out, 0, x, 0, x, in, 1e-5f);
                Kernels.logSumExp(x, 0, in);
                Kernels.softmax(x, 0, in, 1f);
                Kernels.swiglu(w, 0, x, 0, x, 0, in);
                Kernels.add(w, 0, x, 0, in);
            }
            case COLD_BATCH -> {
                // a whole block of tokens: C2 unrolls (and so vectorises) a loop only as far as its profile's trip count
                int nt = LlamaEngine.BLOCK, cols = 9;
                float[][] xt = new float[cols][nt];
                float[] xs = new float[nt * cols], o = new float[nt * 3];
                AutoKernels.transpose(xs, cols, nt, xt, 0, cols);
                AutoKernels.matmul(w, 0, cols, xt, nt, new float[nt], new float[nt], o, 0, 3, 3);
                byte[] q8 = new byte[34 * 8];
                AutoKernels.decodeQ8_0(q8, 0, 32 * 8, out, 0);
            }
            case BATCH -> {
                // the 256-bit species' dummy vector made (8-row tiles pack A with it): without it C2 cannot tell the vector's
                // class and leaves the Vector API's fallback in the packing, whenever no other thread has made it first
                FloatVector.fromArray(FloatVector.SPECIES_256, x, 0).intoArray(out, 0);
                float[] ap = new float[Sgemm.packedRowsSize(Sgemm.MR, in)];
                Sgemm.packRows(x, 0, 0, 1, 1, in, 0, 0, ap);
                Sgemm.rowsPrepacked(1, rows, in, x, 0, in, 1, ap, bp, 0, Sgemm.NR, in * Sgemm.NR, out, 0, rows, false);
            }
        }
    }
}
