package dev.llmkit.core.quant;

/**
 * Scalar reference codecs of the K-quants (super-blocks of 256), transcribed from the arithmetic of
 * llama.cpp's {@code quantize_row_q4_K_ref}, {@code q5_K_ref} and {@code q6_K_ref} (what llama-quantize
 * runs without an importance matrix): the iterative scale-and-min search of {@code make_qkx2_quants}
 * (Q4_K, Q5_K) and the scale search of {@code make_qx_quants} (Q6_K), {@code nearest_int}'s
 * round-half-even through the 1.5 * 2^23 trick, in the same float operations and order.
 *
 * <pre>
 * Q4_K 144 bytes: d f16 | dmin f16 | scales[12] (8 x 6-bit scale, 8 x 6-bit min) | qs[128] (4-bit, 64 per 32 bytes: low nibbles then high)
 * Q5_K 176 bytes: d f16 | dmin f16 | scales[12] | qh[32] (5th bits, 2 per 64 elements) | qs[128]
 * Q6_K 210 bytes: ql[128] (low 4 bits) | qh[64] (high 2 bits) | scales[16] int8 | d f16
 * </pre>
 * Element i of a sub-block of 32 decodes as {@code d * scale * q - dmin * min} (Q4_K, Q5_K), of a
 * sub-block of 16 as {@code d * scale * (q - 32)} (Q6_K).
 */
final class KQuants {
    private KQuants() {}

    static final int QK = 256;
    private static final float GROUP_MAX_EPS = 1e-15f;

    /** ggml's nearest_int: adds 1.5 * 2^23 so the float's mantissa holds the rounded (half to even) integer. */
    static int nearestInt(float v) {
        int i = Float.floatToRawIntBits(v + 12582912f);
        return (i & 0x007fffff) - 0x00400000;
    }

    // ------------------------------------------------------------------ Q4_K and Q5_K

