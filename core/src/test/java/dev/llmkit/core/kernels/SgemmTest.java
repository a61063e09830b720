package dev.llmkit.core.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Differential test: the blocked Vector API SGEMM against a plain double-precision triple loop. */
class SgemmTest {
    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    @Test
    void allLayoutsAndTailsMatchTheReference() {
        SplittableRandom r = new SplittableRandom(7);
        int[][] shapes = {{1, 1, 1}, {8, 32, 5}, {13, 47, 300}, {64, 688, 256}, {37, 16, 513}, {9, 100, 17}, {130, 70, 260}, {300, 150, 600}, {128, 864, 288}, {21, 96, 320}, {1030, 130, 20}, {1030, 70, 600}, {300, 150, 2100}};
        for (int[] sh : shapes) {
            int m = sh[0], n = sh[1], k = sh[2];
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    for (boolean acc : new boolean[] {false, true}) {
                        check(r, m, n, k, transA, transB, acc, 3);
                    }
                }
            }
        }
    }

    /**
     * A transposed A of exactly MR rows, unpadded: its depth steps lie MR apart, as a packed A's, so without a scratch the
     * constant-stride kernels read it in place; with one they read its packed copy. The same bits either way, and the reference's sums.
     */
    @Test
    void aTransposedOfMrRowsRunsOnTheConstantStrideKernelsInPlace() {
        SplittableRandom r = new SplittableRandom(13);
        int m = Sgemm.MR, n = 3 * Sgemm.NR + 5, k = 300;
        float[] a = random(r, k * m), w = random(r, n * k), bp = new float[Sgemm.packedSize(n, k)];
        Sgemm.packTransposed(w, 0, k, n, k, bp, 0, Sgemm.panels(n));
        for (boolean acc : new boolean[] {false, true}) {
            float[] inPlace = random(r, m * n), packed = inPlace.clone(), c0 = inPlace.clone();
            Sgemm.rows(0, m, n, k, a, 0, 1, m, bp, 0, Sgemm.NR, k * Sgemm.NR, inPlace, 0, n, acc);
            Sgemm.rows(0, m, n, k, a, 0, 1, m, bp, 0, Sgemm.NR, k * Sgemm.NR, packed, 0, n, acc, Sgemm.packScratch());
            assertArrayEquals(packed, inPlace, "in place against packed, acc " + acc);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double want = acc ? c0[i * n + j] : 0;
                    for (int p = 0; p < k; p++) want += (double) a[p * m + i] * w[j * k + p];
                    assertEquals(want, inPlace[i * n + j], 1e-5 * (k + 1), "row " + i + ", column " + j + ", acc " + acc);
                }
            }
        }
    }

    /**
     * A row-major A without padding has its rows end to end, so blocks of it are packed whole (every depth
     * slice at once, row by row) when they fit the scratch (MC rows x 768, MC = 128 with 8-row kernels, 126 with 6-row
     * ones, 125 with 5-row ones, 120 with 12-row ones): one slice, several (700: a shorter last slice), an MC-row block of exactly 768 (200 x 100 x 768: rows
     * [66, 194), [66, 192), [66, 191) or [66, 186) fill the scratch), one too deep
     * to fit (200 x 100 x 900: packed slice by slice), more than one group of panels with a half panel
     * (560 columns), and a long depth run slice by slice across the row blocks, whose last block of 48 rows would fit
     * whole (268 x 100 x 1800: packed slice by slice instead, as the blocks share the scratch); with B transposed and row-major.
     */
    @Test
    void rowsEndToEndArePackedWholeWithTheSameSums() {
        SplittableRandom r = new SplittableRandom(11);
        int[][] shapes = {{64, 128, 256}, {37, 200, 600}, {40, 130, 700}, {200, 100, 768}, {16, 128, 800}, {200, 130, 320},
                {200, 100, 900}, {24, 560, 256}, {268, 100, 1800}};
        for (int[] sh : shapes) {
            for (boolean transB : new boolean[] {false, true}) {
                for (boolean acc : new boolean[] {false, true}) check(r, sh[0], sh[1], sh[2], false, transB, acc, 0);
            }
        }
    }

    /**
     * Packed panels of W^T (16 x 16 tiles with 16-float vectors, float by float elsewhere) and of a row-major A's rows
     * (8 x 16 tiles with 8-row kernels there) hold exactly the floats of their definitions, zero past n.
     */
    @Test
    void packingsHoldTheirDefinitions() {
        SplittableRandom r = new SplittableRandom(5);
        int[][] shapes = {{1, 1}, {16, 16}, {47, 300}, {64, 64}, {300, 17}, {33, 15}, {688, 256}, {96, 640}};
        for (int[] sh : shapes) {
            int n = sh[0], k = sh[1], ldw = k + 3, off = 2;
            float[] w = random(r, off + n * ldw);
            int panels = Sgemm.panels(n);
            float[] bp = random(r, Sgemm.packedSize(n, k));
            Sgemm.packTransposed(w, off, ldw, n, k, bp, 0, panels);
            for (int p = 0; p < panels; p++) {
                for (int kk = 0; kk < k; kk++) {
                    for (int j = 0; j < Sgemm.NR; j++) {
                        int col = p * Sgemm.NR + j;
                        assertEquals(col < n ? w[off + col * ldw + kk] : 0f, bp[p * k * Sgemm.NR + kk * Sgemm.NR + j], 0f,
                                "W^T " + n + " x " + k + ": panel " + p + ", depth " + kk + ", column " + j);
                    }
                }
            }
            // the same W as a row-major A of n rows: the whole row blocks packed MR-interleaved, slice by slice
            int m = n, rows = m / Sgemm.MR * Sgemm.MR, depth = Sgemm.depthSlice(k);
            float[] ap = random(r, Sgemm.packedRowsSize(m, k));
            Sgemm.packRows(w, off, ldw, 1, m, k, 0, rows, ap);
            for (int kb = 0; kb < k; kb += depth) {
                int kc = Math.min(depth, k - kb);
                for (int i = 0; i < rows; i++) {
                    for (int kk = 0; kk < kc; kk++) {
                        assertEquals(w[off + i * ldw + kb + kk], ap[kb * rows + i / Sgemm.MR * Sgemm.MR * kc + kk * Sgemm.MR + i % Sgemm.MR], 0f,
                                "A " + m + " x " + k + ": row " + i + ", depth " + (kb + kk));
                    }
                }
            }
        }
    }

    private static void check(SplittableRandom r, int m, int n, int k, boolean transA, boolean transB, boolean acc, int pad) {
        int lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
        float[] a = random(r, (transA ? k : m) * lda + 3), b = random(r, (transB ? n : k) * ldb + 3);
        float[] c = random(r, m * ldc + 3), c0 = c.clone();
        int aOff = 1, bOff = 2, cOff = 3;
        float[] bArr = b;
        int bo = bOff, bRow = ldb, bPanel = Sgemm.NR;
        if (transB) {
            bArr = new float[Sgemm.packedSize(n, k)];
            Sgemm.packTransposed(b, bOff, ldb, n, k, bArr, 0, Sgemm.panels(n));
            bo = 0;
            bRow = Sgemm.NR;
            bPanel = k * Sgemm.NR;
        }
        int aRow = transA ? 1 : lda, aCol = transA ? lda : 1;
        int split = m / 3;     // two calls over disjoint row ranges, as the threads do
        Sgemm.rows(0, split, n, k, a, aOff, aRow, aCol, bArr, bo, bRow, bPanel, c, cOff, ldc, acc);
        Sgemm.rows(split, m, n, k, a, aOff, aRow, aCol, bArr, bo, bRow, bPanel, c, cOff, ldc, acc, Sgemm.packScratch());
        // A packed once by two "threads" (packRows over disjoint row blocks), then one rowsPrepacked call:
        // the same sums in the same order, so bitwise equal
        float[] shared = c0.clone(), ap = new float[Sgemm.packedRowsSize(m, k)];
        int blocks = m / Sgemm.MR, half = blocks / 2 * Sgemm.MR;
        Sgemm.packRows(a, aOff, aRow, aCol, m, k, half, blocks * Sgemm.MR, ap);
        Sgemm.packRows(a, aOff, aRow, aCol, m, k, 0, half, ap);
        Sgemm.rowsPrepacked(m, n, k, a, aOff, aRow, aCol, ap, bArr, bo, bRow, bPanel, shared, cOff, ldc, acc);
        assertArrayEquals(c, shared, () -> "prepacked m" + m + " n" + n + " k" + k + " tA" + transA + " tB" + transB);
        if (!transB) {     // a row-major B packed into panels: the same sums in the same order
            float[] viaPanels = c0.clone(), bp = new float[Sgemm.packedSize(n, k)];
            java.util.Arrays.fill(bp, Float.NaN);     // every slot written, the padding with zeros
            int np = Sgemm.panels(n);
            Sgemm.packPanels(b, bOff, ldb, k, n, bp, np / 2, np);     // two "threads", each its panels
            Sgemm.packPanels(b, bOff, ldb, k, n, bp, 0, np / 2);
            for (float v : bp) assertTrue(!Float.isNaN(v), "a packed slot left unwritten");
            Sgemm.rows(0, m, n, k, a, aOff, aRow, aCol, bp, 0, Sgemm.NR, k * Sgemm.NR, viaPanels, cOff, ldc, acc, Sgemm.packScratch());
            assertArrayEquals(c, viaPanels, () -> "B in panels m" + m + " n" + n + " k" + k + " tA" + transA);
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = acc ? c0[cOff + i * ldc + j] : 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    double bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += av * bv;
                }
                float got = c[cOff + i * ldc + j];
                double want = s;
                assertTrue(Math.abs(got - want) <= 1e-5 * (k + 1), () -> "m" + m + " n" + n + " k" + k + " tA" + transA + " tB" + transB + " acc" + acc + ": " + got + " vs " + want);
            }
            for (int j = n; j < ldc && cOff + i * ldc + j < c.length; j++) {
                assertEquals(c0[cOff + i * ldc + j], c[cOff + i * ldc + j], "padding column written");
            }
        }
    }
}
