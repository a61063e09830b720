package dev.llmkit.eval.engine;

import dev.llmkit.core.quant.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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
                case Q4_0: return dotQ4_0(w, off, x, xo, cols);
                case Q4_K: return dotQ4K(w, off, x, xo, cols, false);
                case Q5_K: return dotQ4K(w, off, x, xo, cols, true);
                case Q6_K: return dotQ6K(w, off, x, xo, cols);
                default: break;
            }
        }
        float[] row = rowScratch(cols);
        decode(t, w, off, row, 0, cols);
        return Kernels.dot(row, 0, x, xo, cols);
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

    private static void decodeQ8_0(byte[] w, int off, float[] out, int oo, int cols) {
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            int p = off + 34 * b;
            float d = f16(w, p);
            for (int k = 0; k < 32; k += L) widen(ByteVector.fromArray(B, w, p + 2 + k)).mul(d).intoArray(out, oo + 32 * b + k);
        }
    }

    // ---------------------------------------------------------------- Q4_0 / Q4_1: d (m) f16, 16 bytes of nibbles

    private static float dotQ4_0(byte[] w, int off, float[] x, int xo, int cols) {
        FloatVector acc = FloatVector.zero(S);
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            int p = off + 18 * b, xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(S);
            for (int k = 0; k < 16; k += L) {
                IntVector v = ints(w, p + 2 + k);
                s = floats(v.and(0x0F).sub(8)).fma(FloatVector.fromArray(S, x, xb + k), s);
                s = floats(v.lanewise(VectorOperators.LSHR, 4).and(0x0F).sub(8)).fma(FloatVector.fromArray(S, x, xb + 16 + k), s);
            }
            acc = s.fma(FloatVector.broadcast(S, f16(w, p)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
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

    // ---------------------------------------------------------------- Q4_K / Q5_K: super-blocks of 256

    /** The 8 scales and 8 mins of a super-block's 12 packed bytes (get_scale_min_k4), times d and dmin, into sm[0..8) and sm[8..16). */
    private static void scalesK(byte[] w, int p, float d, float dmin, float[] sm) {
        int s = p + 4;
        for (int j = 0; j < 8; j++) {
            int a, m;
            if (j < 4) {
                a = w[s + j] & 63;
                m = w[s + j + 4] & 63;
            } else {
                a = (w[s + j + 4] & 0xF) | (((w[s + j - 4] & 0xFF) >> 6) << 4);
                m = ((w[s + j + 4] & 0xFF) >> 4) | (((w[s + j] & 0xFF) >> 6) << 4);
            }
            sm[j] = d * a;
            sm[8 + j] = dmin * m;
        }
    }

    private static final ThreadLocal<float[]> SCALES = ThreadLocal.withInitial(() -> new float[16]);

    private static float dotQ4K(byte[] w, int off, float[] x, int xo, int cols, boolean five) {
        int bytes = five ? 176 : 144;
        float[] sm = SCALES.get();
        FloatVector acc = FloatVector.zero(S), accMin = FloatVector.zero(S);
        for (int b = 0, nb = cols / 256; b < nb; b++) {
            int p = off + bytes * b, qh = p + 16, ql = p + (five ? 48 : 16), xb = xo + 256 * b;
            scalesK(w, p, f16(w, p), f16(w, p + 2), sm);
            for (int j = 0; j < 4; j++) {
                FloatVector sLo = FloatVector.zero(S), sHi = FloatVector.zero(S), xs = FloatVector.zero(S), xs2 = FloatVector.zero(S);
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
                    xs = xs.add(x0);
                    xs2 = xs2.add(x1);
                }
                acc = sLo.fma(FloatVector.broadcast(S, sm[2 * j]), acc);
                acc = sHi.fma(FloatVector.broadcast(S, sm[2 * j + 1]), acc);
                accMin = xs.fma(FloatVector.broadcast(S, sm[8 + 2 * j]), accMin);
                accMin = xs2.fma(FloatVector.broadcast(S, sm[9 + 2 * j]), accMin);
            }
        }
        return acc.sub(accMin).reduceLanes(VectorOperators.ADD);
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

    private static float dotQ6K(byte[] w, int off, float[] x, int xo, int cols) {
        FloatVector acc = FloatVector.zero(S);
        for (int b = 0, nb = cols / 256; b < nb; b++) {
            int p = off + 210 * b;
            float d = f16(w, p + 208);
            for (int h = 0; h < 2; h++) {
                int ql = p + 64 * h, qh = p + 128 + 32 * h, sc = p + 192 + 8 * h, xb = xo + 256 * b + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    int is = l / 16;
                    IntVector a = ints(w, ql + l), c = ints(w, ql + 32 + l), hq = ints(w, qh + l);
                    FloatVector q1 = floats(a.and(0x0F).or(hq.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32));
                    FloatVector q2 = floats(c.and(0x0F).or(hq.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32));
                    FloatVector q3 = floats(a.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(hq.and(0x30)).sub(32));
                    FloatVector q4 = floats(c.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(hq.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32));
                    acc = q1.mul(FloatVector.fromArray(S, x, xb + l)).fma(FloatVector.broadcast(S, d * w[sc + is]), acc);
                    acc = q2.mul(FloatVector.fromArray(S, x, xb + 32 + l)).fma(FloatVector.broadcast(S, d * w[sc + is + 2]), acc);
                    acc = q3.mul(FloatVector.fromArray(S, x, xb + 64 + l)).fma(FloatVector.broadcast(S, d * w[sc + is + 4]), acc);
                    acc = q4.mul(FloatVector.fromArray(S, x, xb + 96 + l)).fma(FloatVector.broadcast(S, d * w[sc + is + 6]), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static void decodeQ6K(byte[] w, int off, float[] out, int oo, int cols) {
        for (int b = 0, nb = cols / 256; b < nb; b++) {
            int p = off + 210 * b;
            float d = f16(w, p + 208);
            for (int h = 0; h < 2; h++) {
                int ql = p + 64 * h, qh = p + 128 + 32 * h, sc = p + 192 + 8 * h, o = oo + 256 * b + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    int is = l / 16;
                    IntVector a = ints(w, ql + l), c = ints(w, ql + 32 + l), hq = ints(w, qh + l);
                    FloatVector q1 = floats(a.and(0x0F).or(hq.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32));
                    FloatVector q2 = floats(c.and(0x0F).or(hq.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32));
                    FloatVector q3 = floats(a.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(hq.and(0x30)).sub(32));
                    FloatVector q4 = floats(c.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(hq.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32));
                    q1.mul(d * w[sc + is]).intoArray(out, o + l);
                    q2.mul(d * w[sc + is + 2]).intoArray(out, o + 32 + l);
                    q3.mul(d * w[sc + is + 4]).intoArray(out, o + 64 + l);
                    q4.mul(d * w[sc + is + 6]).intoArray(out, o + 96 + l);
                }
            }
        }
    }
}
