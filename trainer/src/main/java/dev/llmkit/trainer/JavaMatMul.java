package dev.llmkit.trainer;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import java.util.HashMap;
import java.util.Map;

/**
 * The pure-Java backend: {@link Sgemm} with rows of C split over the worker threads in blocks of
 * {@link Sgemm#MR}. Every element of C is computed by one thread in a fixed order, so results do not
 * depend on the thread count. Every B operand is read as packed panels: weights once per forward pass,
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
        par.parts(blocks(m), (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k,
                x, xOff, k, 1, b, 0, Sgemm.NR, k * Sgemm.NR, y, yOff, n, acc, scratch[part]));
    }

    @Override
    public void xw(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff, int m, int n, int k, boolean acc) {
        float[] b = packedWeight(w, wOff, n, k, false);
        par.parts(blocks(m), (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k,
                dy, dyOff, k, 1, b, 0, Sgemm.NR, k * Sgemm.NR, dx, dxOff, n, acc, scratch[part]));
    }

    @Override
    public void aTb(float[] dy, int dyOff, float[] x, int xOff, float[] dw, int dwOff, int m, int n, int k, boolean acc) {
        int size = Sgemm.packedSize(n, k);
        if (xPack.length < size) xPack = new float[size];     // grows to the largest activation, once
        float[] bp = xPack;
        par.range(Sgemm.panels(n), (p0, p1) -> Sgemm.packPanels(x, xOff, n, k, n, bp, p0, p1));
        par.parts(blocks(m), (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k,
                dy, dyOff, 1, m, bp, 0, Sgemm.NR, k * Sgemm.NR, dw, dwOff, n, acc, scratch[part]));
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
