package dev.llmkit.core.quant;

/**
 * Scalar reference codecs of the block types, transcribed from the arithmetic of llama.cpp's
 * reference quantizers ({@code quantize_row_*_ref} in ggml-quants.c): the same float operations in
 * the same order, C's {@code roundf} (half away from zero) in Q8_0, truncation of {@code x*id + 8.5}
 * in Q4_0, fp16 scales rounded to nearest even. Plain loops: the reference the fast kernels are tested against.
 */
final class GgmlCodecs {
    private GgmlCodecs() {}

    static void quantize(GgmlType t, float[] x, int xo, int n, byte[] out, int oo) {
        switch (t) {
            case F32 -> { for (int i = 0; i < n; i++) putF32(out, oo + 4 * i, x[xo + i]); }
            case F16 -> { for (int i = 0; i < n; i++) putU16(out, oo + 2 * i, Float.floatToFloat16(x[xo + i])); }
            case BF16 -> { for (int i = 0; i < n; i++) putU16(out, oo + 2 * i, toBf16(x[xo + i])); }
            case Q8_0 -> { for (int b = 0; b < n / 32; b++) q8_0(x, xo + 32 * b, out, oo + 34 * b); }
            case Q4_0 -> { for (int b = 0; b < n / 32; b++) q4_0(x, xo + 32 * b, out, oo + 18 * b); }
            case Q4_1 -> { for (int b = 0; b < n / 32; b++) q4_1(x, xo + 32 * b, out, oo + 20 * b); }
            case Q5_0 -> { for (int b = 0; b < n / 32; b++) q5_0(x, xo + 32 * b, out, oo + 22 * b); }
            case Q5_1 -> { for (int b = 0; b < n / 32; b++) q5_1(x, xo + 32 * b, out, oo + 24 * b); }
            case Q4_K -> { for (int b = 0; b < n / 256; b++) KQuants.quantizeQ45K(4, x, xo + 256 * b, out, oo + 144 * b); }
            case Q5_K -> { for (int b = 0; b < n / 256; b++) KQuants.quantizeQ45K(5, x, xo + 256 * b, out, oo + 176 * b); }
            case Q6_K -> { for (int b = 0; b < n / 256; b++) KQuants.quantizeQ6K(x, xo + 256 * b, out, oo + 210 * b); }
            default -> throw new UnsupportedOperationException(t + " has no codec in this llmkit");
        }
    }

