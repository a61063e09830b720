package dev.llmkit.eval.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The decode matvec on packed panels: equal, bit for bit, to the prefill's packed product for the same
 * row, and to the plain dot product within rounding, for row ranges that start and end inside a panel.
 */
class MatvecPackedTest {
    @Test
    void packedMatvecEqualsThePrefillProductAndTheReference() {
        SplittableRandom r = new SplittableRandom(4);
        for (int[] shape : new int[][] {{100, 288}, {4 * Sgemm.NR + 7, 768}, {Sgemm.NR, 64}, {9, 256}}) {
            int rows = shape[0], cols = shape[1];
            float[] w = new float[rows * cols], x = new float[cols];
            for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
            for (int i = 0; i < cols; i++) x[i] = (float) r.nextGaussian();
            F32Matrix m = new F32Matrix(w, rows, cols);
            float[] product = new float[rows];
            try (Parallel par = new Parallel(1)) {
                m.matmul(par, x, cols, 1, product, 0, rows, new WeightMatrix.BatchScratch(1, LlamaEngine.BLOCK, cols));
            }
            for (int[] range : new int[][] {{0, rows}, {5, rows - 3}, {Sgemm.NR - 1, rows}, {0, Math.min(rows, 2 * Sgemm.NR + 1)}}) {
                if (range[0] >= range[1]) continue;
                float[] out = new float[rows];
                m.matvec(x, 0, out, 0, range[0], range[1]);
                int p0 = (range[0] + Sgemm.NR - 1) / Sgemm.NR, p1 = range[1] / Sgemm.NR;
                for (int row = range[0]; row < range[1]; row++) {
                    double ref = 0;
                    for (int k = 0; k < cols; k++) ref += (double) w[row * cols + k] * x[k];
                    assertEquals(ref, out[row], 1e-4 * Math.sqrt(cols), rows + "x" + cols + " row " + row);
                    boolean packedRow = row >= p0 * Sgemm.NR && row < p1 * Sgemm.NR;
                    if (packedRow) assertEquals(Float.floatToIntBits(product[row]), Float.floatToIntBits(out[row]), rows + "x" + cols + " row " + row + ": decode and prefill differ");
                }
            }
        }
    }
}
