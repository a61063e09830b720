package dev.llmkit.eval.engine;

import dev.llmkit.core.quant.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels on GGML blocks as stored: a row's dot product with F32 activations, the blocks
 * unpacked in registers (bytes to floats, nibbles and high bits masked and shifted lane-wise, the
 * block scale applied once per block), and the decoding of a row to F32 for the batched prefill.
 * Every kernel has a scalar reference ({@link GgmlType#dequantize} then a plain dot) that the tests
 * compare it with, and that {@code -Dllmkit.scalar=true} runs instead.
 */
final class QuantKernels {
    private QuantKernels() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Bytes that widen to one float vector. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED.length() == L ? IntVector.SPECIES_PREFERRED
            : VectorSpecies.of(int.class, VectorShape.forBitSize(L * 32));
    /** Lane index, for the Q5 types' high bits. */
    private static final IntVector IOTA = IntVector.zero(I).addIndex(1);
    private static final boolean FAST = !Kernels.SCALAR && L >= 4 && L <= 16;

    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

    /** Row (at byte offset {@code off} of {@code w}, {@code cols} elements of type t) . x[xo..xo+cols). */
    static float dot(GgmlType t, byte[] w, int off, float[] x, int xo, int cols) {
        if (FAST) {
            switch (t) {
                case Q8_0: return dotQ8_0(w, off, x, xo, cols);
                case Q4_0: return dotQ4_0(w, off, x, xo, cols, blockSums(x, xo, cols));
                case Q4_1: return dotQ4_1(w, off, x, xo, cols);
                case Q5_0: return dotQ5(false, w, off, x, xo, cols);
                case Q5_1: return dotQ5(true, w, off, x, xo, cols);
                case Q4_K: return dotQ4K(w, off, x, xo, cols, false, blockSums(x, xo, cols));
                case Q5_K: return dotQ4K(w, off, x, xo, cols, true, blockSums(x, xo, cols));
                case Q6_K: return dotQ6K(w, off, x, xo, cols);
                default: break;
            }
        }
        float[] row = rowScratch(cols);
        decode(t, w, off, row, 0, cols);
        return Kernels.dot(row, 0, x, xo, cols);
    }

    /**
     * out[oo + i] = row i . x for the n rows from byte offset {@code off} ({@code rowBytes} apart): four
     * rows at a time where the type has a four-row kernel (Q8_0: each activation vector loaded once for
     * four rows, four independent accumulator chains), else row by row (a four-row Q4_0 kernel measured
     * 3.5x slower: C2 stops inlining the unpacking and boxes the vectors). {@code scales} (for Q8_0; without
     * it, row by row) holds the Q8_0 blocks' f16 scales as floats, row after row from the first row's block
     * {@code so} ({@link #blockScales}). On a Zen 1 (AVX2) a 768 x 256 Q8_0 matvec ran 12-17% faster with them
     * and the small preset's Q8_0 decode 5-12% (the f16 load and conversion per block and row had cost that);
     * Q4_0's decode, bound by its nibble unpacking, did not change, so it reads its scales from the blocks.
     */
    static void dotRows(GgmlType t, byte[] w, int off, int rowBytes, int n, float[] x, int xo, int cols, float[] out, int oo, float[] scales, int so) {
        int i = 0, nb = cols / 32;
        if (FAST && t == GgmlType.Q8_0 && scales != null) {
            for (; i + 4 <= n; i += 4) dot4Q8_0(w, off + i * rowBytes, rowBytes, scales, so + i * nb, nb, x, xo, cols, out, oo + i);
        }
        if (FAST && (t == GgmlType.Q4_K || t == GgmlType.Q5_K || t == GgmlType.Q4_0) && n > 0) {
            float[] sums = blockSums(x, xo, cols);     // once for all rows
            if (t == GgmlType.Q4_0) for (; i < n; i++) out[oo + i] = dotQ4_0(w, off + i * rowBytes, x, xo, cols, sums);
            else for (; i < n; i++) out[oo + i] = dotQ4K(w, off + i * rowBytes, x, xo, cols, t == GgmlType.Q5_K, sums);
        }
        for (; i < n; i++) out[oo + i] = dot(t, w, off + i * rowBytes, x, xo, cols);
    }

    /**
     * The f16 scale of every Q8_0 block as a float, the {@code scales} of {@link #dotRows}; null for the other
     * types. 4 bytes per block of 34: about 12% more memory.
     */
    static float[] blockScales(GgmlType t, byte[] w, int rows, int cols) {
        if (!FAST || t != GgmlType.Q8_0) return null;
        int n = rows * (cols / 32);
        float[] d = new float[n];
        for (int b = 0; b < n; b++) d[b] = f16(w, 34 * b);
        return d;
    }

    /** The scalar reference of {@link #dot}. */
    static float dotScalar(GgmlType t, byte[] w, int off, float[] x, int xo, int cols) {
        float[] row = new float[cols];
        t.dequantize(w, off, cols, row, 0);
        float s = 0;
        for (int i = 0; i < cols; i++) s += row[i] * x[xo + i];
        return s;
    }

    static float[] rowScratch(int cols) {
        float[] r = ROW.get();
        if (r.length < cols) {
            r = new float[cols];
            ROW.set(r);
        }
        return r;
    }

    /** Decodes one row to F32 into out[oo..oo+cols). */
    static void decode(GgmlType t, byte[] w, int off, float[] out, int oo, int cols) {
        if (FAST) {
            switch (t) {
                case Q8_0: decodeQ8_0(w, off, out, oo, cols); return;
                case Q4_0, Q4_1: decodeQ4(t == GgmlType.Q4_1, w, off, out, oo, cols); return;
                case Q5_0, Q5_1: decodeQ5(t == GgmlType.Q5_1, w, off, out, oo, cols); return;
                case Q4_K: decodeQ4K(w, off, out, oo, cols, false); return;
                case Q5_K: decodeQ4K(w, off, out, oo, cols, true); return;
                case Q6_K: decodeQ6K(w, off, out, oo, cols); return;
                default: break;
            }
        }
        t.dequantize(w, off, cols, out, oo);
    }

    private static float f16(byte[] b, int p) {
        return Float.float16ToFloat((short) ((b[p] & 0xFF) | (b[p + 1] << 8)));
    }

    private static FloatVector widen(ByteVector v) {
        return (FloatVector) v.convertShape(VectorOperators.B2F, S, 0);
    }

    /** L bytes from w[p..] sign-extended to int lanes: the nibble and bit work then runs on native 32-bit lanes. */
    private static IntVector ints(byte[] w, int p) {
        return (IntVector) ByteVector.fromArray(B, w, p).convertShape(VectorOperators.B2I, I, 0);
    }

    private static FloatVector floats(IntVector v) {
        return (FloatVector) v.convertShape(VectorOperators.I2F, S, 0);
    }

    /** Short lanes (half the width of int lanes: single-pumped where 512-bit integer work is split in two). */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));

    private static ShortVector shorts(byte[] w, int p) {
        return (ShortVector) ByteVector.fromArray(B, w, p).convertShape(VectorOperators.B2S, H, 0);
    }

    private static FloatVector floats(ShortVector v) {
        return (FloatVector) v.convertShape(VectorOperators.S2F, S, 0);
    }

    // ---------------------------------------------------------------- Q8_0: d f16, 32 x int8

    private static float dotQ8_0(byte[] w, int off, float[] x, int xo, int cols) {
        FloatVector acc = FloatVector.zero(S);
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            int p = off + 34 * b, xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(S);
            for (int k = 0; k < 32; k += L) s = widen(ByteVector.fromArray(B, w, p + 2 + k)).fma(FloatVector.fromArray(S, x, xb + k), s);
            acc = s.fma(FloatVector.broadcast(S, f16(w, p)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Four Q8_0 rows (rb bytes apart) . x, the blocks' scales given: row r's block b at ds[so + r * nb + b]. */
    private static void dot4Q8_0(byte[] w, int off, int rb, float[] ds, int so, int nb, float[] x, int xo, int cols, float[] out, int oo) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < nb; b++) {
            int p = off + 34 * b + 2, xb = xo + 32 * b;
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            for (int k = 0; k < 32; k += L) {
                FloatVector xv = FloatVector.fromArray(S, x, xb + k);
                s0 = widen(ByteVector.fromArray(B, w, p + k)).fma(xv, s0);
                s1 = widen(ByteVector.fromArray(B, w, p + rb + k)).fma(xv, s1);
                s2 = widen(ByteVector.fromArray(B, w, p + 2 * rb + k)).fma(xv, s2);
                s3 = widen(ByteVector.fromArray(B, w, p + 3 * rb + k)).fma(xv, s3);
            }
            a0 = s0.fma(FloatVector.broadcast(S, ds[so + b]), a0);
            a1 = s1.fma(FloatVector.broadcast(S, ds[so + nb + b]), a1);
            a2 = s2.fma(FloatVector.broadcast(S, ds[so + 2 * nb + b]), a2);
            a3 = s3.fma(FloatVector.broadcast(S, ds[so + 3 * nb + b]), a3);
        }
        out[oo] = a0.reduceLanes(VectorOperators.ADD);
        out[oo + 1] = a1.reduceLanes(VectorOperators.ADD);
        out[oo + 2] = a2.reduceLanes(VectorOperators.ADD);
        out[oo + 3] = a3.reduceLanes(VectorOperators.ADD);
    }

    private static void decodeQ8_0(byte[] w, int off, float[] out, int oo, int cols) {
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            int p = off + 34 * b;
            float d = f16(w, p);
            for (int k = 0; k < 32; k += L) widen(ByteVector.fromArray(B, w, p + 2 + k)).mul(d).intoArray(out, oo + 32 * b + k);
        }
    }

    // ---------------------------------------------------------------- Q4_0 / Q4_1: d (m) f16, 16 bytes of nibbles

    /** A Q4_0 row: sum over blocks of d (sum(q x) - 8 sum(x)), q the stored nibbles, x's block sums given. */
    private static float dotQ4_0(byte[] w, int off, float[] x, int xo, int cols, float[] xsums) {
        FloatVector acc = FloatVector.zero(S);
        float centre = 0;
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            int p = off + 18 * b, xb = xo + 32 * b;
            float d = f16(w, p);
            FloatVector s = FloatVector.zero(S);
            for (int k = 0; k < 16; k += L) {
                IntVector v = ints(w, p + 2 + k);
                s = floats(v.and(0x0F)).fma(FloatVector.fromArray(S, x, xb + k), s);
                s = floats(v.lanewise(VectorOperators.LSHR, 4).and(0x0F)).fma(FloatVector.fromArray(S, x, xb + 16 + k), s);
            }
            acc = s.fma(FloatVector.broadcast(S, d), acc);
            centre += d * xsums[b];
        }
        return acc.reduceLanes(VectorOperators.ADD) - 8 * centre;
    }

    private static void decodeQ4(boolean hasMin, byte[] w, int off, float[] out, int oo, int cols) {
        int bytes = hasMin ? 20 : 18, qs = hasMin ? 4 : 2;
        int centre = hasMin ? 0 : 8;
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            int p = off + bytes * b, o = oo + 32 * b;
            float d = f16(w, p), m = hasMin ? f16(w, p + 2) : 0f;
            for (int k = 0; k < 16; k += L) {
                IntVector v = ints(w, p + qs + k);
                floats(v.and(0x0F).sub(centre)).fma(d, m).intoArray(out, o + k);
                floats(v.lanewise(VectorOperators.LSHR, 4).and(0x0F).sub(centre)).fma(d, m).intoArray(out, o + 16 + k);
            }
        }
    }

    // ---------------------------------------------------------------- Q5_0 / Q5_1: d (m) f16, qh u32, 16 bytes of nibbles

    private static void decodeQ5(boolean hasMin, byte[] w, int off, float[] out, int oo, int cols) {
        int bytes = hasMin ? 24 : 22, qhAt = hasMin ? 4 : 2, qs = qhAt + 4;
        int centre = hasMin ? 0 : 16;
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            int p = off + bytes * b, o = oo + 32 * b;
            float d = f16(w, p), m = hasMin ? f16(w, p + 2) : 0f;
            int qh = (w[p + qhAt] & 0xFF) | (w[p + qhAt + 1] & 0xFF) << 8 | (w[p + qhAt + 2] & 0xFF) << 16 | (w[p + qhAt + 3] & 0xFF) << 24;
            IntVector bits = IntVector.broadcast(I, qh);
            for (int k = 0; k < 16; k += L) {
                IntVector v = ints(w, p + qs + k);
                IntVector hiLo = bits.lanewise(VectorOperators.LSHR, IOTA.add(k)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector hiHi = bits.lanewise(VectorOperators.LSHR, IOTA.add(k + 16)).and(1).lanewise(VectorOperators.LSHL, 4);
                floats(v.and(0x0F).or(hiLo).sub(centre)).fma(d, m).intoArray(out, o + k);
                floats(v.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(hiHi).sub(centre)).fma(d, m).intoArray(out, o + 16 + k);
            }
        }
    }

    /*
     * Q4_1, Q5_0, Q5_1: with q the stored 4- or 5-bit value, a block is sum(q x) d + sum(x) (m - centre d)
     * (m the _1 types' min, centre 16 for Q5_0), so the unpacked q meet x in one fma and x's block sum
     * in one add. (Separate methods: one with the Q5 bits behind a null check made C2 box every vector.)
     */
    private static float dotQ4_1(byte[] w, int off, float[] x, int xo, int cols) {
        FloatVector acc = FloatVector.zero(S), accX = FloatVector.zero(S);
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            int p = off + 20 * b, xb = xo + 32 * b;
            FloatVector sq = FloatVector.zero(S), sx = FloatVector.zero(S);
            for (int k = 0; k < 16; k += L) {
                IntVector v = ints(w, p + 4 + k);
                FloatVector x0 = FloatVector.fromArray(S, x, xb + k), x1 = FloatVector.fromArray(S, x, xb + 16 + k);
                sq = floats(v.lanewise(VectorOperators.LSHR, 4).and(0x0F)).fma(x1, floats(v.and(0x0F)).fma(x0, sq));
                sx = x0.add(sx).add(x1);
            }
            acc = sq.fma(FloatVector.broadcast(S, f16(w, p)), acc);
            accX = sx.fma(FloatVector.broadcast(S, f16(w, p + 2)), accX);
        }
        return acc.add(accX).reduceLanes(VectorOperators.ADD);
    }

    private static float dotQ5(boolean hasMin, byte[] w, int off, float[] x, int xo, int cols) {
        int bytes = hasMin ? 24 : 22, qhAt = hasMin ? 4 : 2, qs = qhAt + 4;
        FloatVector acc = FloatVector.zero(S), accX = FloatVector.zero(S);
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            int p = off + bytes * b, xb = xo + 32 * b;
            float d = f16(w, p), m = hasMin ? f16(w, p + 2) : -16f * d;
            int qh = (w[p + qhAt] & 0xFF) | (w[p + qhAt + 1] & 0xFF) << 8 | (w[p + qhAt + 2] & 0xFF) << 16 | (w[p + qhAt + 3] & 0xFF) << 24;
            IntVector bits = IntVector.broadcast(I, qh);
            FloatVector sq = FloatVector.zero(S), sx = FloatVector.zero(S);
            for (int k = 0; k < 16; k += L) {
                IntVector v = ints(w, p + qs + k);
                IntVector lo = v.and(0x0F).or(bits.lanewise(VectorOperators.LSHR, IOTA.add(k)).and(1).lanewise(VectorOperators.LSHL, 4));
                IntVector hi = v.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(bits.lanewise(VectorOperators.LSHR, IOTA.add(k + 16)).and(1).lanewise(VectorOperators.LSHL, 4));
                FloatVector x0 = FloatVector.fromArray(S, x, xb + k), x1 = FloatVector.fromArray(S, x, xb + 16 + k);
                sq = floats(hi).fma(x1, floats(lo).fma(x0, sq));
                sx = x0.add(sx).add(x1);
            }
            acc = sq.fma(FloatVector.broadcast(S, d), acc);
            accX = sx.fma(FloatVector.broadcast(S, m), accX);
        }
        return acc.add(accX).reduceLanes(VectorOperators.ADD);
    }

    // ---------------------------------------------------------------- Q4_K / Q5_K: super-blocks of 256

    /** The 8 scales and 8 mins of a super-block's 12 packed bytes (get_scale_min_k4), times d and dmin, into sm[0..8) and sm[8..16). */
    private static void scalesK(byte[] w, int p, float d, float dmin, float[] sm) {
        // the 12 bytes as three little-endian words: 6-bit scales of sub-blocks 0-3 in word 0, their mins in
        // word 1; sub-blocks 4-7 take their low 4 bits from word 2 and their top 2 bits from bits 6-7 of words 0 and 1
        int w0 = (int) LE_INT.get(w, p + 4), w1 = (int) LE_INT.get(w, p + 8), w2 = (int) LE_INT.get(w, p + 12);
        int sc0 = w0 & 0x3f3f3f3f, mn0 = w1 & 0x3f3f3f3f;
        int sc1 = (w2 & 0x0f0f0f0f) | (((w0 >>> 6) & 0x03030303) << 4), mn1 = ((w2 >>> 4) & 0x0f0f0f0f) | (((w1 >>> 6) & 0x03030303) << 4);
        for (int j = 0; j < 4; j++) {
            sm[j] = d * ((sc0 >>> (8 * j)) & 0xFF);
            sm[4 + j] = d * ((sc1 >>> (8 * j)) & 0xFF);
            sm[8 + j] = dmin * ((mn0 >>> (8 * j)) & 0xFF);
            sm[12 + j] = dmin * ((mn1 >>> (8 * j)) & 0xFF);
        }
    }

    private static final java.lang.invoke.VarHandle LE_INT = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    private static final ThreadLocal<float[]> SCALES = ThreadLocal.withInitial(() -> new float[16]);

    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[0]);

    /** The sums of x's blocks of 32 (a per-thread array): the K-quants' mins meet x through them. */
    private static float[] blockSums(float[] x, int xo, int cols) {
        float[] sums = SUMS.get();
        if (sums.length < cols / 32) {
            sums = new float[cols / 32];
            SUMS.set(sums);
        }
        for (int b = 0; b < cols / 32; b++) {
            FloatVector v = FloatVector.zero(S);
            for (int k = 0; k < 32; k += L) v = FloatVector.fromArray(S, x, xo + 32 * b + k).add(v);    // (loaded vector first: see CompileAhead)
            sums[b] = v.reduceLanes(VectorOperators.ADD);
        }
        return sums;
    }

    /** A Q4_K or Q5_K row: sum over sub-blocks of d sc sum(q x) - dmin m sum(x), the x sums given. */
    private static float dotQ4K(byte[] w, int off, float[] x, int xo, int cols, boolean five, float[] xsums) {
        int bytes = five ? 176 : 144;
        float[] sm = SCALES.get();
        FloatVector acc = FloatVector.zero(S);
        float mins = 0;
        for (int b = 0, nb = cols / 256; b < nb; b++) {
            int p = off + bytes * b, qh = p + 16, ql = p + (five ? 48 : 16), xb = xo + 256 * b;
            scalesK(w, p, f16(w, p), f16(w, p + 2), sm);
            for (int j = 0; j < 4; j++) {
                FloatVector sLo = FloatVector.zero(S), sHi = FloatVector.zero(S);
                for (int k = 0; k < 32; k += L) {
                    IntVector v = ints(w, ql + 32 * j + k);
                    IntVector lo = v.and(0x0F), hi = v.lanewise(VectorOperators.LSHR, 4).and(0x0F);
                    if (five) {
                        IntVector h = ints(w, qh + k);
                        lo = lo.or(h.lanewise(VectorOperators.LSHR, 2 * j).and(1).lanewise(VectorOperators.LSHL, 4));
                        hi = hi.or(h.lanewise(VectorOperators.LSHR, 2 * j + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                    }
                    FloatVector x0 = FloatVector.fromArray(S, x, xb + 64 * j + k), x1 = FloatVector.fromArray(S, x, xb + 64 * j + 32 + k);
                    sLo = floats(lo).fma(x0, sLo);
                    sHi = floats(hi).fma(x1, sHi);
                }
                acc = sLo.fma(FloatVector.broadcast(S, sm[2 * j]), acc);
                acc = sHi.fma(FloatVector.broadcast(S, sm[2 * j + 1]), acc);
                mins += sm[8 + 2 * j] * xsums[8 * b + 2 * j] + sm[9 + 2 * j] * xsums[8 * b + 2 * j + 1];
            }
        }
        return acc.reduceLanes(VectorOperators.ADD) - mins;
    }

    private static void decodeQ4K(byte[] w, int off, float[] out, int oo, int cols, boolean five) {
        int bytes = five ? 176 : 144;
        float[] sm = SCALES.get();
        for (int b = 0, nb = cols / 256; b < nb; b++) {
            int p = off + bytes * b, qh = p + 16, ql = p + (five ? 48 : 16), o = oo + 256 * b;
            scalesK(w, p, f16(w, p), f16(w, p + 2), sm);
            for (int j = 0; j < 4; j++) {
                for (int k = 0; k < 32; k += L) {
                    IntVector v = ints(w, ql + 32 * j + k);
                    IntVector lo = v.and(0x0F), hi = v.lanewise(VectorOperators.LSHR, 4).and(0x0F);
                    if (five) {
                        IntVector h = ints(w, qh + k);
                        lo = lo.or(h.lanewise(VectorOperators.LSHR, 2 * j).and(1).lanewise(VectorOperators.LSHL, 4));
                        hi = hi.or(h.lanewise(VectorOperators.LSHR, 2 * j + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                    }
                    floats(lo).fma(sm[2 * j], -sm[8 + 2 * j]).intoArray(out, o + 64 * j + k);
                    floats(hi).fma(sm[2 * j + 1], -sm[9 + 2 * j]).intoArray(out, o + 64 * j + 32 + k);
                }
            }
        }
    }

    // ---------------------------------------------------------------- Q6_K: ql[128] qh[64] scales[16] d

    /**
     * One Q6_K quarter as floats: the nibble of {@code low} at bit {@code nibble} (0 or 4), with bits
     * {@code high}..{@code high}+1 of {@code hq} above it, minus 32 (constant shifts fold after inlining).
     */
    private static FloatVector six(ShortVector low, int nibble, ShortVector hq, int high) {
        ShortVector lo = (nibble == 0 ? low : low.lanewise(VectorOperators.LSHR, nibble)).and((short) 0x0F);
        ShortVector hi = (high <= 4 ? hq.lanewise(VectorOperators.LSHL, 4 - high) : hq.lanewise(VectorOperators.LSHR, high - 4)).and((short) 0x30);
        return floats(lo.or(hi).sub((short) 32));
    }

    private static float dotQ6K(byte[] w, int off, float[] x, int xo, int cols) {
        FloatVector acc = FloatVector.zero(S), acc2 = FloatVector.zero(S), acc3 = FloatVector.zero(S), acc4 = FloatVector.zero(S);
        for (int b = 0, nb = cols / 256; b < nb; b++) {
            int p = off + 210 * b;
            float d = f16(w, p + 208);
            for (int h = 0; h < 2; h++) {
                int ql = p + 64 * h, qh = p + 128 + 32 * h, sc = p + 192 + 8 * h, xb = xo + 256 * b + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    int is = l / 16;
                    ShortVector a = shorts(w, ql + l), c = shorts(w, ql + 32 + l), hq = shorts(w, qh + l);
                    FloatVector q1 = six(a, 0, hq, 0), q2 = six(c, 0, hq, 2), q3 = six(a, 4, hq, 4), q4 = six(c, 4, hq, 6);
                    acc = q1.mul(FloatVector.fromArray(S, x, xb + l)).fma(FloatVector.broadcast(S, d * w[sc + is]), acc);
                    acc2 = q2.mul(FloatVector.fromArray(S, x, xb + 32 + l)).fma(FloatVector.broadcast(S, d * w[sc + is + 2]), acc2);
                    acc3 = q3.mul(FloatVector.fromArray(S, x, xb + 64 + l)).fma(FloatVector.broadcast(S, d * w[sc + is + 4]), acc3);
                    acc4 = q4.mul(FloatVector.fromArray(S, x, xb + 96 + l)).fma(FloatVector.broadcast(S, d * w[sc + is + 6]), acc4);
                }
            }
        }
        return acc.add(acc2).add(acc3.add(acc4)).reduceLanes(VectorOperators.ADD);
    }

    private static void decodeQ6K(byte[] w, int off, float[] out, int oo, int cols) {
        for (int b = 0, nb = cols / 256; b < nb; b++) {
            int p = off + 210 * b;
            float d = f16(w, p + 208);
            for (int h = 0; h < 2; h++) {
                int ql = p + 64 * h, qh = p + 128 + 32 * h, sc = p + 192 + 8 * h, o = oo + 256 * b + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    int is = l / 16;
                    ShortVector a = shorts(w, ql + l), c = shorts(w, ql + 32 + l), hq = shorts(w, qh + l);
                    FloatVector q1 = six(a, 0, hq, 0), q2 = six(c, 0, hq, 2), q3 = six(a, 4, hq, 4), q4 = six(c, 4, hq, 6);
                    q1.mul(d * w[sc + is]).intoArray(out, o + l);
                    q2.mul(d * w[sc + is + 2]).intoArray(out, o + 32 + l);
                    q3.mul(d * w[sc + is + 4]).intoArray(out, o + 64 + l);
                    q4.mul(d * w[sc + is + 6]).intoArray(out, o + 96 + l);
                }
            }
        }
    }
}
