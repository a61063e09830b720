package dev.llmkit.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vector row kernels against plain double-precision formulas. */
class TrainKernelsTest {
    private final SplittableRandom r = new SplittableRandom(1);

    private float[] rand(int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return x;
    }

    @Test
    void expIsAccurateAndSaturates() {
        float[] x = new float[100_003], y = new float[x.length];
        for (int i = 0; i < x.length; i++) x[i] = (float) ((r.nextDouble() * 2 - 1) * 80);
        TrainKernels.exp(x, 0, y, 0, x.length, 0f, 1f);
        double worst = 0;
        for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - Math.exp(x[i])) / Math.exp(x[i]));
        assertTrue(worst < 4e-7, "worst relative error " + worst);
        float[] edge = {-1000f, 1000f, Float.NaN, 3f, 5f}, out = new float[edge.length * 8];
        float[] wide = new float[edge.length * 8];
        for (int i = 0; i < wide.length; i++) wide[i] = edge[i % edge.length];
        TrainKernels.exp(wide, 0, out, 0, wide.length, 1f, 0.5f);     // e^((x - 1) / 2)
        for (int i = 0; i < wide.length; i++) {
            float v = wide[i];
            if (Float.isNaN(v)) assertTrue(Float.isNaN(out[i]));
            else if (v < 0) assertTrue(out[i] >= 0 && out[i] < 1e-37);
            else if (v > 100) assertTrue(out[i] > 1e38);
            else assertEquals(Math.exp((v - 1) / 2), out[i], 1e-6 * out[i]);
        }
    }

    /**
     * A row's last, partial vector runs lane by lane: bit for bit what the vector lanes give (checked against the
     * same values inside a row of 64, a whole number of vectors at any width), NaN and the clamps included.
     */
    @Test
    void expTailIsBitForBitTheVectorLanes() {
        float[] x = rand(64, 9);
        x[5] = Float.NaN;
        x[9] = 200f;
        x[10] = -200f;
        x[11] = -0f;
        float[] whole = new float[64];
        TrainKernels.exp(x, 0, whole, 0, 64, 0.25f, 3f);
        for (int n = 1; n < 64; n++) {
            float[] part = new float[n];
            TrainKernels.exp(x, 0, part, 0, n, 0.25f, 3f);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(whole[i]), Float.floatToIntBits(part[i]), "n " + n + " element " + i);
            }
        }
    }

    /**
     * With room past n (attention's rows), a last partial vector that fits runs whole: the same values and the same sum,
     * bit for bit, as without room; zeros past n up to the vector's end, nothing written past that, nor past end.
     */
    @Test
    void expWithRoomIsBitForBitExpWithout() {
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        for (int n = 0; n <= 70; n++) {
            for (int room : new int[] {0, 1, lanes - 1, lanes, 40}) {
                float[] x = rand(n + room + 8, 11), plain = new float[n + room + 8], roomy = new float[n + room + 8];
                java.util.Arrays.fill(plain, -7f);
                java.util.Arrays.fill(roomy, -7f);
                float a = TrainKernels.exp(x, 2, plain, 1, n, 0.5f, 2f), b = TrainKernels.exp(x, 2, roomy, 1, n, n + room, 0.5f, 2f);
                assertEquals(Float.floatToIntBits(a), Float.floatToIntBits(b), "sum, n " + n + " room " + room);
                for (int i = 0; i < roomy.length; i++) {
                    int j = i - 1;     // index within the row
                    if (j >= 0 && j < n) assertEquals(Float.floatToIntBits(plain[i]), Float.floatToIntBits(roomy[i]), "n " + n + " element " + j);
                    else if (j >= n && j < n + room && roomy[i] != -7f) assertEquals(0f, roomy[i], "past n: a zero or untouched, at " + j);
                    else if (j < 0 || j >= n + room) assertEquals(-7f, roomy[i], "written past end at " + j + ", n " + n + " room " + room);
                }
            }
        }
    }

    @Test
    void expReturnsItsSumAndWritesOnlyItsRange() {
        for (int n = 0; n <= 70; n += n < 40 ? 1 : 15) {
            float[] x = rand(n + 20, 5), y = new float[n + 20];
            java.util.Arrays.fill(y, -7f);
            float sum = TrainKernels.exp(x, 3, y, 2, n, 0.5f, 2f);
            double want = 0;
            for (int i = 0; i < n; i++) {
                double e = Math.exp((x[3 + i] - 0.5f) * 2f);     // the argument rounded as the kernel rounds it
                assertEquals(e, y[2 + i], 4e-7 * e);
                want += y[2 + i];
            }
            assertEquals(want, sum, 1e-6 * (want + 1), "n " + n);
            for (int i = 0; i < y.length; i++) if (i < 2 || i >= 2 + n) assertEquals(-7f, y[i], "written outside the range at " + i);
            float[] inPlace = x.clone();     // src == dst, as softmax and cross-entropy call it
            assertEquals(sum, TrainKernels.exp(inPlace, 3, inPlace, 3, n, 0.5f, 2f));
            for (int i = 0; i < n; i++) assertEquals(y[2 + i], inPlace[3 + i]);
            float[] b = rand(n + 5, 3);
            double dot = 0;
            for (int i = 0; i < n; i++) dot += (double) x[1 + i] * b[4 + i];
            assertEquals(dot, TrainKernels.dot(x, 1, b, 4, n), 1e-5 * (n + 1));
        }
    }

    @Test
    void rowKernelsMatchTheirFormulas() {
        for (int n : new int[] {5, 16, 37, 256}) {
            float[] x = rand(n, 2), g = rand(n, 1), out = new float[n];
            float rstd = TrainKernels.rmsnorm(x, 0, g, 0, out, 0, n, 1e-5f);
            double ss = 0;
            for (float v : x) ss += v * v;
            assertEquals(1 / Math.sqrt(ss / n + 1e-5), rstd, 1e-5 * rstd);
            for (int i = 0; i < n; i++) assertEquals(x[i] * rstd * g[i], out[i], 1e-5);

            float[] h = rand(2 * n, 6), act = new float[n], dh = new float[2 * n], dg = rand(n, 1);
            TrainKernels.swiglu(h, 0, act, 0, n);
            TrainKernels.swigluBackward(dg, 0, h, 0, dh, 0, n);
            for (int i = 0; i < n; i++) {
                double a = h[i], b = h[n + i], s = 1 / (1 + Math.exp(-a));
                assertEquals(a * s * b, act[i], 1e-5 * (1 + Math.abs(a * s * b)));
                assertEquals(dg[i] * b * s * (1 + a * (1 - s)), dh[i], 1e-5 * (1 + Math.abs(dh[i])));
                assertEquals(dg[i] * a * s, dh[n + i], 1e-5 * (1 + Math.abs(dh[n + i])));
            }
            // bit for bit what exp gives for e^-gate, then the formulas in float (one pass per row, exp's polynomial inline)
            float[] e = new float[n];
            TrainKernels.exp(h, 0, e, 0, n, 0f, -1f);
            for (int i = 0; i < n; i++) {
                float a = h[i], b = h[n + i], d = dg[i], s = 1f / (1f + e[i]);
                assertEquals(a / (1f + e[i]) * b, act[i], 0f, "swiglu " + n + ", " + i);
                assertEquals(d * (a * s), dh[n + i], 0f, "swiglu backward (up) " + n + ", " + i);
                assertEquals(d * b * (s * (1f + a * (1f - s))), dh[i], 0f, "swiglu backward (gate) " + n + ", " + i);
            }

            float[] z = rand(n, 10), z0 = z.clone();
            int target = n / 3;
            float loss = TrainKernels.crossEntropy(z, 0, n, target, 0.5f);
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float v : z0) max = Math.max(max, v);
            for (float v : z0) sum += Math.exp(v - max);
            assertEquals(Math.log(sum) + max - z0[target], loss, 1e-5);
            for (int i = 0; i < n; i++) {
                double want = 0.5 * (Math.exp(z0[i] - max) / sum - (i == target ? 1 : 0));
                assertEquals(want, z[i], 1e-6);
            }
        }
    }
}
