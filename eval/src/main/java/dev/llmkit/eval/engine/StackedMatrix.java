package dev.llmkit.eval.engine;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.quant.GgmlType;

/** Matrices stacked by rows, any storage types (a mixture's q|k|v with a Q6_K attn_v): each product runs on each part in turn. */
final class StackedMatrix implements WeightMatrix {
    private final WeightMatrix[] parts;
    private final int[] start;
    private final int rows, cols;

    StackedMatrix(WeightMatrix... parts) {
        this.parts = parts;
        this.start = new int[parts.length + 1];
        this.cols = parts[0].cols();
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].cols() != cols) throw new IllegalArgumentException("stacked matrices need the same cols");
            start[i + 1] = start[i] + parts[i].rows();
        }
        this.rows = start[parts.length];
    }

    @Override public int rows() { return rows; }
    @Override public int cols() { return cols; }
    @Override public GgmlType type() { return parts[0].type(); }

    @Override
    public void addTypes(java.util.Set<GgmlType> into) {
        for (WeightMatrix p : parts) p.addTypes(into);
    }

    @Override
    public long bytes() {
        long b = 0;
        for (WeightMatrix p : parts) b += p.bytes();
        return b;
    }

    @Override
    public void matvec(float[] x, int xo, float[] out, int oo, int r0, int r1) {
        for (int i = 0; i < parts.length; i++) {
            int a = Math.max(r0, start[i]), b = Math.min(r1, start[i + 1]);
            if (a < b) parts[i].matvec(x, xo, out, oo + start[i], a - start[i], b - start[i]);
        }
    }

    @Override
    public void matvecs(float[] x, int ldx, int nt, float[] out, int oOff, int ldo, int r0, int r1) {
        for (int i = 0; i < parts.length; i++) {
            int a = Math.max(r0, start[i]), b = Math.min(r1, start[i + 1]);
            if (a < b) parts[i].matvecs(x, ldx, nt, out, oOff + start[i], ldo, a - start[i], b - start[i]);
        }
    }

    @Override
    public void row(int r, float[] out, int oo) {
        int i = 0;
        while (r >= start[i + 1]) i++;
        parts[i].row(r - start[i], out, oo);
    }

    @Override
    public void matmul(Parallel par, float[] x, int ldx, int nt, float[] out, int oOff, int ldo, BatchScratch s) {
        for (int i = 0; i < parts.length; i++) parts[i].matmul(par, x, ldx, nt, out, oOff + start[i], ldo, s);
    }
}
