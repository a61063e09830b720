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
 * <p>The products of prefill and scoring give the same bits either way (the weight products, F32 or
 * quantized, and attention's two, and the decode matvec's whole panels of 32 rows): every output of
 * both is one chain of FMAs in index order from zero ({@code ColdStartTest}). A quantized
 * classifier's logits after the prompt (a batched product cold, a matvec warm), decode attention's
 * scores (the warm ones are vector-lane sums), the decode matvec's rows at the threads' split points
 * (dot products), norms, softmax and SwiGLU differ within rounding, as the Vector API's own
 * interpreted and compiled code already do (its lane sums run in order when interpreted and as a tree
 * when compiled).
 */
final class ColdStart {
    private ColdStart() {}

    private static final AtomicLong spent = new AtomicLong();
    private static volatile long budget;
    /** Every product on the Vector kernels: the budget is spent (without {@link CompileAhead}), or by force. */
    private static volatile boolean warm;
    /** Compiled ahead ({@link CompileAhead}): the decode kernels, the batched products' kernels. */
    private static volatile boolean decodeReady, batchReady;
    /** {@link #force}(true): cold whatever has been compiled. */
    private static volatile boolean pinned;

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

    /** Whether the products run on the cold (scalar) kernels now. */
    static boolean cold() {
        return !warm && (pinned || !decodeReady);
    }

    /** Whether the batched products (prefill, scoring, attention over a block) run on the cold kernels now. */
    static boolean coldBatch() {
        if (warm || batchReady && !pinned) return false;
        // the budget spent with kernels compiled ahead: the batched products' are asked for by the first batch after it
        // (a generate, whose only batch is its prompt, never compiles them), and the batches stay cold until they are compiled
        if (!pinned && !aheadFailed && spent.get() >= budget && !CompileAhead.batch()) warm = true;
        return !warm;
    }

    /** Whether {@link CompileAhead} has compiled the decode kernels asked for. */
    static boolean decodeCompiled() {
        return decodeReady;
    }

    /** {@link CompileAhead} compiles decode kernels (of a weight type not compiled before): decode stays cold until they are. */
    static void compilingAhead() {
        decodeReady = false;
    }

    /** {@link CompileAhead} has compiled the decode kernels (false) or the batched products' kernels (true). */
    static void compiledAhead(boolean batch) {
        if (batch) batchReady = true;
        else decodeReady = true;
    }

    /** {@link CompileAhead} failed: the budget alone decides, as without it (switching at once if it is spent). */
    static void compileAheadFailed() {
        aheadFailed = true;
        if (spent.get() >= budget) warm = true;
    }

    private static volatile boolean aheadFailed;

    /** A forward pass that started at {@code start} (System.nanoTime) has ended: counts it against the budget. */
    static void ran(long start) {
        // the budget spent: the Vector kernels from now on, unless they are compiled ahead (each kind switches once compiled)
        if (!warm && spent.addAndGet(System.nanoTime() - start) >= budget && !pinned && (aheadFailed || !CompileAhead.available())) warm = true;
    }

    /** Cold kernels again until {@code budgetNanos} more of forward passes (none when 0 or under the scalar switch). */
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
