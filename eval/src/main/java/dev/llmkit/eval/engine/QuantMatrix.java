package dev.llmkit.eval.engine;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.quant.GgmlType;
import java.util.List;

/**
 * A matrix in a GGML block type, rows of whole blocks as stored: matvec on the blocks in registers
 * ({@link QuantKernels#dot}); a batch decodes each row once into a per-thread F32 row and takes its
 * dot product with every token of the batch from there.
 */
final class QuantMatrix implements WeightMatrix {
    private final GgmlType type;
    private final byte[] data;
    private final int rows, cols, rowBytes;

    QuantMatrix(GgmlType type, byte[] data, int rows, int cols) {
        this.type = type;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = (int) type.bytes(cols);
        if ((long) rowBytes * rows != data.length) throw new IllegalArgumentException(type + " " + rows + " x " + cols + " needs " + (long) rowBytes * rows + " bytes, got " + data.length);
    }

    static QuantMatrix concat(List<WeightMatrix> parts) {
        int rows = 0, bytes = 0;
        for (WeightMatrix p : parts) {
            rows += p.rows();
            bytes += ((QuantMatrix) p).data.length;
        }
        byte[] all = new byte[bytes];
        int o = 0;
        for (WeightMatrix p : parts) {
            byte[] d = ((QuantMatrix) p).data;
            System.arraycopy(d, 0, all, o, d.length);
            o += d.length;
        }
        return new QuantMatrix(parts.get(0).type(), all, rows, parts.get(0).cols());
    }

    @Override public int rows() { return rows; }
    @Override public int cols() { return cols; }
    @Override public GgmlType type() { return type; }
    @Override public long bytes() { return data.length; }

    @Override
    public void matvec(float[] x, int xo, float[] out, int oo, int r0, int r1) {
        for (int r = r0; r < r1; r++) out[oo + r] = QuantKernels.dot(type, data, r * rowBytes, x, xo, cols);
    }

    @Override
    public void row(int r, float[] out, int oo) {
        QuantKernels.decode(type, data, r * rowBytes, out, oo, cols);
    }

    @Override
    public void matmul(Parallel par, float[] x, int ldx, int nt, float[] out, int oOff, int ldo, BatchScratch s) {
        par.parts(rows, (part, r0, r1) -> {
            float[] row = s.rowBuf[part];
            for (int r = r0; r < r1; r++) {
                QuantKernels.decode(type, data, r * rowBytes, row, 0, cols);
                for (int t = 0; t < nt; t++) out[t * ldo + oOff + r] = Kernels.dot(row, 0, x, t * ldx, cols);
            }
        });
    }
}
