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
    private static volatile boolean warm;

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
        return !warm;
    }

    /** A forward pass that started at {@code start} (System.nanoTime) has ended: counts it against the budget. */
    static void ran(long start) {
        if (!warm && spent.addAndGet(System.nanoTime() - start) >= budget) warm = true;
    }

    /** Cold kernels again until {@code budgetNanos} more of forward passes (none when 0 or under the scalar switch). */
    static void restart(long budgetNanos) {
        spent.set(0);
        budget = budgetNanos;
        warm = budgetNanos <= 0 || Kernels.SCALAR;
    }

    /** Tests and benchmarks: cold kernels from now on (true), or Vector kernels from now on (false). */
    static void force(boolean cold) {
        restart(cold ? Long.MAX_VALUE : 0);
    }
}
