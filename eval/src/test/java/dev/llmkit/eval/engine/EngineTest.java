package dev.llmkit.eval.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.kernels.Sgemm;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EngineTest {
    static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Test
    void vectorKernelsMatchTheScalarReference() {
        SplittableRandom r = new SplittableRandom(1);
        for (int[] shape : new int[][] {{7, 5, 3}, {64, 64, 32}, {33, 100, 9}, {4, 17, 1}, {96, 288, 5}}) {
            int rows = shape[0], in = shape[1], nt = shape[2];
            float[] w = random(r, rows * in), x = random(r, nt * in);
            float[] a = new float[nt * rows], b = new float[nt * rows];
            float[] packed = new float[Sgemm.packedSize(rows, in)];
            Sgemm.packTransposed(w, 0, in, rows, in, packed, 0, Sgemm.panels(rows));
            Sgemm.rows(0, nt, rows, in, x, 0, in, 1, packed, 0, Sgemm.NR, in * Sgemm.NR, a, 0, rows, false, Sgemm.packScratch());
            Kernels.matmulScalar(w, x, in, b, 0, rows, in, nt, 0, rows);
            for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-4f * (1 + Math.abs(b[i])));
            float[] v = new float[rows], u = new float[rows];
            Kernels.matvec(w, x, v, in, 0, rows);
            Kernels.matvecScalar(w, x, u, in, 0, rows);
            for (int i = 0; i < rows; i++) assertEquals(u[i], v[i], 1e-4f * (1 + Math.abs(u[i])));
            float plain = 0;
            for (int i = 0; i < in; i++) plain += w[i] * x[i];
            assertEquals(plain, Kernels.dot(w, 0, x, 0, in), 1e-4f * (1 + Math.abs(plain)));
            // Weighted sum of nt "value rows" of width rows/2 at stride in, weights from x.
            int width = Math.max(1, rows / 2);
            float[] ws = new float[width], plainWs = new float[width];
            Kernels.weightedSum(x, 0, nt, w, 1, in, ws, 0, width);
            for (int i = 0; i < width; i++) for (int t = 0; t < nt; t++) plainWs[i] += x[t] * w[1 + t * in + i];
            assertArrayEquals(plainWs, ws, 1e-4f);
            float[] h = new float[in], g = random(r, in), uu = random(r, in);
            Elementwise.swiglu(h, 0, g, 0, uu, 0, in);
            for (int i = 0; i < in; i++) assertEquals(g[i] / (1 + Math.exp(-g[i])) * uu[i], h[i], 1e-5 * (1 + Math.abs(h[i])));
            // RMSNorm and the scaled softmax at an offset, against their formulas in double.
            float[] gain = random(r, in), normed = new float[in + 3];
            Elementwise.rmsnorm(normed, 3, x, 0, gain, in, 1e-5f);
            double ss = 0;
            for (int i = 0; i < in; i++) ss += (double) x[i] * x[i];
            for (int i = 0; i < in; i++) assertEquals(x[i] / Math.sqrt(ss / in + 1e-5) * gain[i], normed[3 + i], 1e-5 * (1 + Math.abs(normed[3 + i])));
            float[] sm = x.clone();
            float scale = 0.37f;
            Elementwise.softmax(sm, 1, in - 1, scale);
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int i = 1; i < in; i++) max = Math.max(max, x[i]);
            for (int i = 1; i < in; i++) z += Math.exp((x[i] - max) * scale);
            assertEquals(x[0], sm[0]);
            for (int i = 1; i < in; i++) assertEquals(Math.exp((x[i] - max) * scale) / z, sm[i], 1e-6);
        }
    }

    static Weights model(int ctx) {
        return Weights.init(new ModelConfig(48, 80, 2, 6, 2, 300, ctx, 1e-5f, 10000f, true), 0.3f, 5);
    }

    @Test
    void scoreGivesTheLogSoftmaxOfTokenByTokenLogits() {
        Weights w = model(300);
        int[] tokens = new SplittableRandom(8).ints(260, 0, 300).toArray();     // three prefill blocks
        double[] lp = new double[tokens.length - 1];
        try (LlamaEngine a = new LlamaEngine(w, 2); LlamaEngine b = new LlamaEngine(w, 1)) {
            a.score(tokens, 0, lp);
            for (int i = 0; i < tokens.length - 1; i++) {
                float[] logits = b.forward(tokens[i], i, true);
                double max = Double.NEGATIVE_INFINITY, z = 0;
                for (float v : logits) max = Math.max(max, v);
                for (float v : logits) z += Math.exp(v - max);
                assertEquals(logits[tokens[i + 1]] - max - Math.log(z), lp[i], 1e-3, "position " + i);
            }
        }
    }

    @Test
    void prefillEqualsTokenByTokenAndThreadsDoNotChangeResults() {
        Weights w = model(200);
        int[] prompt = new SplittableRandom(2).ints(150, 0, 300).toArray();     // crosses the 128-token prefill block
        float[] stepwise, batched, twoThreads;
        try (LlamaEngine e = new LlamaEngine(w, 1)) {
            float[] l = null;
            for (int i = 0; i < prompt.length; i++) l = e.forward(prompt[i], i, true);
            stepwise = l.clone();
            batched = e.prefill(prompt, 0).clone();
        }
        try (LlamaEngine e = new LlamaEngine(w, 3)) {
            twoThreads = e.prefill(prompt, 0).clone();
            float[] next = e.forward(5, prompt.length, true);
            assertEquals(300, next.length);
        }
        for (int i = 0; i < stepwise.length; i++) {
            assertEquals(stepwise[i], batched[i], 1e-4f, "logit " + i);
            assertEquals(batched[i], twoThreads[i], 1e-5f, "logit " + i);
        }
    }

    @Test
    void shortPromptsAndAPrefillThatContinuesEqualTokenByToken() {
        Weights w = model(200);
        int[] prompt = new SplittableRandom(3).ints(70, 0, 300).toArray();
        float[][] stepwise = new float[prompt.length][];
        try (LlamaEngine e = new LlamaEngine(w, 1)) {
            for (int i = 0; i < prompt.length; i++) stepwise[i] = e.forward(prompt[i], i, true).clone();
        }
        for (int threads : new int[] {1, 2}) {
            try (LlamaEngine e = new LlamaEngine(w, threads)) {
                for (int n : new int[] {1, 5, 8, 9, 17, 40}) {     // below, at and across the 8-row kernel blocks
                    float[] got = e.prefill(java.util.Arrays.copyOf(prompt, n), 0);
                    for (int i = 0; i < got.length; i++) assertEquals(stepwise[n - 1][i], got[i], 1e-4f, n + " tokens, logit " + i);
                }
                // the first 40 are cached: 30 more from position 40 attend to them
                float[] got = e.prefill(java.util.Arrays.copyOfRange(prompt, 40, 70), 40);
                for (int i = 0; i < got.length; i++) assertEquals(stepwise[69][i], got[i], 1e-4f, "continued prefill, logit " + i);
            }
        }
    }

    @Test
    void samplersAreSeededAndRespectTheirFilters() {
        float[] logits = {1f, 3f, 2f, 0.5f, 2.9f};
        assertEquals(1, new Sampler(Sampler.Params.greedy(), 5).next(logits, new int[0], 0));
        assertEquals(4, new Sampler(new Sampler.Params(0, 0, 1, 2f, 0), 5).next(logits, new int[] {1}, 1), "repetition penalty");
        for (int seed = 0; seed < 50; seed++) {
            int k = new Sampler(new Sampler.Params(1f, 2, 1f, 1f, seed), 5).next(logits, new int[0], 0);
            assertTrue(k == 1 || k == 4, "top-k 2");
            int p = new Sampler(new Sampler.Params(1f, 0, 0.3f, 1f, seed), 5).next(logits, new int[0], 0);
            assertEquals(1, p, "top-p 0.3 keeps only the best");
        }
        List<Integer> a = new ArrayList<>(), b = new ArrayList<>();
        Sampler s1 = new Sampler(new Sampler.Params(1f, 0, 1f, 1f, 9), 5), s2 = new Sampler(new Sampler.Params(1f, 0, 1f, 1f, 9), 5);
        for (int i = 0; i < 100; i++) {
            a.add(s1.next(logits, new int[0], 0));
            b.add(s2.next(logits, new int[0], 0));
        }
        assertEquals(a, b);
        assertTrue(a.stream().distinct().count() > 2, "temperature 1 samples several tokens");
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Params(-1, 0, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Params(1, 0, 0, 1, 0));
    }

    @Test
    void generationStopsAtMaxTokensStopStringsAndTheContextLength() {
        Tokenizer tok = TokenizerJson.build(new int[][] {{'a', 'b'}}, List.of(Tokenizer.EOT), SplitPattern.GPT2);
        Weights w = Weights.init(new ModelConfig(32, 48, 1, 4, 4, tok.vocabSize(), 24, 1e-5f, 10000f, true), 0.5f, 1);
        try (LlamaEngine e = new LlamaEngine(w, 2)) {
            StringBuilder streamed = new StringBuilder();
            Generator.Result r = Generator.generate(e, tok, "abc", new Generator.Options(10, new Sampler.Params(1f, 0, 1f, 1f, 3), List.of(), false), streamed::append);
            assertEquals(10, r.generated().length);
            assertEquals("max_tokens", r.stopReason());
            assertEquals(r.text(), streamed.toString());
            assertEquals(tok.decode(r.generated()), r.text());
            Generator.Result full = Generator.generate(e, tok, "abc", new Generator.Options(1000, new Sampler.Params(1f, 0, 1f, 1f, 3), List.of(), false), s -> {});
            assertEquals("context_length", full.stopReason());
            assertEquals(24 - full.promptTokens().length, full.generated().length);
            String some = full.text().substring(3, 5);
            Generator.Result stopped = Generator.generate(e, tok, "abc", new Generator.Options(1000, new Sampler.Params(1f, 0, 1f, 1f, 3), List.of(some), false), s -> {});
            assertEquals("stop_string", stopped.stopReason());
            assertTrue(!stopped.text().contains(some) && full.text().startsWith(stopped.text()));
            assertThrows(ConfigException.class, () -> Generator.generate(e, tok, "x".repeat(30), new Generator.Options(5, Sampler.Params.greedy(), List.of(), true), s -> {}));
            assertNotEquals(0, full.decodeTokensPerSecond());
        }
    }
}
