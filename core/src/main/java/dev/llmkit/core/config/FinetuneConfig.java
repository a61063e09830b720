package dev.llmkit.core.config;

import java.util.Objects;

/**
 * {@code finetune}: supervised fine-tuning on conversations (see configs/defaults.yaml for every key
 * and its default). The loop keys mean what they mean under {@code pretrain}.
 *
 * @param steps           optimizer steps; 0 = from epochs (the CLI's --max-steps overrides both)
 * @param epochs          passes over the training examples when steps is 0
 * @param batchSize       sequences per micro-batch
 * @param seqLen          tokens per sequence (at most the model's context_length)
 * @param gradAccum       micro-batches per optimizer step
 * @param lr              peak learning rate after warmup
 * @param minLr           learning rate at the end of the cosine decay
 * @param warmupSteps     linear warmup from 0
 * @param weightDecay     AdamW decoupled weight decay, 2-D weights only
 * @param beta1           AdamW first-moment decay
 * @param beta2           AdamW second-moment decay
 * @param eps             AdamW epsilon
 * @param gradClip        clip the global gradient norm to this; 0 = off
 * @param evalInterval    steps between validation, exact match and checkpoint; 0 = only at the end
 * @param evalBatches     validation micro-batches at most
 * @param keepCheckpoints newest checkpoints kept besides the best one
 * @param packing         several examples per sequence (attention and positions restart at each)
 * @param valFraction     share of examples (by content hash) held out for validation
 * @param emSamples       validation questions answered greedily at each evaluation for exact match; 0 = off
 * @param emMaxTokens     tokens generated at most per answer
 * @param format          data format: auto, prompt_completion, question_answer, alpaca, messages, sharegpt
 * @param systemPrompt    system message given to conversations that have none ("" = none)
 * @param strict          any bad record: exit 3 instead of skipping and counting it
 * @param maxBadExamples  examples per skip reason listed in report.json
 * @param seed            seed of the split, the example order and the batch order
 * @param threads         compute threads; 0 = all cores
 * @param matmul          matmul backend: java or nd4j
 * @param onNonFinite     a NaN/infinite loss or gradient: stop or skip
 * @param lora            low-rank adapters instead of full fine-tuning
 */
public record FinetuneConfig(int steps, double epochs, int batchSize, int seqLen, int gradAccum, double lr, double minLr, int warmupSteps,
                             double weightDecay, double beta1, double beta2, double eps, double gradClip, int evalInterval,
                             int evalBatches, int keepCheckpoints, boolean packing, double valFraction, int emSamples, int emMaxTokens,
                             String format, String systemPrompt, boolean strict, int maxBadExamples, long seed, int threads,
                             String matmul, String onNonFinite, LoraConfig lora) {
    public FinetuneConfig {
        Objects.requireNonNull(lora, "lora");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(systemPrompt, "system_prompt");
        Checks.require(steps >= 0, "steps", steps, "must be >= 0 (0 = from epochs)");
        Checks.require(epochs > 0 && epochs <= 1000, "epochs", epochs, "must be in (0, 1000]");
        Checks.loop(batchSize, seqLen, gradAccum, lr, minLr, warmupSteps, weightDecay, beta1, beta2, eps, gradClip, evalInterval, evalBatches,
                keepCheckpoints, threads, matmul, onNonFinite);
        Checks.require(valFraction >= 0 && valFraction < 1, "val_fraction", valFraction, "must be in [0, 1)");
        Checks.require(emSamples >= 0 && emSamples <= 100_000, "em_samples", emSamples, "must be in [0, 100000]");
        Checks.require(emMaxTokens >= 1 && emMaxTokens <= 4096, "em_max_tokens", emMaxTokens, "must be in [1, 4096]");
        Checks.require(java.util.Set.of("auto", "prompt_completion", "question_answer", "alpaca", "messages", "sharegpt").contains(format),
                "format", format, "must be auto, prompt_completion, question_answer, alpaca, messages or sharegpt");
        Checks.require(maxBadExamples >= 0, "max_bad_examples", maxBadExamples, "must be >= 0");
    }

    public static FinetuneConfig defaults() {
        return new FinetuneConfig(0, 3, 16, 256, 1, 3e-4, 3e-5, 20, 0.0, 0.9, 0.95, 1e-8, 1.0, 100, 8, 2, true, 0.05, 64, 64,
                "auto", "", false, 20, 1337, 0, "java", "stop", LoraConfig.defaults());
    }
}
