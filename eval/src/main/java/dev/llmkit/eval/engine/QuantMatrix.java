package dev.llmkit.eval.engine;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import dev.llmkit.core.quant.GgmlType;

/**
 * A matrix in a GGML block type, rows of whole blocks as stored: matvec on the blocks in registers
 * ({@link QuantKernels#dot}); a batch decodes {@link Sgemm#NR} rows at a time into a per-thread F32
 * tile, packs it as one Sgemm panel and multiplies every token of the batch with it there, so a
 * decoded row is used by the whole batch and never stored beyond its tile. While {@link ColdStart#coldBatch()},
 * the batch decodes with the scalar codec and multiplies on {@link ColdKernels} (on {@link AutoKernels} once C2 has
 * compiled those, which then also decode Q8_0 rows: {@link AutoKernels#decodeQ8_0}); the matvec keeps its
 * Vector API kernels (decoding every weight of every token on scalar code would be slower still). A single row
 * ({@link #row}: the embedding's) decodes with the scalar codec while {@link ColdStart#cold()}.
 */
final class QuantMatrix implements WeightMatrix {
    private final GgmlType type;
    private final byte[] data;
    private final int rows, cols, rowBytes;
    /** The blocks' scales as floats where the matvec reads them so (Q8_0; else null): {@link QuantKernels#blockScales}. */
    private final float[] scales;

    QuantMatrix(GgmlType type, byte[] data, int rows, int cols) {
        this.type = type;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = (int) type.bytes(cols);
        if ((long) rowBytes * rows != data.length) throw new IllegalArgumentException(type + " " + rows + " x " + cols + " needs " + (long) rowBytes * rows + " bytes, got " + data.length);
        this.scales = QuantKernels.blockScales(type, data, rows, cols);
    }

    @Override public int rows() { return rows; }
    @Override public int cols() { return cols; }
    @Override public GgmlType type() { return type; }
    @Override public long bytes() { return data.length + (scales == null ? 0 : 4L * scales.length); }

    @Override
    public void matvec(float[] x, int xo, float[] out, int oo, int r0, int r1) {
        QuantKernels.dotRows(type, data, r0 * rowBytes, rowBytes, r1 - r0, x, xo, cols, out, oo + r0, scales, r0 * (cols / 32));
    }

    @Override
    public void matvecs(float[] x, int ldx, int nt, float[] out, int oOff, int ldo, int r0, int r1) {
        // as the interface's, calling the kernel straight
        int chunk = chunkRows(), nb = cols / 32;
        for (int a = r0; a < r1; a += chunk) {
            int n = Math.min(r1, a + chunk) - a;
            for (int t = 0; t < nt; t++) QuantKernels.dotRows(type, data, a * rowBytes, rowBytes, n, x, t * ldx, cols, out, t * ldo + oOff + a, scales, a * nb);
        }
    }

    @Override
    public void row(int r, float[] out, int oo) {
        // cold, the scalar codec: QuantKernels' Vector API decoding runs interpreted until C2 has compiled it (a Q8_0
        // prompt's 128 embedding rows took 15-23 ms that way, F32's 0.13 ms)
        if (ColdStart.cold()) type.dequantize(data, r * rowBytes, cols, out, oo);
        else QuantKernels.decode(type, data, r * rowBytes, out, oo, cols);
    }

    @Override
    public void matmul(Parallel par, float[] x, int ldx, int nt, float[] out, int oOff, int ldo, BatchScratch s) {
        if (Kernels.SCALAR) {
            par.parts(rows, (part, r0, r1) -> {
                float[] row = s.tile[part];
                for (int r = r0; r < r1; r++) {
                    type.dequantize(data, r * rowBytes, cols, row, 0);
                    for (int t = 0; t < nt; t++) {
                        float sum = 0;
                        for (int i = 0; i < cols; i++) sum += row[i] * x[t * ldx + i];
                        out[t * ldo + oOff + r] = sum;
                    }
                }
            });
            return;
        }
        int nr = Sgemm.NR, mr = Sgemm.MR;
        if (ColdStart.coldBatch()) {
            // NR rows at a time decoded by the scalar codec (Q8_0 by AutoKernels once compiled) into the thread's tile, then the cold products
            boolean auto = ColdStart.autoBatch();
            if (auto) AutoKernels.transpose(par, x, ldx, nt, cols, s.xt);
            par.parts(rows, (part, r0, r1) -> {
                float[] tile = s.tile[part];
                for (int r = r0; r < r1; r += nr) {
                    int n = Math.min(nr, r1 - r);
                    if (auto && type == GgmlType.Q8_0) AutoKernels.decodeQ8_0(data, r * rowBytes, n * cols, tile, 0);
                    else type.dequantize(data, r * rowBytes, n * cols, tile, 0);
                    if (auto) AutoKernels.matmul(tile, 0, cols, s.xt, nt, s.acc[part][0], s.acc[part][1], out, oOff + r, ldo, n);
                    else ColdKernels.matmul(tile, cols, x, ldx, nt, out, oOff + r, ldo, 0, n);
                }
            });
            return;
        }
        par.range(nt / mr, (b0, b1) -> Sgemm.packRows(x, 0, ldx, 1, nt, cols, b0 * mr, b1 * mr, s.packedX));
        par.chunks(Sgemm.panels(rows), 1, (part, p0, p1) -> {
            float[] tile = s.tile[part], panel = s.panel[part];
            for (int p = p0; p < p1; p++) {
                int r0 = p * nr, n = Math.min(nr, rows - r0);
                for (int i = 0; i < n; i++) QuantKernels.decode(type, data, (r0 + i) * rowBytes, tile, i * cols, cols);
                Sgemm.packTransposed(tile, 0, cols, n, cols, panel, 0, 1);
                Sgemm.rowsPrepacked(nt, n, cols, x, 0, ldx, 1, s.packedX, panel, 0, nr, cols * nr, out, oOff + r0, ldo, false);
            }
        });
    }
}
