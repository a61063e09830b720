package dev.llmkit.trainer;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import java.util.HashMap;
import java.util.Map;

/**
 * The pure-Java backend: {@link Sgemm} with rows of C split over the worker threads in blocks of
 * {@link Sgemm#MR}. Every element of C is computed by one thread in a fixed order, so results do not
 * depend on the thread count. Weights are packed for {@link #xwT} once per optimizer step.
 */
final class JavaMatMul implements MatMul {
    private final Parallel par;
    private record Key(float[] w, int off, int n, int k) {}

    private static final class Packed {
        final float[] data;
        boolean fresh;

        Packed(int size) {
            data = new float[size];
        }
    }

    /** Packed W^T per weight; valid until {@link #weightsChanged}. */
    private final Map<Key, Packed> packed = new HashMap<>();

    private final float[][] scratch;

    JavaMatMul(Parallel par) {
        this.par = par;
        scratch = new float[par.threads()][];
        for (int i = 0; i < scratch.length; i++) scratch[i] = Sgemm.packScratch();
    }

    @Override
    public void xwT(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, int m, int n, int k, boolean acc) {
        Packed p = packed.computeIfAbsent(new Key(w, wOff, n, k), key -> new Packed(Sgemm.packedSize(n, k)));
        float[] b = p.data;
        if (!p.fresh) {
            par.range(Sgemm.panels(n), (p0, p1) -> Sgemm.packTransposed(w, wOff, k, n, k, b, p0, p1));
            p.fresh = true;
        }
        par.parts(blocks(m), (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k,
                x, xOff, k, 1, b, 0, Sgemm.NR, k * Sgemm.NR, y, yOff, n, acc, scratch[part]));
    }

    @Override
    public void xw(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff, int m, int n, int k, boolean acc) {
        par.parts(blocks(m), (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k,
                dy, dyOff, k, 1, w, wOff, n, Sgemm.NR, dx, dxOff, n, acc, scratch[part]));
    }

    @Override
    public void aTb(float[] dy, int dyOff, float[] x, int xOff, float[] dw, int dwOff, int m, int n, int k, boolean acc) {
        par.parts(blocks(m), (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k,
                dy, dyOff, 1, m, x, xOff, n, Sgemm.NR, dw, dwOff, n, acc, scratch[part]));
    }

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
