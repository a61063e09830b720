package dev.llmkit.eval.engine;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.QuantTensor;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.quant.GgmlType;

/**
 * A weight matrix [rows, cols] as the engine runs it, whatever its storage: F32 or a GGML block type
 * (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) run on its blocks as stored. The model code calls
 * these products and never asks for the type. F16 and BF16 tensors are widened to F32 when loaded.
 */
public interface WeightMatrix {
    int rows();

    int cols();

    /** The storage type (of the first part, for a stack of several). */
    GgmlType type();

    /** Adds the storage types the matrix runs on to {@code into} (every part's, for a stack). */
    default void addTypes(java.util.Set<GgmlType> into) {
        into.add(type());
    }

    /** Bytes the matrix holds. */
    long bytes();

    /** out[oo + r] = row r . x[xo, xo + cols) for rows [r0, r1) (callers split rows over threads). */
    void matvec(float[] x, int xo, float[] out, int oo, int r0, int r1);

    /**
     * {@link #matvec} for each of the nt rows of x (row stride ldx): out[t * ldo + oOff + r] = row r . x_t for rows
     * [r0, r1), the same bits as nt calls of {@code matvec(x, t * ldx, out, t * ldo + oOff, r0, r1)}, on the same
     * (decode) kernels. It runs a chunk of rows that fits in the core's first-level cache for every x_t before the
     * next chunk, so each weight is read from memory once for the nt rows rather than once per row of x: a cold
     * prompt's products on the decode kernels, compiled ahead ({@link ColdStart#promptOnDecode}), before the batched
     * products' are.
     */
    default void matvecs(float[] x, int ldx, int nt, float[] out, int oOff, int ldo, int r0, int r1) {
        int chunk = chunkRows();
        for (int a = r0; a < r1; a += chunk) {
            int b = Math.min(r1, a + chunk);
            for (int t = 0; t < nt; t++) matvec(x, t * ldx, out, t * ldo + oOff, a, b);
        }
    }

    /**
     * The rows of one {@link #matvecs} chunk: {@link Kernels#CHUNK_BYTES} of the matrix, a multiple of 4 (a Q8_0
     * matvec runs 4 rows at a time, so each chunk from r0 splits its rows as one matvec over [r0, r1) does).
     */
    default int chunkRows() {
        return (int) Math.max(4, Kernels.CHUNK_BYTES / Math.max(1, bytes() / Math.max(1, rows())) & ~3);
    }

    /**
     * For the nt rows of x (row stride ldx): out[t * ldo + oOff + r] = row r . x_t, for every row r,
     * split over the threads of {@code par} ({@code scratch} sized by the engine for its largest product).
     */
    void matmul(Parallel par, float[] x, int ldx, int nt, float[] out, int oOff, int ldo, BatchScratch scratch);

    /** Row r as F32 into out[oo, oo + cols) (the embedding lookup). */
    void row(int r, float[] out, int oo);

    /**
     * Buffers of a batched product: the activations packed once for all threads (or transposed, for
     * {@link AutoKernels}), and per thread a tile of decoded weight rows, the same rows packed as one
     * Sgemm panel, and AutoKernels' two rows of accumulators.
     */
    final class BatchScratch {
        final float[] packedX;
        final float[][] tile, panel, xt;
        final float[][][] acc;

        BatchScratch(int threads, int maxTokens, int maxCols) {
            int nr = dev.llmkit.core.kernels.Sgemm.NR;
            packedX = new float[dev.llmkit.core.kernels.Sgemm.packedRowsSize(maxTokens, maxCols)];
            tile = new float[threads][nr * maxCols];
            panel = new float[threads][nr * maxCols];
            xt = new float[maxCols][maxTokens];
            acc = new float[threads][2][maxTokens];
        }
    }

    /** The matrix {@code name} of {@code w}, kept in its stored type. */
    static WeightMatrix of(Weights w, String name) {
        QuantTensor q = w.stored(name);
        if (q == null || q.type() == GgmlType.F16 || q.type() == GgmlType.BF16 || q.type() == GgmlType.F32) {
            float[] data = w.get(name);
            int cols = q != null ? q.cols() : w.tensors().get(name).shape()[w.tensors().get(name).shape().length - 1];
            return new F32Matrix(data, data.length / cols, cols);
        }
        return new QuantMatrix(q.type(), q.data(), q.rows(), q.cols());
    }

    /**
     * The rows of several matrices with the same cols, stacked (q|k|v, gate|up) so that one call covers
     * them: a view over the parts, which keeps their storage (nothing is copied).
     */
    static WeightMatrix stack(WeightMatrix... parts) {
        return parts.length == 1 ? parts[0] : new StackedMatrix(parts);
    }
}