    /** One super-block of Q4_K (bits 4) or Q5_K (bits 5) from x[xo..xo+256) into out[oo..). */
    static void quantizeQ45K(int bits, float[] x, int xo, byte[] out, int oo) {
        int nmax = bits == 4 ? 15 : 31;
        float rmin = bits == 4 ? -1f : -0.5f;
        int nstep = bits == 4 ? 20 : 15;
        int[] L = new int[QK], laux = new int[32];
        float[] weights = new float[32], mins = new float[8], scales = new float[8], theMin = new float[1];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += x[xo + 32 * j + l] * x[xo + 32 * j + l];
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) weights[l] = avX + Math.abs(x[xo + 32 * j + l]);
            scales[j] = makeQkx2Quants(32, nmax, x, xo + 32 * j, weights, L, 32 * j, theMin, laux, rmin, 0.1f, nstep);
            mins[j] = theMin[0];
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f, invMin = maxMin > 0 ? 63f / maxMin : 0f;
        int sc = oo + 4;
        for (int k = 0; k < 12; k++) out[sc + k] = 0;
        for (int j = 0; j < 8; j++) {
            int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF), lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
            if (j < 4) {
                out[sc + j] = (byte) ls;
                out[sc + j + 4] = (byte) lm;
            } else {
                out[sc + j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                out[sc + j - 4] |= (byte) ((ls >> 4) << 6);
                out[sc + j] |= (byte) ((lm >> 4) << 6);
            }
        }
        short dh = Float.floatToFloat16(maxScale / 63f), mh = Float.floatToFloat16(maxMin / 63f);
        putU16(out, oo, dh);
        putU16(out, oo + 2, mh);
        float d0 = Float.float16ToFloat(dh), m0 = Float.float16ToFloat(mh);
        for (int j = 0; j < 8; j++) {
            float d = d0 * scale(out, sc, j);
            if (d == 0f) continue;
            float dm = m0 * min(out, sc, j);
            for (int ii = 0; ii < 32; ii++) {
                int l = nearestInt((x[xo + 32 * j + ii] + dm) / d);
                L[32 * j + ii] = Math.max(0, Math.min(nmax, l));
            }
        }
        if (bits == 4) {
            int q = oo + 16;
            for (int j = 0; j < QK; j += 64) {
                for (int l = 0; l < 32; l++) out[q + l] = (byte) (L[j + l] | (L[j + l + 32] << 4));
                q += 32;
            }
        } else {
            int qh = oo + 16, ql = oo + 48;
            for (int k = 0; k < 32; k++) out[qh + k] = 0;
            int m1 = 1, m2 = 2;
            for (int n = 0; n < QK; n += 64) {
                for (int j = 0; j < 32; j++) {
                    int l1 = L[n + j], l2 = L[n + j + 32];
                    if (l1 > 15) {
                        l1 -= 16;
                        out[qh + j] |= (byte) m1;
                    }
                    if (l2 > 15) {
                        l2 -= 16;
                        out[qh + j] |= (byte) m2;
                    }
                    out[ql + j] = (byte) (l1 | (l2 << 4));
                }
                m1 <<= 2;
                m2 <<= 2;
                ql += 32;
            }
        }
    }

    /** The 6-bit scale of sub-block j (0..7) from the 12 packed scale bytes at sc (get_scale_min_k4). */
    static int scale(byte[] b, int sc, int j) {
        return j < 4 ? b[sc + j] & 63 : (b[sc + j + 4] & 0xF) | (((b[sc + j - 4] & 0xFF) >> 6) << 4);
    }

    /** The 6-bit min of sub-block j. */
    static int min(byte[] b, int sc, int j) {
        return j < 4 ? b[sc + j + 4] & 63 : ((b[sc + j + 4] & 0xFF) >> 4) | (((b[sc + j] & 0xFF) >> 6) << 4);
    }

    /**
     * make_qkx2_quants without MAD: L[lo..lo+n) in [0, nmax] and the returned scale with theMin[0] = -min
     * minimise the weighted squared error of scale * L + min, min <= 0, over nstep + 1 trial scales.
     */
    private static float makeQkx2Quants(int n, int nmax, float[] x, int xo, float[] weights, int[] L, int lo, float[] theMin,
                                        int[] laux, float rmin, float rdelta, int nstep) {
        float min = x[xo], max = x[xo], sumW = weights[0], sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            float v = x[xo + i];
            if (v < min) min = v;
            if (v > max) max = v;
            float w = weights[i];
            sumW += w;
            sumX += w * v;
        }
        if (min > 0) min = 0;
        if (max == min) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            theMin[0] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min), scale = 1 / iscale, bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = nearestInt(iscale * (x[xo + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lo + i] + min - x[xo + i];
            bestError += weights[i] * (diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
                laux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[xo + i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / D, thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float err = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    err += weights[i] * (diff * diff);
                }
                if (err < bestError) {
                    System.arraycopy(laux, 0, L, lo, n);
                    bestError = err;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    static void dequantizeQ45K(int bits, byte[] in, int p, float[] out, int oo) {
        float d = f16(in, p), dmin = f16(in, p + 2);
        int sc = p + 4, qh = p + 16, ql = p + (bits == 4 ? 16 : 48), y = oo, u1 = 1, u2 = 2;
        for (int j = 0, is = 0; j < QK; j += 64, is += 2) {
            float d1 = d * scale(in, sc, is), m1 = dmin * min(in, sc, is), d2 = d * scale(in, sc, is + 1), m2 = dmin * min(in, sc, is + 1);
            for (int l = 0; l < 32; l++) {
                int q = (in[ql + l] & 0xF) + (bits == 5 && (in[qh + l] & u1) != 0 ? 16 : 0);
                out[y++] = d1 * q - m1;
            }
            for (int l = 0; l < 32; l++) {
                int q = ((in[ql + l] & 0xFF) >> 4) + (bits == 5 && (in[qh + l] & u2) != 0 ? 16 : 0);
                out[y++] = d2 * q - m2;
            }
            ql += 32;
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    // ------------------------------------------------------------------ Q6_K

    static void quantizeQ6K(float[] x, int xo, byte[] out, int oo) {
        int[] L = new int[QK];
        float[] scales = new float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float s = makeQxQuants(16, 32, x, xo + 16 * ib, L, 16 * ib);
            scales[ib] = s;
            if (Math.abs(s) > maxAbsScale) {
                maxAbsScale = Math.abs(s);
                maxScale = s;
            }
        }
        if (maxAbsScale < GROUP_MAX_EPS) {
            for (int k = 0; k < 210; k++) out[oo + k] = 0;
            return;
        }
        float iscale = -128f / maxScale;
        short dh = Float.floatToFloat16(1 / iscale);
        putU16(out, oo + 208, dh);
        for (int ib = 0; ib < 16; ib++) out[oo + 192 + ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
        float d0 = Float.float16ToFloat(dh);
        for (int j = 0; j < 16; j++) {
            float d = d0 * out[oo + 192 + j];
            if (d == 0f) continue;
            for (int ii = 0; ii < 16; ii++) {
                int l = nearestInt(x[xo + 16 * j + ii] / d);
                L[16 * j + ii] = Math.max(-32, Math.min(31, l)) + 32;
            }
        }
        int ql = oo, qh = oo + 128;
        for (int j = 0; j < QK; j += 128) {
            for (int l = 0; l < 32; l++) {
                int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                out[ql + l] = (byte) (q1 | (q3 << 4));
                out[ql + l + 32] = (byte) (q2 | (q4 << 4));
                out[qh + l] = (byte) ((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
            ql += 64;
            qh += 32;
        }
    }

    /** make_qx_quants with rmse_type 1 and no importance weights (w = x^2): L in [0, 2 nmax), returns the scale. */
    private static float makeQxQuants(int n, int nmax, float[] x, int xo, int[] L, int lo) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) L[lo + i] = 0;
            return 0f;
        }
        float iscale = -nmax / max, sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * v)));
            L[lo + i] = l + nmax;
            float w = v * v;
            sumlx += w * v * l;
            suml2 += w * l * l;
        }
        float scale = sumlx / suml2, best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * v)));
                float w = v * v;
                sumlx += w * v * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    static void dequantizeQ6K(byte[] in, int p, float[] out, int oo) {
        float d = f16(in, p + 208);
        int ql = p, qh = p + 128, sc = p + 192, y = oo;
        for (int n = 0; n < QK; n += 128) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16, h = in[qh + l] & 0xFF;
                int q1 = ((in[ql + l] & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((in[ql + l + 32] & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = (((in[ql + l] & 0xFF) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = (((in[ql + l + 32] & 0xFF) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                out[y + l] = d * in[sc + is] * q1;
                out[y + l + 32] = d * in[sc + is + 2] * q2;
                out[y + l + 64] = d * in[sc + is + 4] * q3;
                out[y + l + 96] = d * in[sc + is + 6] * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }

    private static float f16(byte[] b, int p) {
        return Float.float16ToFloat((short) ((b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8));
    }

    private static void putU16(byte[] b, int p, short v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
    }
}
