package dev.llmkit.eval.engine;

/**
 * The cold start's batched weight products (prefill and scoring, F32 or decoded quantized rows) as plain
 * loops that C2 vectorises by itself (SuperWord): no Vector API, so C2 compiles them in about 0.12 s where
 * the Vector API's batched kernels take it about 0.5 s more ({@link ColdStart}). {@link CompileAhead}
 * has C2 compile them as the engine starts; until then the engine runs {@link ColdKernels}' C1 loops.
 *
 * <p>The activations are transposed first, one array per input column ({@code xt[k][t]} = token t's
 * value k), so that the innermost loop runs over tokens: {@code acc[t] = fma(w[r, k], xt[k][t], acc[t])},
 * every array indexed by the loop variable itself. (SuperWord vectorises a loop over two arrays only
 * where it can prove that they do not overlap in a way that changes its result; an array read at an
 * offset that it cannot compare with the one written is read one element at a time.) Eight depth steps
 * per pass over the accumulators and two weight rows at a time: ten loads and two stores of a vector
 * for sixteen FMAs. Each output is one chain of {@link Math#fma} in index order starting from zero, as in
 * {@link ColdKernels} and {@link dev.llmkit.core.kernels.Sgemm}, so the bits equal theirs.
 */
final class AutoKernels {
    private AutoKernels() {}

    /** {@link #transpose} of x's first {@code cols} columns, the columns split over the threads of {@code par}. */
    static void transpose(dev.llmkit.core.kernels.Parallel par, float[] x, int ldx, int nt, int cols, float[][] xt) {
        par.range(cols, (k0, k1) -> transpose(x, ldx, nt, xt, k0, k1));
    }

    /** xt[k][t] = x[t * ldx + k] for columns k in [k0, k1) and tokens t in [0, nt). */
    static void transpose(float[] x, int ldx, int nt, float[][] xt, int k0, int k1) {
        for (int k = k0; k < k1; k++) {
            float[] row = xt[k];
            for (int t = 0; t < nt; t++) row[t] = x[t * ldx + k];
        }
    }

    /**
     * out[t * ldo + oOff + i] = w[wOff + i * cols, + cols) . x_t for weight rows i in [0, n) and tokens t in
     * [0, nt), x_t given as {@code xt} ({@link #transpose}); {@code acc0} and {@code acc1} hold nt floats each.
     */
    static void matmul(float[] w, int wOff, int cols, float[][] xt, int nt, float[] acc0, float[] acc1, float[] out, int oOff, int ldo, int n) {
        int i = 0;
        for (; i + 2 <= n; i += 2) {
            int b = wOff + i * cols, c = b + cols;
            for (int t = 0; t < nt; t++) {
                acc0[t] = 0f;
                acc1[t] = 0f;
            }
            int k = 0;
            for (; k + 8 <= cols; k += 8) {
                float u0 = w[b + k], u1 = w[b + k + 1], u2 = w[b + k + 2], u3 = w[b + k + 3];
                float u4 = w[b + k + 4], u5 = w[b + k + 5], u6 = w[b + k + 6], u7 = w[b + k + 7];
                float v0 = w[c + k], v1 = w[c + k + 1], v2 = w[c + k + 2], v3 = w[c + k + 3];
                float v4 = w[c + k + 4], v5 = w[c + k + 5], v6 = w[c + k + 6], v7 = w[c + k + 7];
                float[] x0 = xt[k], x1 = xt[k + 1], x2 = xt[k + 2], x3 = xt[k + 3], x4 = xt[k + 4], x5 = xt[k + 5], x6 = xt[k + 6], x7 = xt[k + 7];
                for (int t = 0; t < nt; t++) {
                    float a0 = x0[t], a1 = x1[t], a2 = x2[t], a3 = x3[t], a4 = x4[t], a5 = x5[t], a6 = x6[t], a7 = x7[t];
                    acc0[t] = Math.fma(u7, a7, Math.fma(u6, a6, Math.fma(u5, a5, Math.fma(u4, a4,
                            Math.fma(u3, a3, Math.fma(u2, a2, Math.fma(u1, a1, Math.fma(u0, a0, acc0[t]))))))));
                    acc1[t] = Math.fma(v7, a7, Math.fma(v6, a6, Math.fma(v5, a5, Math.fma(v4, a4,
                            Math.fma(v3, a3, Math.fma(v2, a2, Math.fma(v1, a1, Math.fma(v0, a0, acc1[t]))))))));
                }
            }
            for (; k < cols; k++) {
                float u = w[b + k], v = w[c + k];
                float[] x0 = xt[k];
                for (int t = 0; t < nt; t++) {
                    acc0[t] = Math.fma(u, x0[t], acc0[t]);
                    acc1[t] = Math.fma(v, x0[t], acc1[t]);
                }
            }
            for (int t = 0, o = oOff + i; t < nt; t++, o += ldo) {
                out[o] = acc0[t];
                out[o + 1] = acc1[t];
            }
        }
        if (i < n) row(w, wOff + i * cols, cols, xt, nt, acc0, out, oOff + i, ldo);
    }

    /** out[t * ldo + oOff] = w[b, b + cols) . x_t for tokens t in [0, nt): one weight row. */
    static void row(float[] w, int b, int cols, float[][] xt, int nt, float[] acc, float[] out, int oOff, int ldo) {
        for (int t = 0; t < nt; t++) acc[t] = 0f;
        int k = 0;
        for (; k + 8 <= cols; k += 8) {
            float u0 = w[b + k], u1 = w[b + k + 1], u2 = w[b + k + 2], u3 = w[b + k + 3];
            float u4 = w[b + k + 4], u5 = w[b + k + 5], u6 = w[b + k + 6], u7 = w[b + k + 7];
            float[] x0 = xt[k], x1 = xt[k + 1], x2 = xt[k + 2], x3 = xt[k + 3], x4 = xt[k + 4], x5 = xt[k + 5], x6 = xt[k + 6], x7 = xt[k + 7];
            for (int t = 0; t < nt; t++) {
                acc[t] = Math.fma(u7, x7[t], Math.fma(u6, x6[t], Math.fma(u5, x5[t], Math.fma(u4, x4[t],
                        Math.fma(u3, x3[t], Math.fma(u2, x2[t], Math.fma(u1, x1[t], Math.fma(u0, x0[t], acc[t]))))))));
            }
        }
        for (; k < cols; k++) {
            float u = w[b + k];
            float[] x0 = xt[k];
            for (int t = 0; t < nt; t++) acc[t] = Math.fma(u, x0[t], acc[t]);
        }
        for (int t = 0, o = oOff; t < nt; t++, o += ldo) out[o] = acc[t];
    }

    /**
     * Q8_0 rows decoded for the cold batched products: {@code n} values (whole blocks of 32: a two-byte F16 scale d,
     * then 32 signed bytes q) from {@code in[io]} into {@code out[oo]}, each q * d, as the scalar codec ({@link
     * dev.llmkit.core.quant.GgmlType#dequantize}) gives them, bit for bit. Compiled ahead with the products (C1's
     * code of the codec is several times slower).
     */
    static void decodeQ8_0(byte[] in, int io, int n, float[] out, int oo) {
        for (int b = 0; b < n / 32; b++) {
            int p = io + 34 * b, o = oo + 32 * b;
            float d = Float.float16ToFloat((short) (in[p] & 0xff | in[p + 1] << 8));
            for (int j = 0; j < 32; j++) out[o + j] = in[p + 2 + j] * d;
        }
    }
}
