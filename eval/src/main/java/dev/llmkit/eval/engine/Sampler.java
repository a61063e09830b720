package dev.llmkit.eval.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy when temperature is 0, else repetition penalty,
 * temperature, top-k, top-p (nucleus) and a seeded draw.
 */
public final class Sampler {
    /** Sampling settings; topK 0 and topP 1 disable those filters, repetitionPenalty 1 disables it. */
    public record Params(float temperature, int topK, float topP, float repetitionPenalty, long seed) {
        public Params {
            if (!(temperature >= 0) || temperature > 100) throw new IllegalArgumentException("temperature must be in [0, 100], got " + temperature);
            if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
            if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
            if (!(repetitionPenalty >= 1 && repetitionPenalty <= 10)) throw new IllegalArgumentException("repetition penalty must be in [1, 10], got " + repetitionPenalty);
        }

        public static Params greedy() {
            return new Params(0, 0, 1, 1, 0);
        }
    }

    private final Params p;
    private final SplittableRandom random;
    private final float[] probs;
    private final long[] keys;          // (probability bits << 32 | token) of the candidates, sorted ascending
    private final boolean[] seen;

    public Sampler(Params p, int vocab) {
        this.p = p;
        this.random = new SplittableRandom(p.seed());
        this.probs = new float[vocab];
        this.keys = new long[vocab];
        this.seen = new boolean[vocab];
    }

    /** The next token; {@code history} holds the tokens so far (for the repetition penalty). */
    public int next(float[] logits, int[] history, int historyLen) {
        int n = probs.length;
        System.arraycopy(logits, 0, probs, 0, n);
        if (p.repetitionPenalty() != 1) {
            java.util.Arrays.fill(seen, false);
            for (int i = 0; i < historyLen; i++) {
                int t = history[i];
                if (seen[t]) continue;
                seen[t] = true;
                probs[t] = probs[t] > 0 ? probs[t] / p.repetitionPenalty() : probs[t] * p.repetitionPenalty();
            }
        }
        if (p.temperature() == 0) return argmax(probs);
        for (int i = 0; i < n; i++) probs[i] /= p.temperature();
        Elementwise.softmax(probs, 0, n);
        if (p.topK() > 0 || p.topP() < 1) {
            // Candidates: tokens below (1 - top_p) / (n - 1) can never enter the nucleus (llama2.c's cut).
            float cutoff = p.topP() < 1 ? (float) ((1 - p.topP()) / Math.max(1, n - 1)) : 0f;
            int m = 0;
            for (int i = 0; i < n; i++) {
                if (probs[i] >= cutoff) keys[m++] = ((long) Float.floatToIntBits(probs[i]) << 32) | i;   // probs >= 0: bits order as values
            }
            if (m == 0) return argmax(probs);            // top_p below 1/n: only the best token survives
            Arrays.sort(keys, 0, m);
            int keep = p.topK() > 0 ? Math.min(m, p.topK()) : m;
            if (p.topP() < 1) {
                double mass = 0, cum = 0;       // top-p within the top-k, renormalised as llama.cpp and Hugging Face do
                for (int j = 0; j < keep; j++) mass += prob(m - 1 - j);
                for (int j = 0; j < keep; j++) {
                    cum += prob(m - 1 - j);
                    if (cum >= p.topP() * mass) {
                        keep = j + 1;
                        break;
                    }
                }
            }
            double total = 0;
            for (int j = 0; j < keep; j++) total += prob(m - 1 - j);
            double r = random.nextDouble() * total;
            for (int j = 0; j < keep; j++) {
                r -= prob(m - 1 - j);
                if (r <= 0) return (int) keys[m - 1 - j];
            }
            return (int) keys[m - keep];
        }
        double r = random.nextDouble();
        for (int i = 0; i < n; i++) {
            r -= probs[i];
            if (r <= 0) return i;
        }
        return argmax(probs);
    }

    private float prob(int j) {
        return Float.intBitsToFloat((int) (keys[j] >>> 32));
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