    static void dequantize(GgmlType t, byte[] in, int io, int n, float[] out, int oo) {
        switch (t) {
            case F32 -> { for (int i = 0; i < n; i++) out[oo + i] = Float.intBitsToFloat(u32(in, io + 4 * i)); }
            case F16 -> { for (int i = 0; i < n; i++) out[oo + i] = Float.float16ToFloat((short) u16(in, io + 2 * i)); }
            case BF16 -> { for (int i = 0; i < n; i++) out[oo + i] = Float.intBitsToFloat(u16(in, io + 2 * i) << 16); }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    int p = io + 34 * b;
                    float d = f16(in, p);
                    for (int j = 0; j < 32; j++) out[oo + 32 * b + j] = in[p + 2 + j] * d;
                }
            }
            case Q4_0, Q4_1, Q5_0, Q5_1 -> { for (int b = 0; b < n / 32; b++) dequantize4or5(t, in, io + t.blockBytes * b, out, oo + 32 * b); }
            case Q4_K -> { for (int b = 0; b < n / 256; b++) KQuants.dequantizeQ45K(4, in, io + 144 * b, out, oo + 256 * b); }
            case Q5_K -> { for (int b = 0; b < n / 256; b++) KQuants.dequantizeQ45K(5, in, io + 176 * b, out, oo + 256 * b); }
            case Q6_K -> { for (int b = 0; b < n / 256; b++) KQuants.dequantizeQ6K(in, io + 210 * b, out, oo + 256 * b); }
            default -> throw new UnsupportedOperationException(t + " has no codec in this llmkit");
        }
    }

    /** Q8_0: d = amax / 127, q = roundf(x / d). */
    private static void q8_0(float[] x, int xo, byte[] out, int oo) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[xo + j]));
        float d = amax / 127f, id = d != 0f ? 1f / d : 0f;
        putU16(out, oo, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) out[oo + 2 + j] = (byte) roundf(x[xo + j] * id);
    }

    /** Q4_0: max = the value of largest magnitude, d = max / -8, q = min(15, (int8) (x / d + 8.5)). */
    private static void q4_0(float[] x, int xo, byte[] out, int oo) {
        float max = signedMax(x, xo);
        float d = max / -8f, id = d != 0f ? 1f / d : 0f;
        putU16(out, oo, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int x0 = Math.min(15, (int) (byte) (int) (x[xo + j] * id + 8.5f)), x1 = Math.min(15, (int) (byte) (int) (x[xo + 16 + j] * id + 8.5f));
            out[oo + 2 + j] = (byte) (x0 | (x1 << 4));
        }
    }

    /** Q4_1: d = (max - min) / 15, m = min, q = min(15, (int8) ((x - min) / d + 0.5)). */
    private static void q4_1(float[] x, int xo, byte[] out, int oo) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            min = Math.min(min, x[xo + j]);
            max = Math.max(max, x[xo + j]);
        }
        float d = (max - min) / 15f, id = d != 0f ? 1f / d : 0f;
        putU16(out, oo, Float.floatToFloat16(d));
        putU16(out, oo + 2, Float.floatToFloat16(min));
        for (int j = 0; j < 16; j++) {
            int x0 = Math.min(15, (int) (byte) (int) ((x[xo + j] - min) * id + 0.5f)), x1 = Math.min(15, (int) (byte) (int) ((x[xo + 16 + j] - min) * id + 0.5f));
            out[oo + 4 + j] = (byte) (x0 | (x1 << 4));
        }
    }

    /** Q5_0: as Q4_0 with d = max / -16 and q = min(31, (int8) (x / d + 16.5)); the 5th bits in qh. */
    private static void q5_0(float[] x, int xo, byte[] out, int oo) {
        float max = signedMax(x, xo);
        float d = max / -16f, id = d != 0f ? 1f / d : 0f;
        putU16(out, oo, Float.floatToFloat16(d));
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int x0 = Math.min(31, (int) (byte) (int) (x[xo + j] * id + 16.5f)), x1 = Math.min(31, (int) (byte) (int) (x[xo + 16 + j] * id + 16.5f));
            out[oo + 6 + j] = (byte) ((x0 & 0x0F) | ((x1 & 0x0F) << 4));
            qh |= ((x0 & 0x10) >>> 4) << j;
            qh |= ((x1 & 0x10) >>> 4) << (j + 16);
        }
        putU32(out, oo + 2, qh);
    }

    /** Q5_1: d = (max - min) / 31, m = min, q = (uint8) ((x - min) / d + 0.5); the 5th bits in qh. */
    private static void q5_1(float[] x, int xo, byte[] out, int oo) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            min = Math.min(min, x[xo + j]);
            max = Math.max(max, x[xo + j]);
        }
        float d = (max - min) / 31f, id = d != 0f ? 1f / d : 0f;
        putU16(out, oo, Float.floatToFloat16(d));
        putU16(out, oo + 2, Float.floatToFloat16(min));
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int x0 = (int) ((x[xo + j] - min) * id + 0.5f) & 0xFF, x1 = (int) ((x[xo + 16 + j] - min) * id + 0.5f) & 0xFF;
            out[oo + 8 + j] = (byte) ((x0 & 0x0F) | ((x1 & 0x0F) << 4));
            qh |= ((x0 & 0x10) >>> 4) << j;
            qh |= ((x1 & 0x10) >>> 4) << (j + 16);
        }
        putU32(out, oo + 4, qh);
    }

    /** The value of largest magnitude of a block of 32 (the first of equals), sign kept: the _0 types' scale. */
    private static float signedMax(float[] x, int xo) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[xo + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    /** Q4_0/Q4_1/Q5_0/Q5_1 blocks back to floats: x = d * q (+ m), with q centred at 8 or 16 for the _0 types. */
    private static void dequantize4or5(GgmlType t, byte[] in, int p, float[] out, int oo) {
        float d = f16(in, p);
        boolean hasMin = t == GgmlType.Q4_1 || t == GgmlType.Q5_1, five = t == GgmlType.Q5_0 || t == GgmlType.Q5_1;
        float m = hasMin ? f16(in, p + 2) : 0f;
        int qh = five ? u32(in, p + (hasMin ? 4 : 2)) : 0, qs = p + (hasMin ? 4 : 2) + (five ? 4 : 0);
        int centre = hasMin ? 0 : five ? 16 : 8;
        for (int j = 0; j < 16; j++) {
            int lo = in[qs + j] & 0x0F, hi = (in[qs + j] & 0xFF) >>> 4;
            if (five) {
                lo |= ((qh >>> j) & 1) << 4;
                hi |= ((qh >>> (j + 16)) & 1) << 4;
            }
            out[oo + j] = (lo - centre) * d + m;
            out[oo + 16 + j] = (hi - centre) * d + m;
        }
    }

    /** C's roundf: half away from zero (exact in double for floats). */
    static int roundf(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (int) (v < 0 ? -a : a);
    }

    /** ggml's fp32 -> bf16: NaN kept quiet, else round to nearest even on the upper 16 bits. */
    static short toBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 64);
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    private static float f16(byte[] b, int p) {
        return Float.float16ToFloat((short) u16(b, p));
    }

    private static int u16(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8;
    }

    private static int u32(byte[] b, int p) {
        return u16(b, p) | u16(b, p + 2) << 16;
    }

    private static void putU16(byte[] b, int p, short v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
    }

    private static void putU32(byte[] b, int p, int v) {
        putU16(b, p, (short) v);
        putU16(b, p + 2, (short) (v >>> 16));
    }

    private static void putF32(byte[] b, int p, float v) {
        putU32(b, p, Float.floatToRawIntBits(v));
    }
}
