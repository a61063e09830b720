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
        Checks.require(batchSize >= 1 && batchSize <= 4096, "batch_size", batchSize, "must be in [1, 4096]");
        Checks.require(seqLen >= 2 && seqLen <= 1 << 16, "seq_len", seqLen, "must be in [2, 65536]");
        Checks.require((long) batchSize * seqLen <= 1 << 20, "batch_size", batchSize, "times seq_len must be at most 1048576 tokens");
        Checks.require(gradAccum >= 1, "grad_accum", gradAccum, "must be >= 1");
        Checks.require(lr > 0 && lr < 1, "lr", lr, "must be in (0, 1)");
        Checks.require(minLr >= 0 && minLr <= lr, "min_lr", minLr, "must be in [0, lr]");
        Checks.require(warmupSteps >= 0, "warmup_steps", warmupSteps, "must be >= 0");
        Checks.require(weightDecay >= 0 && weightDecay < 1, "weight_decay", weightDecay, "must be in [0, 1)");
        Checks.require(beta1 >= 0 && beta1 < 1, "beta1", beta1, "must be in [0, 1)");
        Checks.require(beta2 >= 0 && beta2 < 1, "beta2", beta2, "must be in [0, 1)");
        Checks.require(eps > 0 && eps < 1, "eps", eps, "must be in (0, 1)");
        Checks.require(gradClip >= 0, "grad_clip", gradClip, "must be >= 0 (0 = off)");
        Checks.require(evalInterval >= 0, "eval_interval", evalInterval, "must be >= 0 (0 = only at the end)");
        Checks.require(evalBatches >= 1, "eval_batches", evalBatches, "must be >= 1");
        Checks.require(keepCheckpoints >= 1, "keep_checkpoints", keepCheckpoints, "must be >= 1");
        Checks.require(valFraction >= 0 && valFraction < 1, "val_fraction", valFraction, "must be in [0, 1)");
        Checks.require(emSamples >= 0 && emSamples <= 100_000, "em_samples", emSamples, "must be in [0, 100000]");
        Checks.require(emMaxTokens >= 1 && emMaxTokens <= 4096, "em_max_tokens", emMaxTokens, "must be in [1, 4096]");
        Checks.require(java.util.Set.of("auto", "prompt_completion", "question_answer", "alpaca", "messages", "sharegpt").contains(format),
                "format", format, "must be auto, prompt_completion, question_answer, alpaca, messages or sharegpt");
        Checks.require(maxBadExamples >= 0, "max_bad_examples", maxBadExamples, "must be >= 0");
        Checks.require(threads >= 0 && threads <= 1024, "threads", threads, "must be in [0, 1024] (0 = all cores)");
        Checks.require("java".equals(matmul) || "nd4j".equals(matmul), "matmul", matmul, "must be java or nd4j");
        Checks.require("stop".equals(onNonFinite) || "skip".equals(onNonFinite), "on_non_finite", onNonFinite, "must be stop or skip");
    }

    public static FinetuneConfig defaults() {
        return new FinetuneConfig(0, 3, 16, 256, 1, 3e-4, 3e-5, 20, 0.0, 0.9, 0.95, 1e-8, 1.0, 100, 8, 2, true, 0.05, 64, 64,
                "auto", "", false, 20, 1337, 0, "java", "stop", LoraConfig.defaults());
    }
}
