package dev.llmkit.trainer;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pure-Java backend: {@link Sgemm} with rows of C shared out to the worker threads in chunks of whole
 * {@link Sgemm#MR}-row blocks ({@link Parallel#chunks}), or, for a weight gradient over a whole batch, its depth split in
 * two fixed halves ({@link #aTbSplit}). Every element of C is computed in a fixed order, so results depend neither on
 * the thread count nor on which thread ran which rows. Every B operand is read as packed panels: weights once per forward pass,
 * at {@link #weightsChanged} (W^T for {@link #xwT}, W for {@link #xw}), the activation of {@link #aTb} at each call (the threads pack
 * its panels side by side first). Read in place, their rows lie a whole row length apart: the weight
 * gradients and the classifier's input gradient ran 10-15% slower.
 */
final class JavaMatMul implements MatMul {
    private final Parallel par;
    private record Key(float[] w, int off, int n, int k, boolean transposed) {}

    private static final class Packed {
        final float[] data;
        boolean fresh;

        Packed(int size) {
            data = new float[size];
        }
    }

    /** Packed W^T (for {@link #xwT}) and W (for {@link #xw}) per weight; valid until {@link #weightsChanged}. */
    private final Map<Key, Packed> packed = new HashMap<>();

    /** The activation X of {@link #aTb} packed into panels, shared by the threads. */
    private float[] xPack = new float[0];

    private final float[][] scratch;

    JavaMatMul(Parallel par) {
        this.par = par;
        scratch = new float[par.threads()][];
        for (int i = 0; i < scratch.length; i++) scratch[i] = Sgemm.packScratch();
    }

    @Override
    public void xwT(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, int m, int n, int k, boolean acc) {
        float[] b = packedWeight(w, wOff, n, k, true);
        par.chunks(blocks(m), grain(b.length), (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k,
                x, xOff, k, 1, b, 0, Sgemm.NR, k * Sgemm.NR, y, yOff, n, acc, scratch[part]));
    }

    @Override
    public void xw(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff, int m, int n, int k, boolean acc) {
        float[] b = packedWeight(w, wOff, n, k, false);
        par.chunks(blocks(m), grain(b.length), (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k,
                dy, dyOff, k, 1, b, 0, Sgemm.NR, k * Sgemm.NR, dx, dxOff, n, acc, scratch[part]));
    }

    /** Depth from which {@link #aTb} splits its depth in two halves (a weight gradient over a whole batch). */
    static final int SPLIT_DEPTH = 2048;
    /** The largest C (floats) that {@link #aTb} splits: the second half's partial sum is kept whole beside it. */
    static final int SPLIT_MAX_C = 1 << 22;

    /** X of a split {@link #aTb}: each depth half packed into its own panels. */
    private final float[][] halfPack = {new float[0], new float[0]};
    /** Per depth half of a split {@link #aTb}: whether its X is packed (see {@link #packHalf}). */
    private final AtomicInteger[] halfState = {new AtomicInteger(), new AtomicInteger()};
    /** The second depth half's partial C of a split {@link #aTb}. */
    private float[] partial = new float[0];

    @Override
    public void aTb(float[] dy, int dyOff, float[] x, int xOff, float[] dw, int dwOff, int m, int n, int k, boolean acc) {
        if (k >= SPLIT_DEPTH && (long) m * n <= SPLIT_MAX_C) {
            aTbSplit(dy, dyOff, x, xOff, dw, dwOff, m, n, k, acc);
            return;
        }
        int size = Sgemm.packedSize(n, k);
        if (xPack.length < size) xPack = new float[size];     // grows to the largest activation, once
        float[] bp = xPack;
        par.range(Sgemm.panels(n), (p0, p1) -> Sgemm.packPanels(x, xOff, n, k, n, bp, p0, p1));
        par.chunks(blocks(m), grain(size), (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k,
                dy, dyOff, 1, m, bp, 0, Sgemm.NR, k * Sgemm.NR, dw, dwOff, n, acc, scratch[part]));
    }

    /**
     * {@link #aTb} of a long depth and a small C, as the weight gradients over a whole batch are: the depth in two
     * halves, each half's X packed and multiplied by one thread (its rows split further where there are more than
     * two threads; a thread done with its own rows then takes chunks of the other half's, see {@link Parallel#chunks}),
     * the second half's sum then added to C. Each thread packs and reads half of X and of dY instead of all of X,
     * packed by both: the tiny preset's four layers' weight gradients 95.2-95.5 -> 86.8-89.1 ms per step
     * (3 alternating profiled runs; the step 9,963-10,006 -> 10,155-10,236 tokens/s), the small preset's 163-178 ->
     * 156-160 ms (2 runs). The halves are fixed, so C's sums, (C + first half) + second half, do not depend on the
     * thread count.
     */
    private void aTbSplit(float[] dy, int dyOff, float[] x, int xOff, float[] dw, int dwOff, int m, int n, int k, boolean acc) {
        int half = (k / 2 + 7) & ~7;
        int size = Sgemm.packedSize(n, half);
        for (int h = 0; h < 2; h++) if (halfPack[h].length < size) halfPack[h] = new float[size];
        if (partial.length < m * n) partial = new float[m * n];
        float[] part2 = partial;
        if (par.threads() > 2) {     // more threads than halves: both halves packed by all of them first
            par.range(2 * Sgemm.panels(n), (q0, q1) -> {
                int np = Sgemm.panels(n);
                for (int q = q0; q < q1; ) {
                    int h = q / np, pe = Math.min(q1, (h + 1) * np), d0 = h == 0 ? 0 : half;
                    Sgemm.packPanels(x, xOff + d0 * n, n, (h == 0 ? half : k - half), n, halfPack[h], q - h * np, pe - h * np);
                    q = pe;
                }
            });
            for (AtomicInteger st : halfState) st.set(PACKED);
        } else {
            for (AtomicInteger st : halfState) st.set(0);     // each packed by the first thread to reach it (packHalf)
        }
        int blocks = blocks(m), units = (blocks + SPLIT_GRAIN - 1) / SPLIT_GRAIN;
        par.chunks(2 * units, 1, (part, u0, u1) -> {
            for (int u = u0; u < u1; ) {     // a chunk within one half, but for thread counts that split a half
                int h = u / units, ue = Math.min(u1, (h + 1) * units), d0 = h == 0 ? 0 : half, depth = h == 0 ? half : k - half;
                packHalf(h, x, xOff + d0 * n, n, depth);
                int i0 = (u - h * units) * SPLIT_GRAIN * Sgemm.MR, i1 = Math.min(m, (ue - h * units) * SPLIT_GRAIN * Sgemm.MR);
                Sgemm.rows(i0, i1, n, depth, dy, dyOff + d0 * m, 1, m, halfPack[h], 0, Sgemm.NR, depth * Sgemm.NR,
                        h == 0 ? dw : part2, h == 0 ? dwOff : 0, n, h == 0 && acc, scratch[part]);     // the second half into part2
                u = ue;
            }
        });
        par.chunks(m, TrainModel.ROW_GRAIN, (r0, r1) -> {
            for (int r = r0; r < r1; r++) TrainKernels.addInto(part2, r * n, dw, dwOff + r * n, n);
        });
    }

    /**
     * {@link #halfState}: 0 not packed yet, 1 being packed by the thread that claimed it, then PACKED (or packed by all
     * threads up front), or FAILED where that thread's packing threw.
     */
    private static final int PACKED = 2, FAILED = 3;

    /**
     * Packs X's depth half h into {@link #halfPack} unless a thread already has: the first thread to reach the half claims
     * it and packs it, and another that reaches it meanwhile waits for that.
     */
    private void packHalf(int h, float[] x, int xOff, int n, int depth) {
        AtomicInteger state = halfState[h];
        if (state.get() == PACKED) return;
        if (state.compareAndSet(0, 1)) {
            boolean done = false;
            try {
                Sgemm.packPanels(x, xOff, n, depth, n, halfPack[h], 0, Sgemm.panels(n));
                done = true;
            } finally {
                state.set(done ? PACKED : FAILED);
            }
            return;
        }
        int s;
        while ((s = state.get()) == 1) Thread.onSpinWait();
        if (s == FAILED) throw new IllegalStateException("another thread failed to pack the weight gradient's activation");
    }

    /**
     * B panels of n columns and depth k from the weight at w[wOff]: W^T of a row-major W [n, k] when
     * transposed, else W [k, n] itself; packed by the threads side by side once after {@link #weightsChanged}.
     */
    private float[] packedWeight(float[] w, int wOff, int n, int k, boolean transposed) {
        Packed p = packed.computeIfAbsent(new Key(w, wOff, n, k, transposed), key -> new Packed(Sgemm.packedSize(n, k)));
        float[] b = p.data;
        if (!p.fresh) {
            par.range(Sgemm.panels(n), transposed
                    ? (p0, p1) -> Sgemm.packTransposed(w, wOff, k, n, k, b, p0, p1)
                    : (p0, p1) -> Sgemm.packPanels(w, wOff, n, k, n, b, p0, p1));
            p.fresh = true;
        }
        return b;
    }

    /**
     * Row blocks per chunk at least: {@link Sgemm#MC}'s rows where B (floats) is larger than 1 MB, since each chunk reads
     * all of B from beyond L2 (the classifier's weight), half of that where B stays in L2.
     */
    static int grain(int bFloats) {
        return (bFloats <= 1 << 18 ? Sgemm.MC / 2 : Sgemm.MC) / Sgemm.MR;
    }

    /** {@link Sgemm#MR}-row blocks per unit of a split {@link #aTb} (64 rows). */
    static final int SPLIT_GRAIN = 64 / Sgemm.MR;

    private static int blocks(int m) {
        return (m + Sgemm.MR - 1) / Sgemm.MR;
    }

    @Override
    public void weightsChanged() {
        for (Packed p : packed.values()) p.fresh = false;
    }

    @Override
    public String name() {
        return "java";
    }

    @Override
    public void close() {}
}
