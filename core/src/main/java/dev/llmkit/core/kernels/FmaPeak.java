package dev.llmkit.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's fp32 FMA throughput as the Vector API reaches it right now: every thread runs independent
 * accumulator chains with no memory traffic, which is the ceiling of any matmul kernel (ours, OpenBLAS's) on
 * these cores. Rounds alternate 16 chains (what a core with 32 vector registers and two FMA pipes needs) and 8
 * (which fit AVX2's 16 registers: 16 chains there spill, and a Zen 1 core read 25 GFLOP/s with them against 33
 * with 8, below what our own SGEMM kernel reaches), and the best round counts. Measured with the preferred
 * vectors (what our kernels use, 512-bit with AVX-512) and with 256-bit ones (what AVX2 code such as
 * OpenBLAS's Haswell kernels uses): on cores that split 512-bit operations in two halves both give the same figure.
 * It is MFU's denominator: training measures it once per process and thread count ({@link #cached})
 * on the machine it runs on, so MFU reads the same on a Zen 4 that splits 512-bit operations as on a
 * Zen 5 with twice its peak.
 */
public final class FmaPeak {
    private FmaPeak() {}

    private static final VectorSpecies<Float> WIDE = FloatVector.SPECIES_PREFERRED, NARROW = FloatVector.SPECIES_256;
    private static final long STEPS = 4_000_000;     // 16 FMAs each: about 0.1-0.2 s per thread
    private static volatile float sink;

    private static final java.util.Map<Integer, Double> CACHED = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * GFLOP/s of {@link #gflops} with a calm of three rounds, measured on the first call for {@code par}'s
     * thread count and kept for the process (a second or two).
     */
    public static double cached(Parallel par) {
        return CACHED.computeIfAbsent(par.threads(), t -> gflops(par, CACHED_CALM));
    }

    /** The calm of {@link #cached}'s and {@link #remeasured}'s measurements. */
    private static final int CACHED_CALM = 3;

    /**
     * {@link #cached}'s figure measured again, the higher of the two kept and returned: a noisy neighbour or a busy
     * core can hold a whole measurement low (a demo's pipeline once read 44.5 GFLOP/s against 67, two thirds: a third
     * busy thread on two cores), which would flatter every MFU after it, even past 100%.
     */
    public static double remeasured(Parallel par) {
        double now = gflops(par, CACHED_CALM);
        return CACHED.merge(par.threads(), now, Math::max);
    }

    /**
     * GFLOP/s of all of {@code par}'s threads at once with the preferred vectors: the best round, once the best of
     * each chain count has not grown by 2% for {@code rounds} of its rounds in a row (at least 1 s, at most 3 s).
     */
    public static double gflops(Parallel par, int rounds) {
        return measure(par, rounds, true);
    }

    /** The same with 256-bit vectors (AVX2 width). */
    public static double gflops256(Parallel par, int rounds) {
        return measure(par, rounds, false);
    }

    /** Bits of the preferred vectors. */
    public static int preferredBits() {
        return WIDE.vectorBitSize();
    }

    private static double measure(Parallel par, int rounds, boolean wide) {
        float a = 1f, b = 0.999999f;
        for (int i = 0; i < 20_000; i++) sink = run(wide, i % 2 == 0, a, b, 100);     // short calls: C2 compiles the methods themselves
        // and wait until it has: C2 compiles in the background, and in a busy process (a pipeline's training
        // stage) its queue can hold a method for seconds, while the slower code would halve the peak
        for (boolean few : new boolean[] {false, true}) {
            for (long deadline = System.nanoTime() + 10_000_000_000L; System.nanoTime() < deadline; ) {
                long t0 = System.nanoTime();
                sink = run(wide, few, a, b, 10_000);
                if ((System.nanoTime() - t0) / 10_000.0 < 50) break;      // compiled: a step of 8 or 16 FMAs takes a few ns
            }
        }
        int lanes = (wide ? WIDE : NARROW).length();
        // The best round: in a busy process a compiler or GC thread can hold a core for a while (a demo's
        // pipeline once measured exactly half the peak, one core's worth), so rounds go on for at least a
        // second and until the best of each chain count has not grown by 2% for `rounds` of its own rounds in a
        // row (at most 3 s): a spilling variant's slow rounds do not count towards the other's calm
        double[] best = new double[2];
        int[] calm = new int[2];
        long start = System.nanoTime();
        int round = 0;
        for (long elapsed = 0; elapsed < 3_000_000_000L && (Math.min(calm[0], calm[1]) < rounds || elapsed < 1_000_000_000L);
                elapsed = System.nanoTime() - start) {
            int v = round++ % 2;
            boolean few = v == 1;     // 8 chains: twice the steps, the same FMAs
            long t0 = System.nanoTime();
            par.range(par.threads(), (p0, p1) -> {
                for (int p = p0; p < p1; p++) sink = run(wide, few, a, b, few ? 2 * STEPS : STEPS);
            });
            double secs = (System.nanoTime() - t0) / 1e9;
            double g = par.threads() * STEPS * 16.0 * 2 * lanes / secs / 1e9;
            calm[v] = g > best[v] * 1.02 ? 0 : calm[v] + 1;
            best[v] = Math.max(best[v], g);
        }
        return Math.max(best[0], best[1]);
    }

    private static float run(boolean wide, boolean few, float a, float b, long steps) {
        return wide ? (few ? wide8(a, b, steps) : wide(a, b, steps)) : (few ? narrow8(a, b, steps) : narrow(a, b, steps));
    }

    private static float wide(float a, float b, long steps) {
        FloatVector x = FloatVector.broadcast(WIDE, a), y = FloatVector.broadcast(WIDE, b);
        FloatVector c0 = x, c1 = y, c2 = x, c3 = y, c4 = x, c5 = y, c6 = x, c7 = y;
        FloatVector c8 = x, c9 = y, c10 = x, c11 = y, c12 = x, c13 = y, c14 = x, c15 = y;
        for (long i = 0; i < steps; i++) {
            c0 = c0.fma(x, y); c1 = c1.fma(x, y); c2 = c2.fma(x, y); c3 = c3.fma(x, y);
            c4 = c4.fma(x, y); c5 = c5.fma(x, y); c6 = c6.fma(x, y); c7 = c7.fma(x, y);
            c8 = c8.fma(x, y); c9 = c9.fma(x, y); c10 = c10.fma(x, y); c11 = c11.fma(x, y);
            c12 = c12.fma(x, y); c13 = c13.fma(x, y); c14 = c14.fma(x, y); c15 = c15.fma(x, y);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).add(c12).add(c13).add(c14).add(c15)
                .reduceLanes(VectorOperators.ADD);
    }

    /** {@link #wide} with 256-bit vectors (a separate method: C2 needs the species as a constant). */
    private static float narrow(float a, float b, long steps) {
        FloatVector x = FloatVector.broadcast(NARROW, a), y = FloatVector.broadcast(NARROW, b);
        FloatVector c0 = x, c1 = y, c2 = x, c3 = y, c4 = x, c5 = y, c6 = x, c7 = y;
        FloatVector c8 = x, c9 = y, c10 = x, c11 = y, c12 = x, c13 = y, c14 = x, c15 = y;
        for (long i = 0; i < steps; i++) {
            c0 = c0.fma(x, y); c1 = c1.fma(x, y); c2 = c2.fma(x, y); c3 = c3.fma(x, y);
            c4 = c4.fma(x, y); c5 = c5.fma(x, y); c6 = c6.fma(x, y); c7 = c7.fma(x, y);
            c8 = c8.fma(x, y); c9 = c9.fma(x, y); c10 = c10.fma(x, y); c11 = c11.fma(x, y);
            c12 = c12.fma(x, y); c13 = c13.fma(x, y); c14 = c14.fma(x, y); c15 = c15.fma(x, y);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).add(c12).add(c13).add(c14).add(c15)
                .reduceLanes(VectorOperators.ADD);
    }

    /** {@link #wide} with 8 chains (16 FMAs per step as two halves, so a step does the same work). */
    private static float wide8(float a, float b, long steps) {
        FloatVector x = FloatVector.broadcast(WIDE, a), y = FloatVector.broadcast(WIDE, b);
        FloatVector c0 = x, c1 = y, c2 = x, c3 = y, c4 = x, c5 = y, c6 = x, c7 = y;
        for (long i = 0; i < steps; i++) {
            c0 = c0.fma(x, y); c1 = c1.fma(x, y); c2 = c2.fma(x, y); c3 = c3.fma(x, y);
            c4 = c4.fma(x, y); c5 = c5.fma(x, y); c6 = c6.fma(x, y); c7 = c7.fma(x, y);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).reduceLanes(VectorOperators.ADD);
    }

    /** {@link #wide8} with 256-bit vectors. */
    private static float narrow8(float a, float b, long steps) {
        FloatVector x = FloatVector.broadcast(NARROW, a), y = FloatVector.broadcast(NARROW, b);
        FloatVector c0 = x, c1 = y, c2 = x, c3 = y, c4 = x, c5 = y, c6 = x, c7 = y;
        for (long i = 0; i < steps; i++) {
            c0 = c0.fma(x, y); c1 = c1.fma(x, y); c2 = c2.fma(x, y); c3 = c3.fma(x, y);
            c4 = c4.fma(x, y); c5 = c5.fma(x, y); c6 = c6.fma(x, y); c7 = c7.fma(x, y);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).reduceLanes(VectorOperators.ADD);
    }
}
