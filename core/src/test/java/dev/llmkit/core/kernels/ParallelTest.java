package dev.llmkit.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The parallel-for: every part of every task runs exactly once over its fixed range, also when a part
 * is slow (workers parked, then woken); a part's failure reaches the caller, and the next task runs clean.
 */
class ParallelTest {
    @Test
    void everyPartRunsOnceOverItsRange() {
        SplittableRandom r = new SplittableRandom(3);
        for (int threads : new int[] {1, 2, 3}) {
            try (Parallel par = new Parallel(threads)) {
                for (int task = 0; task < 5_000; task++) {
                    int n = r.nextInt(0, 40);
                    AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, n));
                    AtomicIntegerArray parts = new AtomicIntegerArray(threads);
                    boolean slowWorker = r.nextInt(8) == 0, slowCaller = r.nextInt(8) == 0;
                    par.parts(n, (part, from, to) -> {
                        parts.incrementAndGet(part);
                        boolean split = threads > 1 && n >= 2;     // else one part, on the caller
                        assertEquals(split ? (int) ((long) n * part / threads) : 0, from, "part " + part + " of " + n);
                        assertEquals(split ? (int) ((long) n * (part + 1) / threads) : n, to, "part " + part + " of " + n);
                        if (part == 0 ? slowCaller : slowWorker) LockSupport.parkNanos(20_000);
                        for (int i = from; i < to; i++) hits.incrementAndGet(i);
                    });
                    for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "row " + i + " of " + n + ", " + threads + " threads");
                    for (int p = 0; p < threads; p++) {
                        boolean nonEmpty = threads > 1 && n >= 2 ? (long) n * (p + 1) / threads > (long) n * p / threads : p == 0;
                        assertEquals(nonEmpty ? 1 : 0, parts.get(p), "part " + p + " of " + n + ", " + threads + " threads");
                    }
                }
            }
        }
    }

    @Test
    void aFailingPartReachesTheCallerAndTheNextTaskRunsClean() {
        try (Parallel par = new Parallel(2)) {
            for (int failing = 0; failing < 2; failing++) {
                int f = failing;
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> par.parts(2, (part, from, to) -> {
                    if (part == f) throw new IllegalStateException("part " + f);
                }));
                assertEquals("part " + f, e.getMessage());
                AtomicIntegerArray hits = new AtomicIntegerArray(10);
                par.range(10, (from, to) -> {
                    for (int i = from; i < to; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < 10; i++) assertEquals(1, hits.get(i));
            }
        }
    }
}
