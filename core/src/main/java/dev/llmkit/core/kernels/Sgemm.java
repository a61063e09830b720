package dev.llmkit.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM on the Vector API, GotoBLAS style:
 * {@code C[m, n] (+)= A[m, k] B[k, n]} where
 * <ul>
 *   <li>A is read through strides, {@code A(i, p) = a[aOff + i * aRow + p * aCol]}; given a scratch
 *       ({@link #packScratch}), it is packed one row block at a time when enough panels of B reuse it (a transposed
 *       A, aRow = 1 and aCol = lda, is otherwise read in place: its MR values of a depth step are consecutive);</li>
 *   <li>B is read as panels of {@link #NR} columns, {@code B(p, j) = b[bOff + (j / NR) * bPanel + p * bRow + j % NR]}:
 *       a row-major B is its own panel layout (bRow = ldb, bPanel = NR), and a transposed one
 *       (a weight W[n, k] for X W^T) is first packed by {@link #packTransposed} (bRow = NR, bPanel = k * NR);</li>
 *   <li>an {@link #MR} x {@link #NR} register-blocked micro-kernel (12 x 32 with AVX-512 on Intel, 8 x 32 with AVX-512
 *       on AMD, 5 x 16 with AVX2, 8 x 8 with NEON: 24, 16, 10 or 16 accumulators, loaded from C unconditionally so that C2 keeps them in registers) runs over depth slices of
 *       about {@link #KC} and row blocks of {@link #MC} (an MC x KC block of A in L2); with A packed or transposed,
 *       each MR-row block of it (in L1) runs across a group of panels whose KC-deep slices of B stay in L2
 *       ({@link #PANEL_GROUP}), so C is written MR rows at a time across the group.</li>
 * </ul>
 * Column tails use masked loads and stores; row tails four-, three-, two- and one-row kernels. {@code -Dllmkit.scalar=true}
 * switches to the plain triple loop, which is also the reference the tests compare against.
 */
public final class Sgemm {
    private Sgemm() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * Rows of the micro-kernel: 12 (24 accumulators) with AVX-512 on Intel, 8 (16) with AVX-512 on AMD and on other
     * machines with 32 vector registers (AArch64), 5 (10) where there are 16 (AVX2 and older x86). With AVX-512 each
     * row added reuses the two B vectors that stream from L2 once more: on an AVX-512 Xeon (family 6 model 167, 2
     * cores) an 8-row kernel whose B streamed from L2 ran 15% below its in-L1 speed, a 12-row one 8% below, and the
     * tiny preset's training step ran 4-9% faster with 12 rows than with 8 (four alternating pairs; the small preset
     * +7% and -3%). On an AMD Zen 5 (family 26 model 2, 2 cores, a noisy host) 12 rows gained nothing: the tiny
     * preset's step, 8 rows against 12, won 4 of 6 short pairs (20 steps) and tied over 4 longer ones (60 steps:
     * medians 8,352 and 8,309 tokens/s); the small preset's won 3 of 4 pairs (medians 2,406 and 2,302). Zen 4, which
     * splits 512-bit operations in halves, ran 8 rows before 12 existed.
     * With 16 registers 8 rows spill, and so do 6: 12 accumulators, two B vectors and the broadcasts C2 loads
     * ahead exceed 16 registers, and C2 keeps one accumulator on the stack. On a Zen 1 core the packed kernel
     * reached 28.6-28.8 GFLOP/s with 8 rows and 32.6-33.3 with 6; with its data in L1, in alternating runs in
     * one hour, 36.2-39.3 with 5 against 30.3-33.5 with 6 (36 with 6 in an earlier, faster hour). Ten
     * accumulators still cover the FMA's latency: 5 cycles at one 256-bit FMA per cycle there; 4 cycles at two
     * per cycle on Intel's AVX2 cores. {@code -Dllmkit.sgemm.rows=5|6|8|12} chooses (SgemmTest runs all four).
     */
    public static final int MR = Integer.getInteger("llmkit.sgemm.rows", defaultRows());
    /** Whether the kernels run 12 rows, at least 8, at least 6 (constants: C2 drops the other rows' code). */
    private static final boolean TWELVE = MR == 12, EIGHT = MR >= 8, SIX = MR >= 6;
    /** Eight floats: {@link #packA}'s copy of a transposed A's depth step (one copy up to 8 rows, two for 12), where vectors are that wide. */
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    private static final boolean COPY8 = S.vectorBitSize() >= 256;
    public static final int NR = 2 * L, KC = 256, MC = 128 / MR * MR, PACK_PANELS = 4;
    static {
        if (MR != 5 && MR != 6 && MR != 8 && MR != 12) throw new IllegalArgumentException("llmkit.sgemm.rows must be 5, 6, 8 or 12, not " + MR);
    }

    /** 8 rows with AVX-512 on AMD (and Hygon), 12 with it elsewhere, 8 with 32 vector registers (AArch64), 5 with 16 (x86 without AVX-512). */
    private static int defaultRows() {
        String arch = System.getProperty("os.arch", "");
        boolean x86 = arch.equals("amd64") || arch.equals("x86_64") || arch.equals("x86");
        if (!x86) return 8;
        if (S.vectorBitSize() < 512) return 5;
        String vendor = dev.llmkit.core.util.ProcessInfo.cpuVendor();     // "" where /proc/cpuinfo cannot be read: 12
        return vendor.equals("AuthenticAMD") || vendor.equals("HygonGenuine") ? 8 : 12;
    }
    public static final boolean SCALAR = Boolean.getBoolean("llmkit.scalar");
    /** The deepest slice {@link #depthSlice} gives. */
    private static final int MAX_DEPTH = KC + KC / 4;
    /**
     * The depth to which {@link #packWhole} packs an MC-row block of a row-major A at once (384 KB, 375 with 5-row
     * blocks, 378 with 6-row ones, 360 with 12-row ones, within L2 beside the B panels); a deeper A is packed slice by slice, unless its
     * block has rows few enough to fit.
     */
    private static final int WHOLE_DEPTH = 3 * KC;
    /**
     * With a row-major B, a transposed A (aRow == 1) is read in place while its depth steps lie less than this many floats
     * (4 KB) apart, and packed beyond: steps 4 KB apart or more fall into few cache sets and evict each other (the 4096 x
     * 256 x 4096 weight gradient of a 4096-token vocabulary ran at 36 GFLOP/s in place and 53 packed on a Zen 1; at 256 and
     * 688 rows, whose steps are closer, packing gained nothing). With B in panels it is packed whenever it can be; with 12-row
     * kernels (AVX-512) always: on an AVX-512 Xeon, A^T B of depth 4096 ran at 109-123 GFLOP/s on a thread packed against 96-119 in
     * place, at 256, 688 and 768 rows, and the tiny preset's training step 0-4% faster.
     */
    private static final int FAR = TWELVE ? 0 : 1024;
    /** Floats of B's panel slices that one row block of A runs across before the next (512 KB, within L2). */
    private static final int PANEL_GROUP = 128 * 1024;

    /**
     * A long depth (this many slices or more) over a C small enough to stay in L2 runs slice by slice, every row block
     * of a slice before the next slice, so each slice of B is read from memory once rather than once per row block: the
     * classifier's input gradient in the small preset's step (B a 32,000 x 288 W of 37 MB, two row blocks per thread)
     * 251.8-255.6 -> 235.5-240.7 ms (3 alternating profiled runs); the tiny preset's (a 4 MB W) within noise. A block
     * is then never packed whole (the blocks share the scratch).
     */
    private static final int DEPTH_OUTER_SLICES = 8, DEPTH_OUTER_C = 128 * 1024;

    public static int panels(int n) {
        return (n + NR - 1) / NR;
    }

    /** Floats needed to pack a transposed B of n columns and depth k. */
    public static int packedSize(int n, int k) {
        return panels(n) * k * NR;
    }

    /**
     * Packs panels [p0, p1) of B = W^T, with W row-major [n, k] (row stride ldw), into
     * {@code bp[p * k * NR + kk * NR + j]}, zero beyond n.
     */
    public static void packTransposed(float[] w, int wOff, int ldw, int n, int k, float[] bp, int p0, int p1) {
        for (int p = p0; p < p1; p++) {
            int base = p * k * NR, j = 0;
            if (WIDE) {
                // half panels of 16 whole columns (rows of W) in 16 x 16 tiles, the depth's rest float by float
                int deep = k / L * L;
                for (; j < NR && p * NR + j + L <= n; j += L) {
                    int src = wOff + (p * NR + j) * ldw;
                    for (int kk = 0; kk < deep; kk += L) transpose16(w, src + kk, ldw, bp, base + kk * NR + j);
                    for (int r = 0; r < L; r++) {
                        for (int kk = deep; kk < k; kk++) bp[base + kk * NR + j + r] = w[src + r * ldw + kk];
                    }
                }
            }
            for (; j < NR; j++) {
                int col = p * NR + j;
                if (col < n) {
                    int src = wOff + col * ldw;
                    for (int kk = 0; kk < k; kk++) bp[base + kk * NR + j] = w[src + kk];
                } else {
                    for (int kk = 0; kk < k; kk++) bp[base + kk * NR + j] = 0f;
                }
            }
        }
    }

    /** Whether {@link #packTransposed} runs 16 x 16 tiles ({@link #transpose16}): 16-float vectors (AVX-512). */
    private static final boolean WIDE = L == 16 && !SCALAR;
    /**
     * The even and the odd floats of two vectors' 32: four rounds of these two selections transpose 16 vectors (round s
     * pairs the vectors whose index differs in bit s). Constants, so that C2 compiling without a profile knows their class.
     */
    private static final FloatVector TILE_EVEN = unzip(0), TILE_ODD = unzip(1);

    private static FloatVector unzip(int odd) {
        float[] index = new float[L];
        for (int i = 0; i < L; i++) index[i] = 2 * i + odd;
        return FloatVector.fromArray(S, index, 0);
    }

    /**
     * Writes W's 16 x 16 tile from w[src] (row stride ldw) transposed: its column d (16 floats, one per row) at bp[o + d * NR].
     * 64 two-vector selections (vpermt2ps) where a float-by-float copy ran 256 loads and stores, reading W 16 rows apart.
     */
    private static void transpose16(float[] w, int src, int ldw, float[] bp, int o) {
        FloatVector v0 = FloatVector.fromArray(S, w, src), v1 = FloatVector.fromArray(S, w, src + ldw);
        FloatVector v2 = FloatVector.fromArray(S, w, src + 2 * ldw), v3 = FloatVector.fromArray(S, w, src + 3 * ldw);
        FloatVector v4 = FloatVector.fromArray(S, w, src + 4 * ldw), v5 = FloatVector.fromArray(S, w, src + 5 * ldw);
        FloatVector v6 = FloatVector.fromArray(S, w, src + 6 * ldw), v7 = FloatVector.fromArray(S, w, src + 7 * ldw);
        FloatVector v8 = FloatVector.fromArray(S, w, src + 8 * ldw), v9 = FloatVector.fromArray(S, w, src + 9 * ldw);
        FloatVector v10 = FloatVector.fromArray(S, w, src + 10 * ldw), v11 = FloatVector.fromArray(S, w, src + 11 * ldw);
        FloatVector v12 = FloatVector.fromArray(S, w, src + 12 * ldw), v13 = FloatVector.fromArray(S, w, src + 13 * ldw);
        FloatVector v14 = FloatVector.fromArray(S, w, src + 14 * ldw), v15 = FloatVector.fromArray(S, w, src + 15 * ldw);
        FloatVector even = TILE_EVEN, odd = TILE_ODD, t;
        t = even.selectFrom(v0, v1); v1 = odd.selectFrom(v0, v1); v0 = t; t = even.selectFrom(v2, v3); v3 = odd.selectFrom(v2, v3); v2 = t;
        t = even.selectFrom(v4, v5); v5 = odd.selectFrom(v4, v5); v4 = t; t = even.selectFrom(v6, v7); v7 = odd.selectFrom(v6, v7); v6 = t;
        t = even.selectFrom(v8, v9); v9 = odd.selectFrom(v8, v9); v8 = t; t = even.selectFrom(v10, v11); v11 = odd.selectFrom(v10, v11); v10 = t;
        t = even.selectFrom(v12, v13); v13 = odd.selectFrom(v12, v13); v12 = t; t = even.selectFrom(v14, v15); v15 = odd.selectFrom(v14, v15); v14 = t;
        t = even.selectFrom(v0, v2); v2 = odd.selectFrom(v0, v2); v0 = t; t = even.selectFrom(v1, v3); v3 = odd.selectFrom(v1, v3); v1 = t;
        t = even.selectFrom(v4, v6); v6 = odd.selectFrom(v4, v6); v4 = t; t = even.selectFrom(v5, v7); v7 = odd.selectFrom(v5, v7); v5 = t;
        t = even.selectFrom(v8, v10); v10 = odd.selectFrom(v8, v10); v8 = t; t = even.selectFrom(v9, v11); v11 = odd.selectFrom(v9, v11); v9 = t;
        t = even.selectFrom(v12, v14); v14 = odd.selectFrom(v12, v14); v12 = t; t = even.selectFrom(v13, v15); v15 = odd.selectFrom(v13, v15); v13 = t;
        t = even.selectFrom(v0, v4); v4 = odd.selectFrom(v0, v4); v0 = t; t = even.selectFrom(v1, v5); v5 = odd.selectFrom(v1, v5); v1 = t;
        t = even.selectFrom(v2, v6); v6 = odd.selectFrom(v2, v6); v2 = t; t = even.selectFrom(v3, v7); v7 = odd.selectFrom(v3, v7); v3 = t;
        t = even.selectFrom(v8, v12); v12 = odd.selectFrom(v8, v12); v8 = t; t = even.selectFrom(v9, v13); v13 = odd.selectFrom(v9, v13); v9 = t;
        t = even.selectFrom(v10, v14); v14 = odd.selectFrom(v10, v14); v10 = t; t = even.selectFrom(v11, v15); v15 = odd.selectFrom(v11, v15); v11 = t;
        t = even.selectFrom(v0, v8); v8 = odd.selectFrom(v0, v8); v0 = t; t = even.selectFrom(v1, v9); v9 = odd.selectFrom(v1, v9); v1 = t;
        t = even.selectFrom(v2, v10); v10 = odd.selectFrom(v2, v10); v2 = t; t = even.selectFrom(v3, v11); v11 = odd.selectFrom(v3, v11); v3 = t;
        t = even.selectFrom(v4, v12); v12 = odd.selectFrom(v4, v12); v4 = t; t = even.selectFrom(v5, v13); v13 = odd.selectFrom(v5, v13); v5 = t;
        t = even.selectFrom(v6, v14); v14 = odd.selectFrom(v6, v14); v6 = t; t = even.selectFrom(v7, v15); v15 = odd.selectFrom(v7, v15); v7 = t;
        v0.intoArray(bp, o);
        v1.intoArray(bp, o + NR);
        v2.intoArray(bp, o + 2 * NR);
        v3.intoArray(bp, o + 3 * NR);
        v4.intoArray(bp, o + 4 * NR);
        v5.intoArray(bp, o + 5 * NR);
        v6.intoArray(bp, o + 6 * NR);
        v7.intoArray(bp, o + 7 * NR);
        v8.intoArray(bp, o + 8 * NR);
        v9.intoArray(bp, o + 9 * NR);
        v10.intoArray(bp, o + 10 * NR);
        v11.intoArray(bp, o + 11 * NR);
        v12.intoArray(bp, o + 12 * NR);
        v13.intoArray(bp, o + 13 * NR);
        v14.intoArray(bp, o + 14 * NR);
        v15.intoArray(bp, o + 15 * NR);
    }

    /**
     * Packs a row-major B [k, n] (row stride ldb) into panels, {@code bp[p * k * NR + kk * NR + j] = B(kk, p * NR + j)},
     * zero beyond n (read it with bRow = NR, bPanel = k * NR): a B whose rows lie far apart in memory is then
     * read as one sequential stream.
     */
    public static void packPanels(float[] b, int bOff, int ldb, int k, int n, float[] bp) {
        packPanels(b, bOff, ldb, k, n, bp, 0, panels(n));
    }

    /** {@link #packPanels(float[], int, int, int, int, float[])} for panels [p0, p1) only (threads split the panels). */
    public static void packPanels(float[] b, int bOff, int ldb, int k, int n, float[] bp, int p0, int p1) {
        // full panels B row by row, all of them per row: B is read as one stream (one per thread) rather than a short
        // piece of every row per panel (half the panels of a 4096 x 768 B, just written: 0.56-0.60 ms instead of 0.67-0.71)
        int full = SCALAR ? p0 : Math.max(p0, Math.min(p1, n / NR));
        if (full > p0) {
            for (int kk = 0; kk < k; kk++) {
                int src = bOff + kk * ldb + p0 * NR, dst = p0 * k * NR + kk * NR;
                for (int p = p0; p < full; p++, src += NR, dst += k * NR) {     // two vector moves: cheaper than an arraycopy call
                    FloatVector.fromArray(S, b, src).intoArray(bp, dst);
                    FloatVector.fromArray(S, b, src + L).intoArray(bp, dst + L);
                }
            }
        }
        for (int p = full; p < p1; p++) {
            int width = Math.min(NR, n - p * NR), base = p * k * NR;
            for (int kk = 0; kk < k; kk++) {
                int src = bOff + kk * ldb + p * NR, dst = base + kk * NR;
                System.arraycopy(b, src, bp, dst, width);
                java.util.Arrays.fill(bp, dst + width, dst + NR, 0f);
            }
        }
    }

    /**
     * Rows [i0, i1) of C: {@code C[i, j] = (accumulate ? C[i, j] : 0) + sum_p A(i, p) B(p, j)} for j in [0, n).
     */
    public static void rows(int i0, int i1, int n, int k,
                            float[] a, int aOff, int aRow, int aCol,
                            float[] b, int bOff, int bRow, int bPanel,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        rows(i0, i1, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bPanel, c, cOff, ldc, accumulate, null);
    }

    /**
     * Scratch for {@link #rows} with A packing: one per thread. It holds an MC-row block of A of depth up to
     * {@link #WHOLE_DEPTH}, all of its depth slices (see {@link #packWhole}).
     */
    public static float[] packScratch() {
        return new float[MC * WHOLE_DEPTH];
    }

    /**
     * The depth of one slice: all of k up to 1.25 KC (288 = 256 + 32 would spend a whole C load and
     * store on 32 steps), else k split evenly into slices of at most KC. Every element of C still sums
     * its products in index order, so the slicing never changes a result.
     */
    static int depthSlice(int k) {
        if (k <= MAX_DEPTH) return Math.max(1, k);
        int slices = (k + KC - 1) / KC;
        return (k + slices - 1) / slices;
    }

    /**
     * {@link #rows} with a scratch of {@link #packScratch()} floats: when C is at least
     * {@link #PACK_PANELS} panels wide, each MC-row block of A is first packed MR-interleaved, slice by
     * slice or, for a row-major A whose rows lie end to end and fit, every slice at once ({@link #packWhole}),
     * so the micro-kernel reads its MR values per depth step from one place (C2 then checks bounds once).
     */
    public static void rows(int i0, int i1, int n, int k,
                            float[] a, int aOff, int aRow, int aCol,
                            float[] b, int bOff, int bRow, int bPanel,
                            float[] c, int cOff, int ldc, boolean accumulate, float[] ap) {
        rows(i0, i1, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bPanel, c, cOff, ldc, accumulate, ap, -1);
    }

    /** Floats of an A of m rows and depth k packed by {@link #packRows}. */
    public static int packedRowsSize(int m, int k) {
        return m / MR * MR * k;
    }

    /**
     * Packs the whole rows [r0, r1) (multiples of MR, below m / MR * MR) of an A of m rows and depth k,
     * every depth slice, for {@link #rowsPrepacked}: threads that split C by columns then share one
     * packing instead of each packing all of A.
     */
    public static void packRows(float[] a, int aOff, int aRow, int aCol, int m, int k, int r0, int r1, float[] ap) {
        int full = m / MR * MR, depth = depthSlice(k);
        for (int kb = 0; kb < k; kb += depth) {
            int kc = Math.min(depth, k - kb);
            packA(a, aOff + kb * aCol, aRow, aCol, r0, r1, kc, ap, kb * full + r0 * kc);
        }
    }

    /**
     * {@link #rows} for rows [0, m) with A already packed by {@link #packRows} into {@code ap}; the
     * m % MR last rows are read from {@code a}. Equal, element for element, to {@link #rows}.
     */
    public static void rowsPrepacked(int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] ap,
                                     float[] b, int bOff, int bRow, int bPanel,
                                     float[] c, int cOff, int ldc, boolean accumulate) {
        rows(0, m, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bPanel, c, cOff, ldc, accumulate, ap, m / MR * MR);
    }

    /** {@link #rows}; with prepackedRows >= 0, ap holds A rows [0, prepackedRows) from {@link #packRows}. */
    private static void rows(int i0, int i1, int n, int k,
                             float[] a, int aOff, int aRow, int aCol,
                             float[] b, int bOff, int bRow, int bPanel,
                             float[] c, int cOff, int ldc, boolean accumulate, float[] ap, int prepackedRows) {
        if (k == 0 || i0 >= i1 || SCALAR) {
            if (!accumulate) for (int i = i0; i < i1; i++) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            if (k > 0 && SCALAR) scalar(i0, i1, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bPanel, c, cOff, ldc);
            return;
        }
        int np = panels(n), depth = depthSlice(k);
        int blocks = (i1 - i0 + MC - 1) / MC, slices = (k + depth - 1) / depth;
        boolean depthOuter = blocks > 1 && slices >= DEPTH_OUTER_SLICES && (long) (i1 - i0) * n <= DEPTH_OUTER_C;
        for (int s = 0; s < blocks * slices; s++) {
            int ic = i0 + (depthOuter ? s % blocks : s / slices) * MC, kb = (depthOuter ? s / blocks : s % slices) * depth;
            int ie = Math.min(i1, ic + MC), full = ic + (ie - ic) / MR * MR;
            int kc = Math.min(depth, k - kb);
            // A packed when enough panels reuse the packing, else read in place: MR-row blocks of a transposed A
            // (aRow == 1) have their MR values of a depth step consecutive, as packed ones do, the others go to the
            // strided kernel. With B in panels a transposed A is packed too, for the constant-stride kernels (a
            // training step 1-3% faster on a Zen 1); with a row-major B only when its depth steps lie FAR or more apart
            boolean prepacked = prepackedRows >= 0;
            boolean packable = ap != null && np >= PACK_PANELS && full > ic;
            boolean contiguous = !prepacked && aRow == 1 && (!packable || bRow != NR && aCol < FAR), packed = prepacked || !contiguous && packable;
            // a block of whole rows lying end to end is packed at once, every slice, reading one sequential stream
            boolean whole = packed && !prepacked && !depthOuter && aCol == 1 && aRow == k && (full - ic) * k <= ap.length;
            int apOff = prepacked ? kb * prepackedRows + ic * kc : whole ? kb * (full - ic) : 0;
            if (whole) {
                if (kb == 0) packWhole(a, aOff, ic, full, k, depth, ap);
            } else if (packed && !prepacked) {
                packA(a, aOff + kb * aCol, aRow, aCol, ic, full, kc, ap, 0);
            }
            // the first slice of a product that overwrites C starts the packed kernel from zero (C is neither
            // cleared beforehand nor read: two of C's three passes through memory); the other kernels get C cleared
            // first (a data-dependent start costs the strided kernel 15%)
            boolean fresh = !accumulate && kb == 0;
            // A's MR values per depth step consecutive (packed, or A transposed): row block by row block, each across a
            // group of full panels whose B slices stay in L2, so C is written MR whole rows of the group at a time
            // rather than one panel's NR columns down all MC rows (a short piece of every row, per panel)
            boolean tiled = packed || contiguous;
            if (tiled) {
                int fullPanels = n / NR, group = Math.max(1, PANEL_GROUP / (kc * NR));
                float[] av = packed ? ap : a;
                int aStep = packed ? MR : aCol;
                boolean fixed = aStep == MR && bRow == NR;
                for (int pc = 0; pc < fullPanels; pc += group) {
                    int pe = Math.min(fullPanels, pc + group);
                    for (int i = ic; i < full; i += MR) {
                        int ao = packed ? apOff + (i - ic) * kc : aOff + i + kb * aCol;
                        for (int p = pc; p < pe; p++) {
                            int bo = bOff + p * bPanel + kb * bRow, co = cOff + i * ldc + p * NR;
                            if (fixed) {
                                if (fresh) kernelPackedZeroFixed(av, ao, b, bo, c, co, ldc, kc);
                                else kernelPackedFixed(av, ao, b, bo, c, co, ldc, kc);
                            } else if (fresh) {
                                kernelPackedZero(av, ao, aStep, b, bo, bRow, c, co, ldc, kc);
                            } else {
                                kernelPacked(av, ao, aStep, b, bo, bRow, c, co, ldc, kc);
                            }
                        }
                    }
                }
            }
            for (int p = 0; p < np; p++) {
                int bo = bOff + p * bPanel + kb * bRow, width = Math.min(NR, n - p * NR);
                // a partial panel's masks only where a masked kernel runs: made for every panel they took 1.9% of a
                // tiny-preset training step, in attention's half panels (48-key blocks), which need none (a static
                // table of them would leave C2 compiling without a profile unable to type them)
                VectorMask<Float> m0 = null, m1 = null;
                int i = tiled && width == NR ? full : ic;     // the full rows of full panels are done above
                if (fresh) clear(c, cOff + p * NR, ldc, i, ie, width);
                if (width == NR && !tiled) {
                    for (; i + MR <= ie; i += MR) {
                        kernel(a, aOff + i * aRow + kb * aCol, aRow, aCol, b, bo, bRow, c, cOff + i * ldc + p * NR, ldc, kc);
                    }
                } else if (width == L) {
                    for (; i + MR <= ie; i += MR) {
                        kernelHalf(a, aOff + i * aRow + kb * aCol, aRow, aCol, b, bo, bRow, c, cOff + i * ldc + p * NR, ldc, kc);
                    }
                } else if (width < NR) {
                    if (i + MR <= ie) { m0 = S.indexInRange(0, width); m1 = S.indexInRange(L, width); }
                    for (; i + MR <= ie; i += MR) {
                        kernelMasked(a, aOff + i * aRow + kb * aCol, aRow, aCol, b, bo, bRow, c, cOff + i * ldc + p * NR, ldc, kc, m0, m1);
                    }
                }
                // the rows below a whole block: of a full panel four at a time (each B load feeds four rows), then the
                // last three, two or one together (one row's two accumulators leave the FMA's latency uncovered), without
                // masks (AVX2 has no mask registers: C2 leaves masked operations there to the Vector API's slow Java
                // fallback); of a partial panel one by one, masked
                if (width == NR) {
                    for (; i + 4 <= ie; i += 4) four(a, aOff + i * aRow + kb * aCol, aRow, aCol, b, bo, bRow, c, cOff + i * ldc + p * NR, ldc, kc);
                    if (i + 3 == ie) three(a, aOff + i * aRow + kb * aCol, aRow, aCol, b, bo, bRow, c, cOff + i * ldc + p * NR, ldc, kc);
                    else if (i + 2 == ie) two(a, aOff + i * aRow + kb * aCol, aRow, aCol, b, bo, bRow, c, cOff + i * ldc + p * NR, ldc, kc);
                    else if (i < ie) row(a, aOff + i * aRow + kb * aCol, aCol, b, bo, bRow, c, cOff + i * ldc + p * NR, kc);
                } else if (i < ie) {
                    if (m0 == null) { m0 = S.indexInRange(0, width); m1 = S.indexInRange(L, width); }
                    for (; i < ie; i++) row(a, aOff + i * aRow + kb * aCol, aCol, b, bo, bRow, c, cOff + i * ldc + p * NR, kc, m0, m1);
                }
            }
        }
    }

    private static void kernel(float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow,
                               float[] c, int cOff, int ldc, int kc) {
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc, o6 = o5 + ldc, o7 = o6 + ldc, o8 = o7 + ldc, o9 = o8 + ldc, o10 = o9 + ldc, o11 = o10 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, o0), c01 = FloatVector.fromArray(S, c, o0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, o1), c11 = FloatVector.fromArray(S, c, o1 + L);
        FloatVector c20 = FloatVector.fromArray(S, c, o2), c21 = FloatVector.fromArray(S, c, o2 + L);
        FloatVector c30 = FloatVector.fromArray(S, c, o3), c31 = FloatVector.fromArray(S, c, o3 + L);
        FloatVector c40 = FloatVector.fromArray(S, c, o4), c41 = FloatVector.fromArray(S, c, o4 + L);
        FloatVector c50 = SIX ? FloatVector.fromArray(S, c, o5) : null, c51 = SIX ? FloatVector.fromArray(S, c, o5 + L) : null;
        FloatVector c60 = null, c61 = null, c70 = null, c71 = null;
        if (EIGHT) {
            c60 = FloatVector.fromArray(S, c, o6); c61 = FloatVector.fromArray(S, c, o6 + L);
            c70 = FloatVector.fromArray(S, c, o7); c71 = FloatVector.fromArray(S, c, o7 + L);
        }
        FloatVector c80 = null, c81 = null, c90 = null, c91 = null, cA0 = null, cA1 = null, cB0 = null, cB1 = null;
        if (TWELVE) {
            c80 = FloatVector.fromArray(S, c, o8); c81 = FloatVector.fromArray(S, c, o8 + L);
            c90 = FloatVector.fromArray(S, c, o9); c91 = FloatVector.fromArray(S, c, o9 + L);
            cA0 = FloatVector.fromArray(S, c, o10); cA1 = FloatVector.fromArray(S, c, o10 + L);
            cB0 = FloatVector.fromArray(S, c, o11); cB1 = FloatVector.fromArray(S, c, o11 + L);
        }
        int r1 = aRow, r2 = 2 * aRow, r3 = 3 * aRow, r4 = 4 * aRow, r5 = 5 * aRow, r6 = 6 * aRow, r7 = 7 * aRow, r8 = 8 * aRow, r9 = 9 * aRow, r10 = 10 * aRow, r11 = 11 * aRow;
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * bRow, ao = aOff + kk * aCol;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector av;
            av = FloatVector.broadcast(S, a[ao]);      c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[ao + r1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[ao + r2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[ao + r3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, a[ao + r4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            if (SIX) { av = FloatVector.broadcast(S, a[ao + r5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51); }
            if (EIGHT) {
                av = FloatVector.broadcast(S, a[ao + r6]); c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
                av = FloatVector.broadcast(S, a[ao + r7]); c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
            }
            if (TWELVE) {
                av = FloatVector.broadcast(S, a[ao + r8]); c80 = av.fma(b0, c80); c81 = av.fma(b1, c81);
                av = FloatVector.broadcast(S, a[ao + r9]); c90 = av.fma(b0, c90); c91 = av.fma(b1, c91);
                av = FloatVector.broadcast(S, a[ao + r10]); cA0 = av.fma(b0, cA0); cA1 = av.fma(b1, cA1);
                av = FloatVector.broadcast(S, a[ao + r11]); cB0 = av.fma(b0, cB0); cB1 = av.fma(b1, cB1);
            }
        }
        c00.intoArray(c, o0); c01.intoArray(c, o0 + L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L);
        c20.intoArray(c, o2); c21.intoArray(c, o2 + L);
        c30.intoArray(c, o3); c31.intoArray(c, o3 + L);
        c40.intoArray(c, o4); c41.intoArray(c, o4 + L);
        if (SIX) { c50.intoArray(c, o5); c51.intoArray(c, o5 + L); }
        if (EIGHT) {
            c60.intoArray(c, o6); c61.intoArray(c, o6 + L);
            c70.intoArray(c, o7); c71.intoArray(c, o7 + L);
        }
        if (TWELVE) {
            c80.intoArray(c, o8); c81.intoArray(c, o8 + L);
            c90.intoArray(c, o9); c91.intoArray(c, o9 + L);
            cA0.intoArray(c, o10); cA1.intoArray(c, o10 + L);
            cB0.intoArray(c, o11); cB1.intoArray(c, o11 + L);
        }
    }

    /** Zeroes columns [cOff, cOff + width) of rows [r0, r1) of C. */
    private static void clear(float[] c, int cOff, int ldc, int r0, int r1, int width) {
        for (int i = r0; i < r1; i++) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + width, 0f);
    }

    /** Packs rows [i0, i1) (a multiple of MR) and depth [0, kc) of A (from a[aOff]) as [blocks][kc][MR] from ap[apOff]. */
    private static void packA(float[] a, int aOff, int aRow, int aCol, int i0, int i1, int kc, float[] ap, int apOff) {
        if (aRow == 1 && TWELVE && COPY8) {
            // A transposed, twelve values a step: floats [0, 8) and [4, 12), both within the step's own; depth step by
            // depth step, so that A is read a whole run of the block's rows at a time (a row of A per depth step, far
            // apart: block by block, the 4096-row A^T B of a tiny preset's vocabulary ran at 100 GFLOP/s on a thread, 115 so)
            int step = kc * MR;
            for (int kk = 0; kk < kc; kk++) {
                int src = aOff + i0 + kk * aCol;
                for (int i = i0, o = apOff + kk * MR; i < i1; i += MR, o += step, src += MR) {
                    FloatVector.fromArray(S8, a, src).intoArray(ap, o);
                    FloatVector.fromArray(S8, a, src + 4).intoArray(ap, o + 4);
                }
            }
            return;
        }
        for (int i = i0; i < i1; i += MR) {
            int base = apOff + (i - i0) * kc;
            if (aRow == 1) {
                // A transposed: each depth step's MR values are consecutive. Copied 8 at a time (MR <= 8: 12 above), each copy
                // also writing the next step's first 8 - MR slots, which the next copy overwrites; the last step's
                // copy is exact, as is any whose 8 floats would read past A's array (a guard: with A's steps at least
                // MR apart, the second last step's 8 floats end within the last step's MR). System.arraycopy of 6
                // floats per step had packA at 3% of the tiny preset's training step, in its weight-gradient products.
                int src = aOff + i, kEnd = COPY8 ? kc - 1 : 0;
                while (kEnd > 0 && src + (kEnd - 1) * aCol + 8 > a.length) kEnd--;
                int kk = 0;
                for (; kk < kEnd; kk++) FloatVector.fromArray(S8, a, src + kk * aCol).intoArray(ap, base + kk * MR);
                for (; kk < kc; kk++) System.arraycopy(a, src + kk * aCol, ap, base + kk * MR, MR);
            } else if (TILES && aCol == 1) {
                packTiles(a, aOff + i * aRow, aRow, kc, ap, base);
            } else {
                // MR row streams read in step, each depth step written as MR consecutive floats
                int s0 = aOff + i * aRow, s1 = s0 + aRow, s2 = s1 + aRow, s3 = s2 + aRow, s4 = s3 + aRow, s5 = s4 + aRow, s6 = s5 + aRow, s7 = s6 + aRow;
                int s8 = s7 + aRow, s9 = s8 + aRow, s10 = s9 + aRow, s11 = s10 + aRow;
                for (int kk = 0, o = base, src = 0; kk < kc; kk++, o += MR, src += aCol) {
                    ap[o] = a[s0 + src]; ap[o + 1] = a[s1 + src]; ap[o + 2] = a[s2 + src]; ap[o + 3] = a[s3 + src];
                    ap[o + 4] = a[s4 + src];
                    if (SIX) ap[o + 5] = a[s5 + src];
                    if (EIGHT) { ap[o + 6] = a[s6 + src]; ap[o + 7] = a[s7 + src]; }
                    if (TWELVE) { ap[o + 8] = a[s8 + src]; ap[o + 9] = a[s9 + src]; ap[o + 10] = a[s10 + src]; ap[o + 11] = a[s11 + src]; }
                }
            }
        }
    }

    /**
     * Packs rows [i0, i1) (a multiple of MR) of a row-major A whose rows lie end to end (row stride k), every
     * depth slice, as {@link #packA} packs a slice (slice kb at ap[kb * (i1 - i0)]), but reading A row by row: one
     * sequential stream, which the hardware prefetches, where packA reads MR streams of one slice's length.
     * Timed in the tiny preset's training step, the 4096 x 256 x 256 products ran 4-6% faster, those of depth 768 1-6%.
     */
    private static void packWhole(float[] a, int aOff, int i0, int i1, int k, int depth, float[] ap) {
        int rows = i1 - i0;
        if (TILES) {
            // eight rows at a time, slice by slice: the same floats in the same places
            for (int i = i0; i < i1; i += MR) {
                for (int kb = 0; kb < k; kb += depth) {
                    int kc = Math.min(depth, k - kb);
                    packTiles(a, aOff + i * k + kb, k, kc, ap, kb * rows + (i - i0) * kc);
                }
            }
            return;
        }
        for (int i = i0; i < i1; i += MR) {
            for (int r = 0; r < MR; r++) {
                int src = aOff + (i + r) * k;
                for (int kb = 0; kb < k; kb += depth) {
                    int kc = Math.min(depth, k - kb);
                    for (int kk = 0, o = kb * rows + (i - i0) * kc + r; kk < kc; kk++, o += MR) ap[o] = a[src + kb + kk];
                }
            }
        }
    }

    /**
     * Whether row-major A is packed by {@link #transposeTile}: 8-row blocks with 16-float vectors (AVX-512 on AMD). Packed
     * lane by lane, the row-major A of the tiny preset's training step (4096 rows) took 4-5.5% of the step on a Zen 5 (timed
     * by skipping it); in tiles, in four alternating profiled steps each, the gate|up input gradient took 36-38 ms instead
     * of 40-41.5, the classifier's input gradient 23-24 instead of 25.5-28, the down product 19-20.5 instead of 20.3-21.2.
     */
    private static final boolean TILES = MR == 8 && L == 16 && !SCALAR;

    /**
     * Packs depth [0, kc) of the 8 rows of a row-major A from a[src] (row stride aRow) as kc x 8 consecutive floats from
     * ap[o]: 16 depth steps at a time by {@link #transposeTile}, the rest float by float.
     */
    private static void packTiles(float[] a, int src, int aRow, int kc, float[] ap, int o) {
        int kk = 0;
        for (; kk + L <= kc; kk += L) transposeTile(a, src + kk, aRow, ap, o + kk * MR);
        for (int r = 0; r < MR; r++) {
            for (int t = kk, d = o + kk * MR + r; t < kc; t++, d += MR) ap[d] = a[src + r * aRow + t];
        }
    }

    /**
     * {@link #transposeTile}'s three rounds of two-vector selections, two index vectors a round (the lower and the upper
     * half of the pair's 32 floats): round s pairs vectors whose index differs in bit s, and sorts into the first of the
     * pair the floats whose depth has bit s + 1 clear. Built by following each float's (row, depth) through the rounds.
     */
    private static final float[] TILE_INDEX = tileIndex();
    /**
     * The rounds' index vectors as constants: C2 then knows their class where it compiles without a profile (the engine's
     * compiling ahead); loaded from the array in the method, its calls on them stayed virtual, the Vector API's Java code.
     */
    private static final FloatVector TILE_LO0 = tileVector(0), TILE_HI0 = tileVector(1), TILE_LO1 = tileVector(2),
            TILE_HI1 = tileVector(3), TILE_LO2 = tileVector(4), TILE_HI2 = tileVector(5);

    private static FloatVector tileVector(int i) {
        return TILES ? FloatVector.fromArray(S, TILE_INDEX, 16 * i) : FloatVector.zero(S);
    }

    private static float[] tileIndex() {
        float[] index = new float[6 * 16];
        int[][] v = new int[8][16];                            // v[x][lane] = row * 16 + depth
        for (int x = 0; x < 8; x++) for (int j = 0; j < 16; j++) v[x][j] = x * 16 + j;
        for (int s = 0; s < 3; s++) {
            int bit = 1 << s;
            int[][] next = new int[8][];
            for (int x = 0; x < 8; x++) {
                if ((x & bit) != 0) continue;
                int[] both = new int[32];
                System.arraycopy(v[x], 0, both, 0, 16);
                System.arraycopy(v[x | bit], 0, both, 16, 16);
                for (int half = 0; half < 2; half++) {
                    // the floats whose depth has bit s + 1 equal to half, in order: (row, depth) until the last round, which
                    // leaves a vector's two depth steps one after the other, rows in order within each
                    final int h = half, round = s;
                    Integer[] pick = java.util.stream.IntStream.range(0, 32).filter(q -> ((both[q] & 15) >> (round + 1) & 1) == h)
                            .boxed().sorted(java.util.Comparator.comparingInt(q -> round < 2 ? both[q] : (both[q] & 1) * 8 + (both[q] >> 4)))
                            .toArray(Integer[]::new);
                    int[] out = new int[16];
                    for (int t = 0; t < 16; t++) {
                        out[t] = both[pick[t]];
                        float want = pick[t];
                        if (x != 0 && index[(2 * s + half) * 16 + t] != want) throw new IllegalStateException("tile rounds differ");
                        index[(2 * s + half) * 16 + t] = want;
                    }
                    next[x | half * bit] = out;
                }
            }
            v = next;
        }
        return index;
    }

    /**
     * Packs 16 depth steps of 8 rows of A (row stride aRow, from a[src]) as 16 x 8 consecutive floats from ap[o]: the
     * 8 x 16 tile transposed in three rounds of two-vector selections (vpermt2ps), 24 selections where the scalar copy
     * ran 128 loads and 128 stores.
     */
    private static void transposeTile(float[] a, int src, int aRow, float[] ap, int o) {
        FloatVector r0 = FloatVector.fromArray(S, a, src), r1 = FloatVector.fromArray(S, a, src + aRow);
        FloatVector r2 = FloatVector.fromArray(S, a, src + 2 * aRow), r3 = FloatVector.fromArray(S, a, src + 3 * aRow);
        FloatVector r4 = FloatVector.fromArray(S, a, src + 4 * aRow), r5 = FloatVector.fromArray(S, a, src + 5 * aRow);
        FloatVector r6 = FloatVector.fromArray(S, a, src + 6 * aRow), r7 = FloatVector.fromArray(S, a, src + 7 * aRow);
        FloatVector lo = TILE_LO0, hi = TILE_HI0;
        FloatVector s0 = lo.selectFrom(r0, r1), s1 = hi.selectFrom(r0, r1), s2 = lo.selectFrom(r2, r3), s3 = hi.selectFrom(r2, r3);
        FloatVector s4 = lo.selectFrom(r4, r5), s5 = hi.selectFrom(r4, r5), s6 = lo.selectFrom(r6, r7), s7 = hi.selectFrom(r6, r7);
        lo = TILE_LO1;
        hi = TILE_HI1;
        FloatVector t0 = lo.selectFrom(s0, s2), t2 = hi.selectFrom(s0, s2), t1 = lo.selectFrom(s1, s3), t3 = hi.selectFrom(s1, s3);
        FloatVector t4 = lo.selectFrom(s4, s6), t6 = hi.selectFrom(s4, s6), t5 = lo.selectFrom(s5, s7), t7 = hi.selectFrom(s5, s7);
        lo = TILE_LO2;
        hi = TILE_HI2;
        lo.selectFrom(t0, t4).intoArray(ap, o);
        lo.selectFrom(t1, t5).intoArray(ap, o + 16);
        lo.selectFrom(t2, t6).intoArray(ap, o + 32);
        lo.selectFrom(t3, t7).intoArray(ap, o + 48);
        hi.selectFrom(t0, t4).intoArray(ap, o + 64);
        hi.selectFrom(t1, t5).intoArray(ap, o + 80);
        hi.selectFrom(t2, t6).intoArray(ap, o + 96);
        hi.selectFrom(t3, t7).intoArray(ap, o + 112);
    }

    /** {@link #kernel} where A's MR values of a depth step are consecutive (packed, or A transposed); steps aStep apart. */
    private static void kernelPacked(float[] a, int aOff, int aStep, float[] b, int bOff, int bRow,
                               float[] c, int cOff, int ldc, int kc) {
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc, o6 = o5 + ldc, o7 = o6 + ldc, o8 = o7 + ldc, o9 = o8 + ldc, o10 = o9 + ldc, o11 = o10 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, o0), c01 = FloatVector.fromArray(S, c, o0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, o1), c11 = FloatVector.fromArray(S, c, o1 + L);
        FloatVector c20 = FloatVector.fromArray(S, c, o2), c21 = FloatVector.fromArray(S, c, o2 + L);
        FloatVector c30 = FloatVector.fromArray(S, c, o3), c31 = FloatVector.fromArray(S, c, o3 + L);
        FloatVector c40 = FloatVector.fromArray(S, c, o4), c41 = FloatVector.fromArray(S, c, o4 + L);
        FloatVector c50 = SIX ? FloatVector.fromArray(S, c, o5) : null, c51 = SIX ? FloatVector.fromArray(S, c, o5 + L) : null;
        FloatVector c60 = null, c61 = null, c70 = null, c71 = null;
        if (EIGHT) {
            c60 = FloatVector.fromArray(S, c, o6); c61 = FloatVector.fromArray(S, c, o6 + L);
            c70 = FloatVector.fromArray(S, c, o7); c71 = FloatVector.fromArray(S, c, o7 + L);
        }
        FloatVector c80 = null, c81 = null, c90 = null, c91 = null, cA0 = null, cA1 = null, cB0 = null, cB1 = null;
        if (TWELVE) {
            c80 = FloatVector.fromArray(S, c, o8); c81 = FloatVector.fromArray(S, c, o8 + L);
            c90 = FloatVector.fromArray(S, c, o9); c91 = FloatVector.fromArray(S, c, o9 + L);
            cA0 = FloatVector.fromArray(S, c, o10); cA1 = FloatVector.fromArray(S, c, o10 + L);
            cB0 = FloatVector.fromArray(S, c, o11); cB1 = FloatVector.fromArray(S, c, o11 + L);
        }
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * bRow, ao = aOff + kk * aStep;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector av;
            av = FloatVector.broadcast(S, a[ao]);      c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[ao + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[ao + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[ao + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, a[ao + 4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            if (SIX) { av = FloatVector.broadcast(S, a[ao + 5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51); }
            if (EIGHT) {
                av = FloatVector.broadcast(S, a[ao + 6]); c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
                av = FloatVector.broadcast(S, a[ao + 7]); c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
            }
            if (TWELVE) {
                av = FloatVector.broadcast(S, a[ao + 8]); c80 = av.fma(b0, c80); c81 = av.fma(b1, c81);
                av = FloatVector.broadcast(S, a[ao + 9]); c90 = av.fma(b0, c90); c91 = av.fma(b1, c91);
                av = FloatVector.broadcast(S, a[ao + 10]); cA0 = av.fma(b0, cA0); cA1 = av.fma(b1, cA1);
                av = FloatVector.broadcast(S, a[ao + 11]); cB0 = av.fma(b0, cB0); cB1 = av.fma(b1, cB1);
            }
        }
        c00.intoArray(c, o0); c01.intoArray(c, o0 + L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L);
        c20.intoArray(c, o2); c21.intoArray(c, o2 + L);
        c30.intoArray(c, o3); c31.intoArray(c, o3 + L);
        c40.intoArray(c, o4); c41.intoArray(c, o4 + L);
        if (SIX) { c50.intoArray(c, o5); c51.intoArray(c, o5 + L); }
        if (EIGHT) {
            c60.intoArray(c, o6); c61.intoArray(c, o6 + L);
            c70.intoArray(c, o7); c71.intoArray(c, o7 + L);
        }
        if (TWELVE) {
            c80.intoArray(c, o8); c81.intoArray(c, o8 + L);
            c90.intoArray(c, o9); c91.intoArray(c, o9 + L);
            cA0.intoArray(c, o10); cA1.intoArray(c, o10 + L);
            cB0.intoArray(c, o11); cB1.intoArray(c, o11 + L);
        }
    }

    /** {@link #kernelPacked} starting from zero instead of C (a separate method: C2 keeps the accumulators in registers only without a data-dependent start). {@link #kernel} where A's MR values of a depth step are consecutive (packed, or A transposed); steps aStep apart. */
    private static void kernelPackedZero(float[] a, int aOff, int aStep, float[] b, int bOff, int bRow,
                               float[] c, int cOff, int ldc, int kc) {
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc, o6 = o5 + ldc, o7 = o6 + ldc, o8 = o7 + ldc, o9 = o8 + ldc, o10 = o9 + ldc, o11 = o10 + ldc;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = SIX ? FloatVector.zero(S) : null, c51 = SIX ? FloatVector.zero(S) : null;
        FloatVector c60 = null, c61 = null, c70 = null, c71 = null;
        if (EIGHT) {
            c60 = FloatVector.zero(S); c61 = FloatVector.zero(S);
            c70 = FloatVector.zero(S); c71 = FloatVector.zero(S);
        }
        FloatVector c80 = null, c81 = null, c90 = null, c91 = null, cA0 = null, cA1 = null, cB0 = null, cB1 = null;
        if (TWELVE) {
            c80 = FloatVector.zero(S); c81 = FloatVector.zero(S);
            c90 = FloatVector.zero(S); c91 = FloatVector.zero(S);
            cA0 = FloatVector.zero(S); cA1 = FloatVector.zero(S);
            cB0 = FloatVector.zero(S); cB1 = FloatVector.zero(S);
        }
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * bRow, ao = aOff + kk * aStep;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector av;
            av = FloatVector.broadcast(S, a[ao]);      c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[ao + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[ao + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[ao + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, a[ao + 4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            if (SIX) { av = FloatVector.broadcast(S, a[ao + 5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51); }
            if (EIGHT) {
                av = FloatVector.broadcast(S, a[ao + 6]); c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
                av = FloatVector.broadcast(S, a[ao + 7]); c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
            }
            if (TWELVE) {
                av = FloatVector.broadcast(S, a[ao + 8]); c80 = av.fma(b0, c80); c81 = av.fma(b1, c81);
                av = FloatVector.broadcast(S, a[ao + 9]); c90 = av.fma(b0, c90); c91 = av.fma(b1, c91);
                av = FloatVector.broadcast(S, a[ao + 10]); cA0 = av.fma(b0, cA0); cA1 = av.fma(b1, cA1);
                av = FloatVector.broadcast(S, a[ao + 11]); cB0 = av.fma(b0, cB0); cB1 = av.fma(b1, cB1);
            }
        }
        c00.intoArray(c, o0); c01.intoArray(c, o0 + L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L);
        c20.intoArray(c, o2); c21.intoArray(c, o2 + L);
        c30.intoArray(c, o3); c31.intoArray(c, o3 + L);
        c40.intoArray(c, o4); c41.intoArray(c, o4 + L);
        if (SIX) { c50.intoArray(c, o5); c51.intoArray(c, o5 + L); }
        if (EIGHT) {
            c60.intoArray(c, o6); c61.intoArray(c, o6 + L);
            c70.intoArray(c, o7); c71.intoArray(c, o7 + L);
        }
        if (TWELVE) {
            c80.intoArray(c, o8); c81.intoArray(c, o8 + L);
            c90.intoArray(c, o9); c91.intoArray(c, o9 + L);
            cA0.intoArray(c, o10); cA1.intoArray(c, o10 + L);
            cB0.intoArray(c, o11); cB1.intoArray(c, o11 + L);
        }
    }

    /**
     * {@link #kernelPacked} for A packed (depth steps MR apart) and B in packed panels (rows NR apart): with the strides
     * constants, C2 takes the range checks out of the loop and keeps its offsets in registers (with them as
     * arguments it checked and multiplied every step, and spilled two accumulators: 31 GFLOP/s of a Zen 1 core's 39).
     */
    private static void kernelPackedFixed(float[] a, int aOff, float[] b, int bOff,
                               float[] c, int cOff, int ldc, int kc) {
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc, o6 = o5 + ldc, o7 = o6 + ldc, o8 = o7 + ldc, o9 = o8 + ldc, o10 = o9 + ldc, o11 = o10 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, o0), c01 = FloatVector.fromArray(S, c, o0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, o1), c11 = FloatVector.fromArray(S, c, o1 + L);
        FloatVector c20 = FloatVector.fromArray(S, c, o2), c21 = FloatVector.fromArray(S, c, o2 + L);
        FloatVector c30 = FloatVector.fromArray(S, c, o3), c31 = FloatVector.fromArray(S, c, o3 + L);
        FloatVector c40 = FloatVector.fromArray(S, c, o4), c41 = FloatVector.fromArray(S, c, o4 + L);
        FloatVector c50 = SIX ? FloatVector.fromArray(S, c, o5) : null, c51 = SIX ? FloatVector.fromArray(S, c, o5 + L) : null;
        FloatVector c60 = null, c61 = null, c70 = null, c71 = null;
        if (EIGHT) {
            c60 = FloatVector.fromArray(S, c, o6); c61 = FloatVector.fromArray(S, c, o6 + L);
            c70 = FloatVector.fromArray(S, c, o7); c71 = FloatVector.fromArray(S, c, o7 + L);
        }
        FloatVector c80 = null, c81 = null, c90 = null, c91 = null, cA0 = null, cA1 = null, cB0 = null, cB1 = null;
        if (TWELVE) {
            c80 = FloatVector.fromArray(S, c, o8); c81 = FloatVector.fromArray(S, c, o8 + L);
            c90 = FloatVector.fromArray(S, c, o9); c91 = FloatVector.fromArray(S, c, o9 + L);
            cA0 = FloatVector.fromArray(S, c, o10); cA1 = FloatVector.fromArray(S, c, o10 + L);
            cB0 = FloatVector.fromArray(S, c, o11); cB1 = FloatVector.fromArray(S, c, o11 + L);
        }
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * NR, ao = aOff + kk * MR;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector av;
            av = FloatVector.broadcast(S, a[ao]);      c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[ao + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[ao + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[ao + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, a[ao + 4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            if (SIX) { av = FloatVector.broadcast(S, a[ao + 5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51); }
            if (EIGHT) {
                av = FloatVector.broadcast(S, a[ao + 6]); c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
                av = FloatVector.broadcast(S, a[ao + 7]); c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
            }
            if (TWELVE) {
                av = FloatVector.broadcast(S, a[ao + 8]); c80 = av.fma(b0, c80); c81 = av.fma(b1, c81);
                av = FloatVector.broadcast(S, a[ao + 9]); c90 = av.fma(b0, c90); c91 = av.fma(b1, c91);
                av = FloatVector.broadcast(S, a[ao + 10]); cA0 = av.fma(b0, cA0); cA1 = av.fma(b1, cA1);
                av = FloatVector.broadcast(S, a[ao + 11]); cB0 = av.fma(b0, cB0); cB1 = av.fma(b1, cB1);
            }
        }
        c00.intoArray(c, o0); c01.intoArray(c, o0 + L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L);
        c20.intoArray(c, o2); c21.intoArray(c, o2 + L);
        c30.intoArray(c, o3); c31.intoArray(c, o3 + L);
        c40.intoArray(c, o4); c41.intoArray(c, o4 + L);
        if (SIX) { c50.intoArray(c, o5); c51.intoArray(c, o5 + L); }
        if (EIGHT) {
            c60.intoArray(c, o6); c61.intoArray(c, o6 + L);
            c70.intoArray(c, o7); c71.intoArray(c, o7 + L);
        }
        if (TWELVE) {
            c80.intoArray(c, o8); c81.intoArray(c, o8 + L);
            c90.intoArray(c, o9); c91.intoArray(c, o9 + L);
            cA0.intoArray(c, o10); cA1.intoArray(c, o10 + L);
            cB0.intoArray(c, o11); cB1.intoArray(c, o11 + L);
        }
    }

    /** {@link #kernelPackedFixed} starting from zero (see {@link #kernelPackedZero}). */
    private static void kernelPackedZeroFixed(float[] a, int aOff, float[] b, int bOff,
                               float[] c, int cOff, int ldc, int kc) {
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc, o6 = o5 + ldc, o7 = o6 + ldc, o8 = o7 + ldc, o9 = o8 + ldc, o10 = o9 + ldc, o11 = o10 + ldc;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = SIX ? FloatVector.zero(S) : null, c51 = SIX ? FloatVector.zero(S) : null;
        FloatVector c60 = null, c61 = null, c70 = null, c71 = null;
        if (EIGHT) {
            c60 = FloatVector.zero(S); c61 = FloatVector.zero(S);
            c70 = FloatVector.zero(S); c71 = FloatVector.zero(S);
        }
        FloatVector c80 = null, c81 = null, c90 = null, c91 = null, cA0 = null, cA1 = null, cB0 = null, cB1 = null;
        if (TWELVE) {
            c80 = FloatVector.zero(S); c81 = FloatVector.zero(S);
            c90 = FloatVector.zero(S); c91 = FloatVector.zero(S);
            cA0 = FloatVector.zero(S); cA1 = FloatVector.zero(S);
            cB0 = FloatVector.zero(S); cB1 = FloatVector.zero(S);
        }
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * NR, ao = aOff + kk * MR;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector av;
            av = FloatVector.broadcast(S, a[ao]);      c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[ao + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[ao + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[ao + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, a[ao + 4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            if (SIX) { av = FloatVector.broadcast(S, a[ao + 5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51); }
            if (EIGHT) {
                av = FloatVector.broadcast(S, a[ao + 6]); c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
                av = FloatVector.broadcast(S, a[ao + 7]); c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
            }
            if (TWELVE) {
                av = FloatVector.broadcast(S, a[ao + 8]); c80 = av.fma(b0, c80); c81 = av.fma(b1, c81);
                av = FloatVector.broadcast(S, a[ao + 9]); c90 = av.fma(b0, c90); c91 = av.fma(b1, c91);
                av = FloatVector.broadcast(S, a[ao + 10]); cA0 = av.fma(b0, cA0); cA1 = av.fma(b1, cA1);
                av = FloatVector.broadcast(S, a[ao + 11]); cB0 = av.fma(b0, cB0); cB1 = av.fma(b1, cB1);
            }
        }
        c00.intoArray(c, o0); c01.intoArray(c, o0 + L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L);
        c20.intoArray(c, o2); c21.intoArray(c, o2 + L);
        c30.intoArray(c, o3); c31.intoArray(c, o3 + L);
        c40.intoArray(c, o4); c41.intoArray(c, o4 + L);
        if (SIX) { c50.intoArray(c, o5); c51.intoArray(c, o5 + L); }
        if (EIGHT) {
            c60.intoArray(c, o6); c61.intoArray(c, o6 + L);
            c70.intoArray(c, o7); c71.intoArray(c, o7 + L);
        }
        if (TWELVE) {
            c80.intoArray(c, o8); c81.intoArray(c, o8 + L);
            c90.intoArray(c, o9); c91.intoArray(c, o9 + L);
            cA0.intoArray(c, o10); cA1.intoArray(c, o10 + L);
            cB0.intoArray(c, o11); cB1.intoArray(c, o11 + L);
        }
    }

    /** {@link #kernel} for a panel of exactly one vector of columns (e.g. 688 = 21 x 32 + 16). */
    private static void kernelHalf(float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow,
                                   float[] c, int cOff, int ldc, int kc) {
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc, o6 = o5 + ldc, o7 = o6 + ldc, o8 = o7 + ldc, o9 = o8 + ldc, o10 = o9 + ldc, o11 = o10 + ldc;
        FloatVector c0 = FloatVector.fromArray(S, c, o0), c1 = FloatVector.fromArray(S, c, o1);
        FloatVector c2 = FloatVector.fromArray(S, c, o2), c3 = FloatVector.fromArray(S, c, o3);
        FloatVector c4 = FloatVector.fromArray(S, c, o4), c5 = SIX ? FloatVector.fromArray(S, c, o5) : null;
        FloatVector c6 = EIGHT ? FloatVector.fromArray(S, c, o6) : null, c7 = EIGHT ? FloatVector.fromArray(S, c, o7) : null;
        FloatVector c8 = TWELVE ? FloatVector.fromArray(S, c, o8) : null, c9 = TWELVE ? FloatVector.fromArray(S, c, o9) : null;
        FloatVector cA = TWELVE ? FloatVector.fromArray(S, c, o10) : null, cB = TWELVE ? FloatVector.fromArray(S, c, o11) : null;
        int r1 = aRow, r2 = 2 * aRow, r3 = 3 * aRow, r4 = 4 * aRow, r5 = 5 * aRow, r6 = 6 * aRow, r7 = 7 * aRow, r8 = 8 * aRow, r9 = 9 * aRow, r10 = 10 * aRow, r11 = 11 * aRow;
        for (int kk = 0; kk < kc; kk++) {
            int ao = aOff + kk * aCol;
            FloatVector b0 = FloatVector.fromArray(S, b, bOff + kk * bRow);
            c0 = FloatVector.broadcast(S, a[ao]).fma(b0, c0);
            c1 = FloatVector.broadcast(S, a[ao + r1]).fma(b0, c1);
            c2 = FloatVector.broadcast(S, a[ao + r2]).fma(b0, c2);
            c3 = FloatVector.broadcast(S, a[ao + r3]).fma(b0, c3);
            c4 = FloatVector.broadcast(S, a[ao + r4]).fma(b0, c4);
            if (SIX) c5 = FloatVector.broadcast(S, a[ao + r5]).fma(b0, c5);
            if (EIGHT) {
                c6 = FloatVector.broadcast(S, a[ao + r6]).fma(b0, c6);
                c7 = FloatVector.broadcast(S, a[ao + r7]).fma(b0, c7);
            }
            if (TWELVE) {
                c8 = FloatVector.broadcast(S, a[ao + r8]).fma(b0, c8);
                c9 = FloatVector.broadcast(S, a[ao + r9]).fma(b0, c9);
                cA = FloatVector.broadcast(S, a[ao + r10]).fma(b0, cA);
                cB = FloatVector.broadcast(S, a[ao + r11]).fma(b0, cB);
            }
        }
        c0.intoArray(c, o0); c1.intoArray(c, o1); c2.intoArray(c, o2); c3.intoArray(c, o3);
        c4.intoArray(c, o4);
        if (SIX) c5.intoArray(c, o5);
        if (EIGHT) { c6.intoArray(c, o6); c7.intoArray(c, o7); }
        if (TWELVE) { c8.intoArray(c, o8); c9.intoArray(c, o9); cA.intoArray(c, o10); cB.intoArray(c, o11); }
    }

    /** {@link #kernel} for a partial panel: columns outside the masks are neither read nor written. */
    private static void kernelMasked(float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow,
                               float[] c, int cOff, int ldc, int kc,
                                     VectorMask<Float> m0, VectorMask<Float> m1) {
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc, o6 = o5 + ldc, o7 = o6 + ldc, o8 = o7 + ldc, o9 = o8 + ldc, o10 = o9 + ldc, o11 = o10 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, o0, m0), c01 = FloatVector.fromArray(S, c, o0 + L, m1);
        FloatVector c10 = FloatVector.fromArray(S, c, o1, m0), c11 = FloatVector.fromArray(S, c, o1 + L, m1);
        FloatVector c20 = FloatVector.fromArray(S, c, o2, m0), c21 = FloatVector.fromArray(S, c, o2 + L, m1);
        FloatVector c30 = FloatVector.fromArray(S, c, o3, m0), c31 = FloatVector.fromArray(S, c, o3 + L, m1);
        FloatVector c40 = FloatVector.fromArray(S, c, o4, m0), c41 = FloatVector.fromArray(S, c, o4 + L, m1);
        FloatVector c50 = SIX ? FloatVector.fromArray(S, c, o5, m0) : null, c51 = SIX ? FloatVector.fromArray(S, c, o5 + L, m1) : null;
        FloatVector c60 = null, c61 = null, c70 = null, c71 = null;
        if (EIGHT) {
            c60 = FloatVector.fromArray(S, c, o6, m0); c61 = FloatVector.fromArray(S, c, o6 + L, m1);
            c70 = FloatVector.fromArray(S, c, o7, m0); c71 = FloatVector.fromArray(S, c, o7 + L, m1);
        }
        FloatVector c80 = null, c81 = null, c90 = null, c91 = null, cA0 = null, cA1 = null, cB0 = null, cB1 = null;
        if (TWELVE) {
            c80 = FloatVector.fromArray(S, c, o8, m0); c81 = FloatVector.fromArray(S, c, o8 + L, m1);
            c90 = FloatVector.fromArray(S, c, o9, m0); c91 = FloatVector.fromArray(S, c, o9 + L, m1);
            cA0 = FloatVector.fromArray(S, c, o10, m0); cA1 = FloatVector.fromArray(S, c, o10 + L, m1);
            cB0 = FloatVector.fromArray(S, c, o11, m0); cB1 = FloatVector.fromArray(S, c, o11 + L, m1);
        }
        int r1 = aRow, r2 = 2 * aRow, r3 = 3 * aRow, r4 = 4 * aRow, r5 = 5 * aRow, r6 = 6 * aRow, r7 = 7 * aRow, r8 = 8 * aRow, r9 = 9 * aRow, r10 = 10 * aRow, r11 = 11 * aRow;
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * bRow, ao = aOff + kk * aCol;
            FloatVector b0 = FloatVector.fromArray(S, b, bo, m0), b1 = FloatVector.fromArray(S, b, bo + L, m1);
            FloatVector av;
            av = FloatVector.broadcast(S, a[ao]);      c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[ao + r1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[ao + r2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[ao + r3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, a[ao + r4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            if (SIX) { av = FloatVector.broadcast(S, a[ao + r5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51); }
            if (EIGHT) {
                av = FloatVector.broadcast(S, a[ao + r6]); c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
                av = FloatVector.broadcast(S, a[ao + r7]); c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
            }
            if (TWELVE) {
                av = FloatVector.broadcast(S, a[ao + r8]); c80 = av.fma(b0, c80); c81 = av.fma(b1, c81);
                av = FloatVector.broadcast(S, a[ao + r9]); c90 = av.fma(b0, c90); c91 = av.fma(b1, c91);
                av = FloatVector.broadcast(S, a[ao + r10]); cA0 = av.fma(b0, cA0); cA1 = av.fma(b1, cA1);
                av = FloatVector.broadcast(S, a[ao + r11]); cB0 = av.fma(b0, cB0); cB1 = av.fma(b1, cB1);
            }
        }
        c00.intoArray(c, o0, m0); c01.intoArray(c, o0 + L, m1);
        c10.intoArray(c, o1, m0); c11.intoArray(c, o1 + L, m1);
        c20.intoArray(c, o2, m0); c21.intoArray(c, o2 + L, m1);
        c30.intoArray(c, o3, m0); c31.intoArray(c, o3 + L, m1);
        c40.intoArray(c, o4, m0); c41.intoArray(c, o4 + L, m1);
        if (SIX) { c50.intoArray(c, o5, m0); c51.intoArray(c, o5 + L, m1); }
        if (EIGHT) {
            c60.intoArray(c, o6, m0); c61.intoArray(c, o6 + L, m1);
            c70.intoArray(c, o7, m0); c71.intoArray(c, o7 + L, m1);
        }
        if (TWELVE) {
            c80.intoArray(c, o8, m0); c81.intoArray(c, o8 + L, m1);
            c90.intoArray(c, o9, m0); c91.intoArray(c, o9 + L, m1);
            cA0.intoArray(c, o10, m0); cA1.intoArray(c, o10 + L, m1);
            cB0.intoArray(c, o11, m0); cB1.intoArray(c, o11 + L, m1);
        }
    }

    /**
     * Four rows of C against one full panel: the rows left below the whole blocks (with 6-row blocks, a 256-row
     * weight gradient leaves four, which one by one cost a thread 10% of the product).
     */
    private static void four(float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow,
                             float[] c, int cOff, int ldc, int kc) {
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, o0), c01 = FloatVector.fromArray(S, c, o0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, o1), c11 = FloatVector.fromArray(S, c, o1 + L);
        FloatVector c20 = FloatVector.fromArray(S, c, o2), c21 = FloatVector.fromArray(S, c, o2 + L);
        FloatVector c30 = FloatVector.fromArray(S, c, o3), c31 = FloatVector.fromArray(S, c, o3 + L);
        int r1 = aRow, r2 = 2 * aRow, r3 = 3 * aRow;
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * bRow, ao = aOff + kk * aCol;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector av;
            av = FloatVector.broadcast(S, a[ao]);      c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[ao + r1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[ao + r2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[ao + r3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
        }
        c00.intoArray(c, o0); c01.intoArray(c, o0 + L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L);
        c20.intoArray(c, o2); c21.intoArray(c, o2 + L);
        c30.intoArray(c, o3); c31.intoArray(c, o3 + L);
    }

    /** Three rows of C against one full panel (six accumulator chains where one row has two: more of the FMA's latency covered). */
    private static void three(float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow,
                              float[] c, int cOff, int ldc, int kc) {
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, o0), c01 = FloatVector.fromArray(S, c, o0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, o1), c11 = FloatVector.fromArray(S, c, o1 + L);
        FloatVector c20 = FloatVector.fromArray(S, c, o2), c21 = FloatVector.fromArray(S, c, o2 + L);
        int r1 = aRow, r2 = 2 * aRow;
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * bRow, ao = aOff + kk * aCol;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector av;
            av = FloatVector.broadcast(S, a[ao]);      c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[ao + r1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[ao + r2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
        }
        c00.intoArray(c, o0); c01.intoArray(c, o0 + L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L);
        c20.intoArray(c, o2); c21.intoArray(c, o2 + L);
    }

    /** Two rows of C against one full panel. */
    private static void two(float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow,
                            float[] c, int cOff, int ldc, int kc) {
        int o0 = cOff, o1 = o0 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, o0), c01 = FloatVector.fromArray(S, c, o0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, o1), c11 = FloatVector.fromArray(S, c, o1 + L);
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * bRow, ao = aOff + kk * aCol;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector av;
            av = FloatVector.broadcast(S, a[ao]);        c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[ao + aRow]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
        }
        c00.intoArray(c, o0); c01.intoArray(c, o0 + L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L);
    }

    /** One row of C against one full panel. */
    private static void row(float[] a, int aOff, int aCol, float[] b, int bOff, int bRow, float[] c, int cOff, int kc) {
        FloatVector c0 = FloatVector.fromArray(S, c, cOff), c1 = FloatVector.fromArray(S, c, cOff + L);
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * bRow;
            FloatVector av = FloatVector.broadcast(S, a[aOff + kk * aCol]);
            c0 = av.fma(FloatVector.fromArray(S, b, bo), c0);
            c1 = av.fma(FloatVector.fromArray(S, b, bo + L), c1);
        }
        c0.intoArray(c, cOff);
        c1.intoArray(c, cOff + L);
    }

    /** One row of C against one (possibly partial) panel. */
    private static void row(float[] a, int aOff, int aCol, float[] b, int bOff, int bRow, float[] c, int cOff, int kc,
                            VectorMask<Float> m0, VectorMask<Float> m1) {
        FloatVector c0 = FloatVector.fromArray(S, c, cOff, m0), c1 = FloatVector.fromArray(S, c, cOff + L, m1);
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * bRow;
            FloatVector av = FloatVector.broadcast(S, a[aOff + kk * aCol]);
            c0 = av.fma(FloatVector.fromArray(S, b, bo, m0), c0);
            c1 = av.fma(FloatVector.fromArray(S, b, bo + L, m1), c1);
        }
        c0.intoArray(c, cOff, m0);
        c1.intoArray(c, cOff + L, m1);
    }

    private static void scalar(int i0, int i1, int n, int k, float[] a, int aOff, int aRow, int aCol,
                               float[] b, int bOff, int bRow, int bPanel, float[] c, int cOff, int ldc) {
        for (int i = i0; i < i1; i++) {
            for (int j = 0; j < n; j++) {
                float s = c[cOff + i * ldc + j];
                int bo = bOff + (j / NR) * bPanel + j % NR;
                for (int p = 0; p < k; p++) s += a[aOff + i * aRow + p * aCol] * b[bo + p * bRow];
                c[cOff + i * ldc + j] = s;
            }
        }
    }
}
