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
    private final Integer[] order;
    private final boolean[] seen;

    public Sampler(Params p, int vocab) {
        this.p = p;
        this.random = new SplittableRandom(p.seed());
        this.probs = new float[vocab];
        this.order = new Integer[vocab];
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
        Kernels.softmax(probs, 0, n);
        int keep = n;
        if (p.topK() > 0 || p.topP() < 1) {
            for (int i = 0; i < n; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Float.compare(probs[b], probs[a]));
            if (p.topK() > 0) keep = Math.min(keep, p.topK());
            if (p.topP() < 1) {
                double cum = 0;
                for (int i = 0; i < keep; i++) {
                    cum += probs[order[i]];
                    if (cum >= p.topP()) {
                        keep = i + 1;
                        break;
                    }
                }
            }
            double total = 0;
            for (int i = 0; i < keep; i++) total += probs[order[i]];
            double r = random.nextDouble() * total;
            for (int i = 0; i < keep; i++) {
                r -= probs[order[i]];
                if (r <= 0) return order[i];
            }
            return order[keep - 1];
        }
        double r = random.nextDouble();
        for (int i = 0; i < n; i++) {
            r -= probs[i];
            if (r <= 0) return i;
        }
        return argmax(probs);
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
