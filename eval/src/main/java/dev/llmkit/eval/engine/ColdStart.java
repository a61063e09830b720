package dev.llmkit.eval.engine;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine's first second of work in a process runs on plain scalar loops instead of the Vector API
 * ({@link ColdKernels}): its F32 products and quantized batched products, and its norms, softmax, SwiGLU
 * and residual adds ({@link Elementwise}). A quantized matvec keeps its Vector kernels: the prompt's classifier
 * then runs as a batched product of one row.
 *
 * <p>Why: until C2 has compiled them, Vector API kernels run in the interpreter, where every vector
 * operation allocates, and compiling them (with the method handles behind them) takes C2 about a second
 * of CPU; on two cores a fresh {@code generate} spent most of its time there. Scalar loops compile in
 * milliseconds and run at a fair fraction of the warm speed, so a short command ends before the Vector
 * kernels would have paid for themselves. Once the engine has spent {@code llmkit.coldStartSeconds}
 * (default 1; 0: never cold) in its forward passes, it switches to the Vector kernels for the rest of
 * the process (ski rental: never much more than twice the better choice), so long runs reach warm speed.
 *
 * <p>Where the JVM lets the engine have its kernels compiled ahead ({@link CompileAhead}, under ./llmkit),
 * each {@link CompileAhead.Kind kind} of work leaves the cold kernels when its own kernels are compiled
 * instead, so that it does not run them interpreted: the decode products (matvecs, decode attention's two
 * products) as soon as C2 has compiled them, in the background from the engine's start, whatever the
 * budget; the elementwise steps once the budget is spent and theirs are compiled; the batched products
 * (prefill, scoring) once the budget is spent and the first batch after it has asked for theirs (a
 * {@code generate}, whose only batch is its prompt, never compiles them). Until then the batched weight
 * products run on {@link AutoKernels} once C2 has compiled those (kind COLD_BATCH, {@link #autoBatch}: asked
 * for by the first cold batch), on {@link ColdKernels} before; but a prompt's or a scoring's blocks run on the
 * decode products once theirs are compiled, with forward's bits token by token, and then use neither
 * ({@link #promptOnDecode}). The
 * F32 decode matvec moves from the rows as stored to packed panels the same way, once the budget is spent
 * and the packing's kernels are compiled (kind PACKED: {@link #unpackedDecode}).
 *
 * <p>The products of prefill and scoring give the same bits either way (the weight products, F32 or
 * quantized, and attention's two, and the packed decode matvec's whole panels of 32 rows): every output of
 * both is one chain of FMAs in index order from zero ({@code ColdStartTest}). A quantized
 * classifier's logits after the prompt (a batched product cold, a matvec warm), decode attention's
 * scores (the warm ones are vector-lane sums), the decode matvec's rows before packing and at the threads'
 * split points (dot products), norms, softmax and SwiGLU differ within rounding, as the Vector API's own
 * interpreted and compiled code already do (its lane sums run in order when interpreted and as a tree
 * when compiled).
 */
final class ColdStart {
    private ColdStart() {}

    private static final AtomicLong spent = new AtomicLong();
    private static volatile long budget;
    /** Every kind on the Vector kernels: the budget is spent (without {@link CompileAhead}), or by force. */
    private static volatile boolean warm;
    /** {@link #force}(true): cold whatever has been compiled. */
    private static volatile boolean pinned;
    /** The kinds whose kernels {@link CompileAhead} has compiled: bit {@code kind.ordinal()}. */
    private static volatile int ready;
    /** {@link CompileAhead} failed: the budget alone decides, as without it. */
    private static volatile boolean aheadFailed;

    static {
        restart((long) (seconds() * 1e9));
    }

    private static double seconds() {
        String s = System.getProperty("llmkit.coldStartSeconds", "1");
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** Whether the decode products (F32 matvecs, decode attention) run on the cold kernels now. */
    static boolean cold() {
        return cold(CompileAhead.Kind.DECODE);
    }

    /** Whether the elementwise steps (norms, softmax, SwiGLU, residual adds, a row's max) run on the cold loops now. */
    static boolean coldElementwise() {
        return cold(CompileAhead.Kind.ELEMENTWISE);
    }

    /**
     * Whether the F32 decode matvec runs on the rows as stored ({@link Kernels#matvec}) rather than on the panels
     * of {@link Kernels#matvecPacked}, which the matrix would first have to build (unless a batch built them):
     * the packed matvec decoded the small preset's tokens 30% faster on two threads (0.47 against 0.69 ms per
     * token), but building the panels (a second copy of every weight, and C2 compiling the packing and packed
     * kernels: 120 ms of CPU) cost a fresh {@code generate} more than 128 tokens gained. As with the cold
     * kernels: once the budget is spent, the packed kernels are asked for, and the matvec packs once they are
     * compiled (at once without {@link CompileAhead}).
     */
    static boolean unpackedDecode() {
        return cold(CompileAhead.Kind.PACKED);
    }

    /** Whether the batched products (prefill, scoring, attention over a block) run on the cold kernels now. */
    static boolean coldBatch() {
        return cold(CompileAhead.Kind.BATCH);
    }

    /**
     * Whether the cold batched weight products run on {@link AutoKernels} (C2's code, compiled ahead) rather
     * than on {@link ColdKernels}' C1 loops: the same bits, several times faster.
     */
    static boolean autoBatch() {
        if (compiledAhead(CompileAhead.Kind.COLD_BATCH)) return true;
        if (!aheadFailed) CompileAhead.request(CompileAhead.Kind.COLD_BATCH);     // (once; false where unavailable)
        return false;
    }

    /** The longest a prompt waits for the decode products' kernels compiled ahead, rather than run on the cold batched products. */
    static final long PROMPT_WAIT_NANOS = 500_000_000L;

    /**
     * Whether a prompt's or a scoring's next block runs through the decode products (with the bits of {@link LlamaEngine#forward}
     * token by token, each product over the block a chunk of weight rows at a time: {@link WeightMatrix#matvecs})
     * rather than through the batched ones: while the batched products are cold and the decode
     * products' kernels are compiled ahead, waiting up to {@link #PROMPT_WAIT_NANOS} for those if they are asked
     * for and not ready yet. Their kernels are the first that C2 compiles for a {@code generate}, {@code chat} or
     * {@code eval} (about 60-140 ms of its CPU), against about 190 ms for the cold batched products' ({@link AutoKernels}),
     * which it then never compiles: a fresh {@code generate} of the small preset ended 60-90 ms sooner (Q8_0 and
     * F32) when its prompt ran token by token on them, and sooner again in blocks (docs/performance.md), and a fresh
     * {@code eval} of 20 PIQA examples took 2.0 s instead of 2.8. Once the budget is spent the batches' kernels are
     * asked for, and the rest of a long prompt or scoring runs in batched products once they are compiled.
     */
    static boolean promptOnDecode() {
        if (!coldBatch() || pinned) return false;
        if (!cold(CompileAhead.Kind.DECODE)) return true;
        if (aheadFailed || !CompileAhead.decodeRequested()) return false;
        long deadline = System.nanoTime() + PROMPT_WAIT_NANOS;
        while (cold(CompileAhead.Kind.DECODE) && !aheadFailed && System.nanoTime() < deadline) java.util.concurrent.locks.LockSupport.parkNanos(200_000);
        return !cold(CompileAhead.Kind.DECODE);
    }

    private static boolean cold(CompileAhead.Kind kind) {
        if (warm) return false;
        if (pinned) return true;
        if (compiledAhead(kind)) return false;
        // the budget spent with kernels compiled ahead: this kind's are asked for (once) and it stays cold until they are compiled
        if (kind != CompileAhead.Kind.DECODE && spent.get() >= budget && (aheadFailed || !CompileAhead.request(kind))) warm = true;
        return !warm;
    }

    /** {@link CompileAhead} compiles kernels of {@code kind} (decode kernels of a weight type not compiled before): cold until they are. */
    static synchronized void compiling(CompileAhead.Kind kind) {
        ready &= ~(1 << kind.ordinal());
    }

    /** {@link CompileAhead} has compiled the kernels of {@code kind} asked for. */
    static synchronized void compiled(CompileAhead.Kind kind) {
        ready |= 1 << kind.ordinal();
    }

    /** Whether an engine starting now would start on the cold kernels, and so asks for its kernels to be compiled ahead. */
    static boolean startsCold() {
        return !warm && !pinned;
    }

    /** Whether the kernels of {@code kind} asked for are compiled. */
    static boolean compiledAhead(CompileAhead.Kind kind) {
        return (ready & 1 << kind.ordinal()) != 0;
    }

    /** Whether {@link CompileAhead} failed (what it had compiled stays in use). */
    static boolean aheadFailed() {
        return aheadFailed;
    }

    /** {@link CompileAhead} failed: the budget alone decides, as without it (switching at once if it is spent). */
    static void compileAheadFailed() {
        aheadFailed = true;
        if (spent.get() >= budget && !pinned) warm = true;
    }

    /** Tests: nothing compiled ahead. */
    static synchronized void resetAhead() {
        ready = 0;
        aheadFailed = false;
    }

    /**
     * A forward pass that started at {@code start} (System.nanoTime) has ended: counts it against the budget.
     * Once it is spent: the Vector kernels from now on, or with kernels compiled ahead, the elementwise steps' asked for.
     */
    static void ran(long start) {
        if (!warm && spent.addAndGet(System.nanoTime() - start) >= budget && !pinned) coldElementwise();
    }

    /**
     * Cold kernels again until {@code budgetNanos} more of forward passes (none when 0 or under the scalar switch);
     * the kinds whose kernels are compiled ahead stay on them.
     */
    static void restart(long budgetNanos) {
        spent.set(0);
        budget = budgetNanos;
        pinned = budgetNanos == Long.MAX_VALUE;
        warm = budgetNanos <= 0 || Kernels.SCALAR;
    }

    /** Tests and benchmarks: cold kernels from now on (true), or Vector kernels from now on (false). */
    static void force(boolean cold) {
        restart(cold ? Long.MAX_VALUE : 0);
    }
}
