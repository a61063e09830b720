package dev.llmkit.trainer;

/**
 * Where a {@link TrainingLoop} gets its data. A training batch is a pure function of (step,
 * micro-step) and the source's own fixed inputs (seed, data), so a resumed run draws exactly the
 * batches the uninterrupted run would have, with no sampler state beyond the step.
 */
public interface BatchSource {
    /** Fills {@code into} with the training micro-batch {@code micro} of optimizer step {@code step} (0-based). */
    void train(long step, int micro, Batch into);

    /** Number of validation micro-batches (fixed for the run; 0 = no validation data). */
    int validationBatches();

    /** Fills {@code into} with validation micro-batch {@code i}. */
    void validation(int i, Batch into);

    /** Tokens of training data (for the log line). */
    long trainTokens();
}
