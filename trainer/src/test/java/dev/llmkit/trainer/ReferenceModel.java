package dev.llmkit.trainer;

import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.TensorNames;

/**
 * An independent, deliberately plain double-precision forward pass of the same architecture (for
 * finite-difference gradients): no fusion, no GEMM, no blocking, one position at a time.
 */
final class ReferenceModel {
    private final ModelConfig c;
    private final ParamLayout layout;

    ReferenceModel(ModelConfig c) {
        this.c = c;
        this.layout = new ParamLayout(c);
    }

    private double[] w(double[] p, String name) {
        int o = layout.offset(name), n = layout.length(name);
        double[] r = new double[n];
        System.arraycopy(p, o, r, 0, n);
        return r;
    }

    /** Mean cross-entropy over b sequences of t tokens. */
    double loss(double[] p, int[] in, int[] out, int b, int t) {
        double sum = 0;
        for (int s = 0; s < b; s++) {
            double[][] logits = logits(p, java.util.Arrays.copyOfRange(in, s * t, (s + 1) * t));
            for (int i = 0; i < t; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (double z : logits[i]) max = Math.max(max, z);
                double e = 0;
                for (double z : logits[i]) e += Math.exp(z - max);
                sum += Math.log(e) + max - logits[i][out[s * t + i]];
            }
        }
        return sum / (b * t);
    }

    /**
     * Weighted cross-entropy sum of a packed batch: sum_i w[i] * loss_i, each row split into the examples
     * that {@code pos} marks (a new example where the position is 0), every example run on its own.
     */
    double weightedLoss(double[] p, int[] in, int[] out, float[] w, int[] pos, int b, int t) {
        double sum = 0;
        for (int s = 0; s < b; s++) {
            int start = 0;
            while (start < t) {
                int end = start + 1;
                while (end < t && pos[s * t + end] != 0) end++;
                double[][] logits = logits(p, java.util.Arrays.copyOfRange(in, s * t + start, s * t + end));
                for (int i = start; i < end; i++) {
                    int r = s * t + i;
                    if (w[r] == 0f) continue;
                    double[] z = logits[i - start];
                    double max = Double.NEGATIVE_INFINITY;
                    for (double v : z) max = Math.max(max, v);
                    double e = 0;
                    for (double v : z) e += Math.exp(v - max);
                    sum += w[r] * (Math.log(e) + max - z[out[r]]);
                }
                start = end;
            }
        }
        return sum;
    }

    double[][] logits(double[] p, int[] tok) {
        int t = tok.length, d = c.dim(), hd = c.headDim(), nh = c.nHeads(), nkv = c.nKvHeads(), f = c.hiddenDim();
        double[] emb = w(p, TensorNames.EMBED);
        double[][] x = new double[t][d];
        for (int i = 0; i < t; i++) System.arraycopy(emb, tok[i] * d, x[i], 0, d);
        for (int l = 0; l < c.nLayers(); l++) {
            double[] wq = w(p, TensorNames.blk(l, "attn_q")), wk = w(p, TensorNames.blk(l, "attn_k")), wv = w(p, TensorNames.blk(l, "attn_v"));
            double[] wo = w(p, TensorNames.blk(l, "attn_output")), w1 = w(p, TensorNames.blk(l, "ffn_gate"));
            double[] w3 = w(p, TensorNames.blk(l, "ffn_up")), w2 = w(p, TensorNames.blk(l, "ffn_down"));
            double[][] q = new double[t][], k = new double[t][], v = new double[t][];
            for (int i = 0; i < t; i++) {
                double[] a = norm(x[i], w(p, TensorNames.blk(l, "attn_norm")));
                q[i] = rope(mat(wq, a, d), i, nh, hd);
                k[i] = rope(mat(wk, a, nkv * hd), i, nkv, hd);
                v[i] = mat(wv, a, nkv * hd);
            }
            double[][] x2 = new double[t][];
            for (int i = 0; i < t; i++) {
                double[] yv = new double[d];
                for (int h = 0; h < nh; h++) {
                    int g = h / (nh / nkv);
                    double[] s = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        for (int e = 0; e < hd; e++) s[j] += q[i][h * hd + e] * k[j][g * hd + e];
                        s[j] /= Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j <= i; j++) z += (s[j] = Math.exp(s[j] - max));
                    for (int j = 0; j <= i; j++) for (int e = 0; e < hd; e++) yv[h * hd + e] += s[j] / z * v[j][g * hd + e];
                }
                double[] o = mat(wo, yv, d);
                x2[i] = new double[d];
                for (int e = 0; e < d; e++) x2[i][e] = x[i][e] + o[e];
                double[] a = norm(x2[i], w(p, TensorNames.blk(l, "ffn_norm")));
                double[] g1 = mat(w1, a, f), g3 = mat(w3, a, f), gg = new double[f];
                for (int e = 0; e < f; e++) gg[e] = g1[e] / (1 + Math.exp(-g1[e])) * g3[e];
                double[] down = mat(w2, gg, d);
                for (int e = 0; e < d; e++) x2[i][e] += down[e];
            }
            x = x2;
        }
        double[] out = w(p, c.tiedEmbeddings() ? TensorNames.EMBED : TensorNames.OUTPUT);
        double[][] logits = new double[t][];
        for (int i = 0; i < t; i++) logits[i] = mat(out, norm(x[i], w(p, TensorNames.OUTPUT_NORM)), c.vocabSize());
        return logits;
    }

    private double[] norm(double[] x, double[] g) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double r = 1 / Math.sqrt(ss / x.length + c.normEps());
        double[] o = new double[x.length];
        for (int i = 0; i < x.length; i++) o[i] = x[i] * r * g[i];
        return o;
    }

    private static double[] mat(double[] w, double[] x, int rows) {
        double[] o = new double[rows];
        for (int r = 0; r < rows; r++) for (int i = 0; i < x.length; i++) o[r] += w[r * x.length + i] * x[i];
        return o;
    }

    private double[] rope(double[] x, int pos, int heads, int hd) {
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < hd / 2; i++) {
                double a = pos * Math.pow(c.ropeTheta(), -2.0 * i / hd), cs = Math.cos(a), sn = Math.sin(a);
                double v0 = x[h * hd + 2 * i], v1 = x[h * hd + 2 * i + 1];
                x[h * hd + 2 * i] = v0 * cs - v1 * sn;
                x[h * hd + 2 * i + 1] = v0 * sn + v1 * cs;
            }
        }
        return x;
    }
}
