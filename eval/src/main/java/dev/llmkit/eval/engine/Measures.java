package dev.llmkit.eval.engine;

/**
 * The figures a quantized model is judged by, measured with the engine: rolling log-likelihood over a
 * token sequence (bits per byte) and greedy decode speed.
 */
public final class Measures {
    private Measures() {}

    /** Total negative log-likelihood (nats) and the count of predicted tokens. */
    public record Likelihood(double nats, long tokens) {
        /** Bits per byte of text that is {@code bytes} UTF-8 bytes long. */
        public double bitsPerByte(long bytes) {
            return nats / Math.log(2) / bytes;
        }

        public double perplexity() {
            return Math.exp(nats / tokens);
        }
    }

    /**
     * Every token of {@code tokens} predicted once: the sequence [bos] + tokens is cut into windows of
     * the engine's positions, each starting fresh at position 0 and overlapping the previous window by
     * one token (its first input), as lm-evaluation-harness's rolling log-likelihood does.
     */
    public static Likelihood rolling(State e, int bos, int[] tokens) {
        int[] seq = new int[tokens.length + 1];
        seq[0] = bos;
        System.arraycopy(tokens, 0, seq, 1, tokens.length);
        int window = e.capacity();
        if (window < 2) throw new IllegalArgumentException("windows of at least 2 positions are needed");
        double nats = 0;
        long n = 0;
        double[] lp = new double[window];
        for (int from = 0; from < seq.length - 1; from += window - 1) {
            int len = Math.min(window, seq.length - from);
            e.rewind(0);
            e.score(seq, from, from + len, lp, 0);
            for (int i = 0; i < len - 1; i++) nats -= lp[i];
            n += len - 1;
        }
        return new Likelihood(nats, n);
    }

    /**
     * Greedy decode tokens/s: {@code prompt} prefilled, then {@code warmup} tokens untimed and
     * {@code tokens} timed (each a forward step and an argmax), the best of {@code rounds}.
     */
    public static double decodeTokensPerSecond(State e, int[] prompt, int warmup, int tokens, int rounds) {
        double best = 0;
        for (int round = 0; round < rounds; round++) {
            e.rewind(0);
            float[] logits = e.prefill(prompt, 0, prompt.length);
            int pos = prompt.length;
            long t0 = 0;
            for (int i = 0; i < warmup + tokens && pos < e.capacity(); i++) {
                if (i == warmup) t0 = System.nanoTime();
                int next = 0;
                for (int v = 1; v < logits.length; v++) if (logits[v] > logits[next]) next = v;
                logits = e.decode(next);
                pos++;
            }
            int timed = pos - prompt.length - warmup;
            if (timed > 0) best = Math.max(best, timed / ((System.nanoTime() - t0) / 1e9));
        }
        return best;
    }
}
