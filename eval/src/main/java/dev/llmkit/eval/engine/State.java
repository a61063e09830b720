package dev.llmkit.eval.engine;

/**
 * One sequence being run by a {@link LanguageModel}: a KV cache holding positions [0, position()),
 * appended to by prefill, score and decode, and rewound to reuse a shared prefix (multiple-choice
 * scoring prefills the context once, then rewinds to its end for each choice). Not thread-safe.
 */
public interface State extends AutoCloseable {
    /** Positions the cache holds now. */
    int position();

    /** Positions it can hold. */
    int capacity();

    /** Forgets every position from {@code position} on (0 <= position <= position()). */
    void rewind(int position);

    /**
     * Appends tokens[from, to) and returns the logits after the last of them (a view, valid until the
     * next call), computed for that position only.
     */
    float[] prefill(int[] tokens, int from, int to);

    /**
     * Appends tokens[from, to) and writes, for each i in [0, to - from - 1), the natural-log probability
     * of tokens[from + i + 1] given every position before it into {@code logProbs[off + i]}; when
     * {@code next >= 0}, also that of {@code next} after the last of them into {@code logProbs[off + to - from - 1]}.
     */
    void score(int[] tokens, int from, int to, int next, double[] logProbs, int off);

    /** Appends one token and returns the logits after it (a view, valid until the next call). */
    float[] decode(int token);

    @Override
    void close();
}
