package dev.llmkit.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The parallel-for: every part of every task runs exactly once over its fixed range, also when a part
 * is slow (workers parked, then woken); chunks cover every unit once, start at whole grains, and a stalled
 * thread's units go to the other; a part's failure reaches the caller, and the next task runs clean.
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
    void chunksCoverEveryUnitOnceInWholeGrainsOnTheirThreads() {
        SplittableRandom r = new SplittableRandom(5);
        for (int threads : new int[] {1, 2, 3}) {
            try (Parallel par = new Parallel(threads)) {
                for (int task = 0; task < 3_000; task++) {
                    int n = r.nextInt(0, 200), grain = r.nextInt(1, 9);
                    AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, n));
                    boolean slowWorker = r.nextInt(8) == 0, slowCaller = r.nextInt(8) == 0, single = threads == 1 || n <= grain;
                    Parallel.PartBody body = (part, from, to) -> {
                        assertTrue(part >= 0 && part < threads, "thread " + part);
                        if (single) assertTrue(part == 0 && from == 0 && to == n, "one part [" + from + ", " + to + ") of " + n);
                        else assertTrue(from < to && to <= n && from % grain == 0, "a chunk [" + from + ", " + to + ") of " + n + ", grain " + grain);
                        if (part == 0 ? slowCaller : slowWorker) LockSupport.parkNanos(20_000);
                        for (int i = from; i < to; i++) hits.incrementAndGet(i);
                    };
                    if (r.nextBoolean()) par.chunks(n, grain, body);
                    else par.chunks(n, grain, (from, to) -> body.run(0, from, to));
                    for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "unit " + i + " of " + n + ", grain " + grain + ", " + threads + " threads");
                }
            }
        }
    }

    @Test
    void aFastThreadTakesTheUnitsOfASlowOne() {
        try (Parallel par = new Parallel(2)) {
            AtomicIntegerArray by = new AtomicIntegerArray(64);
            par.chunks(64, 1, (part, from, to) -> {
                if (part == 1) LockSupport.parkNanos(200_000_000);     // the worker stalls in its first chunk
                for (int i = from; i < to; i++) by.set(i, part + 1);
            });
            int caller = 0;
            for (int i = 0; i < 64; i++) {
                assertTrue(by.get(i) > 0, "unit " + i);
                if (by.get(i) == 1) caller++;
            }
            assertTrue(caller > 32, "the caller ran " + caller + " of 64 units while the worker stalled");
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
