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
     * Every token of {@code tokens} predicted once, as lm-evaluation-harness's rolling log-likelihood
     * does: the sequence [bos] + tokens in disjoint windows of the state's capacity, each window predicting
     * as many tokens as it holds inputs, the first starting at bos, later ones with the previous window's
     * last token as their only context.
     */
    public static Likelihood rolling(State e, int bos, int[] tokens) {
        return sliding(e, bos, tokens, 0);
    }

    /**
     * With {@code stride > 0}, windows of the state's capacity advancing {@code stride} tokens, each
     * counting only the predictions not made by an earlier window (every token after the first window
     * then sees at least capacity - stride tokens of context: a tighter figure, for capacity / stride
     * times the work); {@code stride == 0}: {@link #rolling}.
     */
    public static Likelihood sliding(State e, int bos, int[] tokens, int stride) {
        int n = tokens.length, w = e.capacity();
        if (w < 1) throw new IllegalArgumentException("no positions");
        stride = Math.min(stride, w);
        int[] seq = new int[n + 1];
        seq[0] = bos;
        System.arraycopy(tokens, 0, seq, 1, n);
        double nats = 0;
        double[] lp = new double[w];
        int done = 0;     // tokens[0, done) are predicted
        for (int begin = 0; done < n; begin = stride > 0 ? begin + stride : done) {
            int end = Math.min(begin + w, n);     // this window predicts tokens[begin, end) from seq[begin, end)
            e.rewind(0);
            e.score(seq, begin, end, seq[end], lp, 0);     // lp[i]: tokens[begin + i] = seq[begin + i + 1]
            for (int i = done - begin; i < end - begin; i++) nats -= lp[i];
            done = end;
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
