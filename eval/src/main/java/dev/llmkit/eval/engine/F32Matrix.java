package dev.llmkit.eval.engine;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import dev.llmkit.core.quant.GgmlType;

/**
 * An F32 matrix: Vector API matvec, and for batches {@link Sgemm} on panels packed on first use; while
 * {@link ColdStart#cold()}, the same products on {@link ColdKernels} over the rows as stored (batches on
 * {@link AutoKernels} once C2 has compiled those). The matvec runs on the packed panels once they exist
 * (a warm batch built them) or once packing pays ({@link ColdStart#unpackedDecode()}), on the rows as
 * stored before.
 */
final class F32Matrix implements WeightMatrix {
    private final float[] w;
    private final int rows, cols;
    private volatile float[] packed;

    F32Matrix(float[] w, int rows, int cols) {
        if ((long) rows * cols != w.length) throw new IllegalArgumentException(rows + " x " + cols + " != " + w.length);
        this.w = w;
        this.rows = rows;
        this.cols = cols;
    }

    @Override public int rows() { return rows; }
    @Override public int cols() { return cols; }
    @Override public GgmlType type() { return GgmlType.F32; }
    @Override public long bytes() { return 4L * w.length; }

    @Override
    public void matvec(float[] x, int xo, float[] out, int oo, int r0, int r1) {
        if (Kernels.SCALAR) {
            Kernels.matvec(w, x, xo, out, oo, cols, r0, r1);
            return;
        }
        if (ColdStart.cold()) {
            ColdKernels.matvec(w, cols, x, xo, out, oo, r0, r1);
            return;
        }
        if (packed == null && ColdStart.unpackedDecode()) {
            // the rows as stored until packing them would pay (see ColdStart): a 128-token generate never packs
            Kernels.matvec(w, x, xo, out, oo, cols, r0, r1);
            return;
        }
        // the whole panels of the packed copy (the prefill's, built once), rows by rows at the edges
        int nr = Sgemm.NR, p0 = (r0 + nr - 1) / nr, p1 = r1 / nr;
        if (p0 >= p1) {
            Kernels.matvec(w, x, xo, out, oo, cols, r0, r1);
            return;
        }
        if (r0 < p0 * nr) Kernels.matvec(w, x, xo, out, oo, cols, r0, p0 * nr);
        Kernels.matvecPacked(packed(), cols, x, xo, out, oo, p0, p1);
        if (p1 * nr < r1) Kernels.matvec(w, x, xo, out, oo, cols, p1 * nr, r1);
    }

    @Override
    public void matvecs(float[] x, int ldx, int nt, float[] out, int oOff, int ldo, int r0, int r1) {
        if (Kernels.SCALAR || ColdStart.cold()) {
            WeightMatrix.super.matvecs(x, ldx, nt, out, oOff, ldo, r0, r1);
            return;
        }
        if (packed == null && ColdStart.unpackedDecode()) {
            Kernels.matvecs(w, x, 0, ldx, nt, out, oOff, ldo, cols, r0, r1);
            return;
        }
        // packed: a panel at a time, so that every call splits rows where one matvec over [r0, r1) does (the same bits)
        int nr = Sgemm.NR;
        for (int a = r0; a < r1; ) {
            int b = Math.min(r1, (a / nr + 1) * nr);
            for (int t = 0; t < nt; t++) matvec(x, t * ldx, out, t * ldo + oOff, a, b);
            a = b;
        }
    }

    @Override
    public void row(int r, float[] out, int oo) {
        System.arraycopy(w, r * cols, out, oo, cols);
    }

    @Override
    public void matmul(Parallel par, float[] x, int ldx, int nt, float[] out, int oOff, int ldo, BatchScratch s) {
        if (Kernels.SCALAR) {
            par.range(rows, (r0, r1) -> Kernels.matmulScalar(w, x, ldx, out, oOff, ldo, cols, nt, r0, r1));
            return;
        }
        if (ColdStart.coldBatch()) {
            if (ColdStart.autoBatch()) {
                AutoKernels.transpose(par, x, ldx, nt, cols, s.xt);
                par.parts(rows, (part, r0, r1) -> AutoKernels.matmul(w, r0 * cols, cols, s.xt, nt, s.acc[part][0], s.acc[part][1], out, oOff + r0,
                        ldo, r1 - r0));
            } else {
                par.range(rows, (r0, r1) -> ColdKernels.matmul(w, cols, x, ldx, nt, out, oOff, ldo, r0, r1));
            }
            return;
        }
        float[] bp = packed();
        int nr = Sgemm.NR, mr = Sgemm.MR;
        par.range(nt / mr, (b0, b1) -> Sgemm.packRows(x, 0, ldx, 1, nt, cols, b0 * mr, b1 * mr, s.packedX));
        par.chunks(Sgemm.panels(rows), 1, (p0, p1) -> Sgemm.rowsPrepacked(nt, Math.min(rows, p1 * nr) - p0 * nr, cols, x, 0, ldx, 1, s.packedX,
                bp, p0 * cols * nr, nr, cols * nr, out, oOff + p0 * nr, ldo, false));
    }

    /** The weights as Sgemm B panels of W^T, built once. */
    private float[] packed() {
        float[] p = packed;
        if (p == null) {
            synchronized (this) {
                p = packed;
                if (p == null) {
                    p = new float[Sgemm.packedSize(rows, cols)];
                    Sgemm.packTransposed(w, 0, cols, rows, cols, p, 0, Sgemm.panels(rows));
                    packed = p;
                }
            }
        }
        return p;
    }
}
