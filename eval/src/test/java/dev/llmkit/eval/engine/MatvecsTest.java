package dev.llmkit.eval.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.quant.GgmlType;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WeightMatrix#matvecs} (a cold prompt's products on the decode kernels, a chunk of rows for every vector)
 * against {@link WeightMatrix#matvec} once per vector: the same bits, for F32 rows as stored and packed, Q8_0 and
 * Q4_0, a stack of two matrices, row ranges that cut chunks and panels, strided vectors and outputs, and nothing
 * written outside the rows asked for.
 */
class MatvecsTest {
    @AfterEach
    void warm() {
        ColdStart.resetAhead();
        ColdStart.force(false);
    }

    @Test
    void matvecsHasTheBitsOfOneMatvecPerVector() {
        ModelConfig c = new ModelConfig(96, 800, 1, 4, 2, 200, 64, 1e-5f, 10000f, false);
        Weights f32 = Weights.init(c, 0.3f, 3);
        SplittableRandom r = new SplittableRandom(5);
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0}) {
            Weights w = type == GgmlType.F32 ? f32 : QuantKernelsTest.quantized(f32, type);
            WeightMatrix stacked = WeightMatrix.stack(WeightMatrix.of(w, TensorNames.blk(0, "ffn_gate")), WeightMatrix.of(w, TensorNames.blk(0, "ffn_up")));
            WeightMatrix down = WeightMatrix.of(w, TensorNames.blk(0, "ffn_down"));
            for (int mode = 0; mode < 2; mode++) {      // the decode kernels compiled ahead, F32 rows as stored; warm, F32 packed
                ColdStart.resetAhead();
                if (mode == 0) {
                    ColdStart.restart(1_000_000_000_000L);
                    ColdStart.compiled(CompileAhead.Kind.DECODE);
                    assertEquals(!Kernels.SCALAR, ColdStart.unpackedDecode());     // (the scalar switch: every kind warm, on its loops)
                } else {
                    ColdStart.force(false);
                    assertFalse(ColdStart.unpackedDecode());
                }
                for (WeightMatrix m : new WeightMatrix[] {stacked, down}) {
                    int rows = m.rows(), cols = m.cols(), nt = 37, ldx = cols + 5, ldo = rows + 3, oOff = 2;
                    float[] x = new float[nt * ldx];
                    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                    for (int[] range : new int[][] {{0, rows}, {5, rows - 7}, {33, 34}, {rows / 2 - 1, Math.min(rows, rows / 2 + 70)}}) {
                        String what = type + " " + rows + " x " + cols + " rows " + range[0] + ".." + range[1] + " mode " + mode;
                        assertTrue(sameBits(m, x, ldx, nt, ldo, oOff, range[0], range[1]), what);
                    }
                }
            }
        }
    }

    /**
     * Whether matvecs gives the bits of a matvec per vector, within {@link ColdStartTest#sameBitsWithinTries}'s tries:
     * both run the same kernel, which a test JVM may compile between the two. Nothing outside the rows asked for may be written.
     */
    private static boolean sameBits(WeightMatrix m, float[] x, int ldx, int nt, int ldo, int oOff, int r0, int r1) {
        return ColdStartTest.sameBitsWithinTries(() -> {
            float[] a = new float[nt * ldo + oOff];
            Arrays.fill(a, -7f);
            m.matvecs(x, ldx, nt, a, oOff, ldo, r0, r1);
            for (int t = 0; t < nt; t++) {
                for (int i = 0; i < ldo; i++) {
                    int o = t * ldo + oOff + i;
                    if (o < a.length && (i < r0 || i >= r1)) assertEquals(-7f, a[o], "written outside the rows, at " + o);
                }
            }
            return a;
        }, () -> {
            float[] b = new float[nt * ldo + oOff];
            Arrays.fill(b, -7f);
            for (int t = 0; t < nt; t++) m.matvec(x, t * ldx, b, t * ldo + oOff, r0, r1);
            return b;
        });
    }
}
