package dev.llmkit.trainer;

import dev.llmkit.core.config.PretrainConfig;

/**
 * What the {@link TrainingLoop} needs of a stage's config (pre-training, fine-tuning): the schedule,
 * batch shape, AdamW, clipping, evaluation and checkpoint cadence. {@code section} is the config
 * section the keys came from ({@code pretrain}, {@code finetune}), named in error messages.
 */
public record LoopConfig(String section, int steps, int batchSize, int seqLen, int gradAccum, double lr, double minLr, int warmupSteps,
                         double weightDecay, double beta1, double beta2, double eps, double gradClip, int evalInterval,
                         int keepCheckpoints, long seed, int threads, String matmul, String onNonFinite, java.util.Map<String, String> stageKeys) {
    /**
     * @param stageKeys the stage's own keys that shape the arithmetic or the batches (e.g. finetune's
     *                  lora.rank, packing), by name under the section: a resume must not change them
     */
    public LoopConfig {
        if (steps < 1 || batchSize < 1 || seqLen < 2 || gradAccum < 1) throw new IllegalArgumentException("steps, batch_size, seq_len and grad_accum must be positive");
        stageKeys = stageKeys == null ? java.util.Map.of() : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(stageKeys));
    }

    public static LoopConfig of(PretrainConfig c) {
        return new LoopConfig("pretrain", c.steps(), c.batchSize(), c.seqLen(), c.gradAccum(), c.lr(), c.minLr(), c.warmupSteps(),
                c.weightDecay(), c.beta1(), c.beta2(), c.eps(), c.gradClip(), c.evalInterval(), c.keepCheckpoints(), c.seed(),
                c.threads(), c.matmul(), c.onNonFinite(), java.util.Map.of());
    }

    public int effectiveThreads() {
        return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }

    /** Learning rate of step (0-based): linear warmup from 0, then cosine decay to min_lr at the last step. */
    public double lr(long step) {
        if (step < warmupSteps) return lr * (step + 1) / warmupSteps;
        long decay = Math.max(1, steps - warmupSteps);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / decay);
        return minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (lr - minLr);
    }

    /** The keys whose change would make a resumed run differ from the uninterrupted one: name, value. */
    java.util.Map<String, Object> arithmetic() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        Object[][] keys = {
            {"batch_size", batchSize}, {"seq_len", seqLen}, {"grad_accum", gradAccum}, {"lr", lr}, {"min_lr", minLr},
            {"warmup_steps", warmupSteps}, {"weight_decay", weightDecay}, {"beta1", beta1}, {"beta2", beta2}, {"eps", eps},
            {"grad_clip", gradClip}, {"seed", seed}, {"matmul", matmul}};
        for (Object[] k : keys) m.put((String) k[0], k[1]);
        m.putAll(stageKeys);
        return m;
    }
}
