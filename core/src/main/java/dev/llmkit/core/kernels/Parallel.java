package dev.llmkit.core.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * A parallel-for over persistent worker threads for short kernels (a matvec takes
 * microseconds, too short for an executor hand-over). The calling thread takes the first part;
 * workers spin briefly for the next task, then park until it comes, and the caller spins briefly for
 * the workers' parts, then parks until the last of them ends. Spinning is brief because on two cores a
 * spinning thread takes the CPU that the other thread's part or the JIT compiler needs (in a fresh
 * process the parts run interpreted and unequal until C2 has compiled them). {@link #chunks} shares a task's
 * units out as the threads run instead, so that a thread slowed by something else on its core does not hold
 * the others up. Not reentrant; one caller at a time.
 */
public final class Parallel implements AutoCloseable {
    /** Work on rows [from, to). */
    public interface Body {
        void run(int from, int to);
    }

    /** Work on rows [from, to) as part {@code part} of {@link #threads()} (for per-thread scratch). */
    public interface PartBody {
        void run(int part, int from, int to);
    }

    private final int threads;
    private final Thread[] workers;
    private volatile long epoch;
    private volatile boolean closed;
    private volatile Body body;
    private volatile PartBody partBody;
    private volatile int n;
    /** The smallest chunk of a {@link #chunks} task, in units; 0: a task of one contiguous part per thread. */
    private volatile int grain;
    /** Per thread, for a {@link #chunks} task: the next unit of its own range (16 ints apart: a cache line each) and the range's end. */
    private final AtomicIntegerArray next;
    private final int[] ends;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Throwable failure;
    private volatile Thread waiter;     // the caller, when it parks until the workers' parts end

    /** Busy-wait rounds (about 20 ns each) before a waiting thread yields its core. */
    static final int SPINS = 2_000;
    /** Time a waiting thread keeps yielding (so it still answers in microseconds) before it parks. */
    static final long YIELD_NANOS = 2_000_000;

    public Parallel(int threads) {
        this.threads = Math.max(1, threads);
        workers = new Thread[this.threads - 1];
        next = new AtomicIntegerArray(16 * this.threads);
        ends = new int[this.threads];
        for (int i = 0; i < workers.length; i++) {
            int part = i + 1;
            workers[i] = new Thread(() -> loop(part), "llmkit-worker-" + part);
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * {@code -Dllmkit.parallel.static=true}: {@link #chunks} splits its units as {@link #parts} does, one contiguous part
     * per thread (to measure the difference).
     */
    static final boolean STATIC = Boolean.getBoolean("llmkit.parallel.static");

    /** Runs {@code body} over [0, n) split into one contiguous part per thread. */
    public void range(int n, Body body) {
        if (threads == 1 || n < 2) {
            body.run(0, n);
            return;
        }
        run(n, body, null);
    }

    /** Like {@link #range} but tells each part its index; part 0 runs on the calling thread. */
    public void parts(int n, PartBody body) {
        if (threads == 1 || n < 2) {
            body.run(0, 0, n);
            return;
        }
        run(n, null, body);
    }

    /**
     * Runs {@code body} over [0, n) in chunks that the threads share out as they run, and tells each chunk the index of
     * the thread that runs it (part 0 the caller, for per-thread scratch). Each thread starts on a range of its own, the
     * t-th of {@link #threads()} nearly equal ones in whole multiples of {@code grain}, taking a quarter of what is left
     * of it at a time (at least {@code grain} units; chunks start at multiples of it), so that it runs the rows it
     * ran in the last task, which its cache may still hold; a thread whose range is done then takes chunks from the
     * others' ranges. A thread that runs slower (its core shared with another process, the JIT compiler or the
     * collector) thus takes fewer units instead of holding the others up at the end. Use it where each unit's results
     * do not depend on the thread that runs it nor on the chunk it falls in, as row blocks of a matrix product do;
     * the results are then the same however the threads share the units.
     */
    public void chunks(int n, int grain, PartBody body) {
        if (threads == 1 || n <= grain) {
            body.run(0, 0, n);
            return;
        }
        run(n, STATIC ? 0 : Math.max(1, grain), null, body);
    }

    /** {@link #chunks(int, int, PartBody)} for a body that needs no thread index. */
    public void chunks(int n, int grain, Body body) {
        if (threads == 1 || n <= grain) {
            body.run(0, n);
            return;
        }
        run(n, STATIC ? 0 : Math.max(1, grain), body, null);
    }

    private void run(int n, Body body, PartBody partBody) {
        run(n, 0, body, partBody);
    }

    private void run(int n, int grain, Body body, PartBody partBody) {
        this.body = body;
        this.partBody = partBody;
        this.n = n;
        this.grain = grain;
        if (grain > 0) {
            int pieces = (n + grain - 1) / grain;
            for (int t = 0; t < threads; t++) {
                next.set(16 * t, (int) ((long) pieces * t / threads) * grain);
                ends[t] = Math.min(n, (int) ((long) pieces * (t + 1) / threads) * grain);
            }
        }
        pending.set(workers.length);
        epoch++;
        for (Thread w : workers) LockSupport.unpark(w);
        Throwable f;
        try {
            runPart(0);
        } finally {
            awaitWorkers();     // never return while a worker still runs this task
            f = failure;
            failure = null;     // also when part 0 threw: no stale failure for the next task
        }
        if (f != null) {
            if (f instanceof RuntimeException re) throw re;
            throw new IllegalStateException(f);
        }
    }

    private void awaitWorkers() {
        long since = 0;
        for (int spins = 0; pending.get() > 0; spins++) {
            if (since >= 0) since = pause(spins, since);
            if (since < 0) {
                waiter = Thread.currentThread();    // set before the re-check: the last worker sees it or we see 0
                if (pending.get() > 0) LockSupport.park(this);
            }
        }
        waiter = null;
    }

    /**
     * Round {@code spins} of a wait that began busy: a spin for the first {@link #SPINS} rounds, then a
     * yield for {@link #YIELD_NANOS} from the first yield. Returns the first yield's time ({@code since},
     * 0 before it), or -1 once the waiter should park instead.
     */
    private static long pause(int spins, long since) {
        if (spins < SPINS) {
            Thread.onSpinWait();
            return since;
        }
        long now = System.nanoTime();
        if (since != 0 && now - since >= YIELD_NANOS) return -1;
        Thread.yield();
        return since == 0 ? now : since;
    }

    private void runPart(int part) {
        int g = grain;
        if (g > 0) {
            for (int i = 0; i < threads; i++) {     // its own range first, then the others' in turn
                int t = (part + i) % threads, end = ends[t];
                for (int from; (from = next.get(16 * t)) < end; ) {
                    int to = Math.min(end, from + Math.max(g, (end - from) / 4 / g * g));
                    if (!next.compareAndSet(16 * t, from, to)) continue;
                    if (partBody != null) partBody.run(part, from, to);
                    else body.run(from, to);
                }
            }
            return;
        }
        int from = (int) ((long) n * part / threads), to = (int) ((long) n * (part + 1) / threads);
        if (from >= to) return;
        if (partBody != null) partBody.run(part, from, to);
        else body.run(from, to);
    }

    private void loop(int part) {
        long seen = 0;
        while (!closed) {
            long since = 0;
            for (int spins = 0; epoch == seen && !closed; spins++) {
                if (since >= 0) since = pause(spins, since);
                if (since < 0) LockSupport.park(this);     // run() and close() unpark every worker
            }
            if (closed) return;
            seen = epoch;
            try {
                runPart(part);
            } catch (Throwable t) {
                failure = t;
            } finally {
                if (pending.decrementAndGet() == 0) {
                    Thread w = waiter;
                    if (w != null) LockSupport.unpark(w);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
