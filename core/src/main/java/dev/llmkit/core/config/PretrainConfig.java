package dev.llmkit.core.config;

import java.util.Objects;

/**
 * {@code pretrain}: the training loop (see configs/defaults.yaml for every key and its default).
 *
 * @param steps              optimizer steps (the CLI's --max-steps overrides it)
 * @param batchSize          sequences per micro-batch
 * @param seqLen             tokens per sequence (at most the model's context_length)
 * @param gradAccum          micro-batches per optimizer step
 * @param lr                 peak learning rate after warmup
 * @param minLr              learning rate at the end of the cosine decay
 * @param warmupSteps        linear warmup from 0
 * @param weightDecay        AdamW decoupled weight decay, 2-D weights only
 * @param beta1              AdamW first-moment decay
 * @param beta2              AdamW second-moment decay
 * @param eps                AdamW epsilon
 * @param gradClip           clip the global gradient norm to this; 0 = off
 * @param evalInterval       steps between validation, checkpoint and sample; 0 = only at the end
 * @param evalBatches        validation micro-batches (fixed windows of the validation shards)
 * @param keepCheckpoints    newest checkpoints kept besides the best one
 * @param samplePrompt       prompt of the sample generated at each evaluation ("" = none)
 * @param sampleTokens       greedy tokens generated for the sample
 * @param seed               seed of the batch sampler
 * @param threads            compute threads; 0 = all cores
 * @param matmul             matmul backend: java (default) or nd4j
 * @param onNonFinite        a NaN/infinite loss or gradient: stop (keep the last good checkpoint) or skip the batch
 */
public record PretrainConfig(int steps, int batchSize, int seqLen, int gradAccum, double lr, double minLr, int warmupSteps,
                             double weightDecay, double beta1, double beta2, double eps, double gradClip, int evalInterval,
                             int evalBatches, int keepCheckpoints, String samplePrompt, int sampleTokens, long seed,
                             int threads, String matmul, String onNonFinite) {
    public PretrainConfig {
        Objects.requireNonNull(samplePrompt, "sample_prompt");
        Checks.require(steps >= 1, "steps", steps, "must be >= 1");
        Checks.loop(batchSize, seqLen, gradAccum, lr, minLr, warmupSteps, weightDecay, beta1, beta2, eps, gradClip, evalInterval, evalBatches,
                keepCheckpoints, threads, matmul, onNonFinite);
        Checks.require(sampleTokens >= 0 && sampleTokens <= 4096, "sample_tokens", sampleTokens, "must be in [0, 4096]");
    }

    public static PretrainConfig defaults() {
        return new PretrainConfig(2000, 16, 256, 1, 1e-3, 1e-4, 100, 0.1, 0.9, 0.95, 1e-8, 1.0, 200, 8, 3,
                "The", 48, 1337, 0, "java", "stop");
    }

    public int effectiveThreads() {
        return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }
}
