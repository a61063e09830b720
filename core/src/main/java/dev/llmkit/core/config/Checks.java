package dev.llmkit.core.config;

/** Validation helper for config records: messages name the key and the value. */
final class Checks {
    private Checks() {}

    static void require(boolean ok, String key, Object value, String rule) {
        if (!ok) throw new IllegalArgumentException(key + " " + rule + ", got " + value);
    }

    /** The keys every training loop section shares (pretrain, finetune): batch shape, AdamW, schedule, cadence, threads. */
    static void loop(int batchSize, int seqLen, int gradAccum, double lr, double minLr, int warmupSteps, double weightDecay, double beta1,
                     double beta2, double eps, double gradClip, int evalInterval, int evalBatches, int keepCheckpoints, int threads,
                     String matmul, String onNonFinite) {
        require(batchSize >= 1 && batchSize <= 4096, "batch_size", batchSize, "must be in [1, 4096]");
        require(seqLen >= 2 && seqLen <= 1 << 16, "seq_len", seqLen, "must be in [2, 65536]");
        require((long) batchSize * seqLen <= 1 << 20, "batch_size", batchSize, "times seq_len must be at most 1048576 tokens");
        require(gradAccum >= 1, "grad_accum", gradAccum, "must be >= 1");
        require(lr > 0 && lr < 1, "lr", lr, "must be in (0, 1)");
        require(minLr >= 0 && minLr <= lr, "min_lr", minLr, "must be in [0, lr]");
        require(warmupSteps >= 0, "warmup_steps", warmupSteps, "must be >= 0");
        require(weightDecay >= 0 && weightDecay < 1, "weight_decay", weightDecay, "must be in [0, 1)");
        require(beta1 >= 0 && beta1 < 1, "beta1", beta1, "must be in [0, 1)");
        require(beta2 >= 0 && beta2 < 1, "beta2", beta2, "must be in [0, 1)");
        require(eps > 0 && eps < 1, "eps", eps, "must be in (0, 1)");
        require(gradClip >= 0, "grad_clip", gradClip, "must be >= 0 (0 = off)");
        require(evalInterval >= 0, "eval_interval", evalInterval, "must be >= 0 (0 = only at the end)");
        require(evalBatches >= 1, "eval_batches", evalBatches, "must be >= 1");
        require(keepCheckpoints >= 1, "keep_checkpoints", keepCheckpoints, "must be >= 1");
        require(threads >= 0 && threads <= 1024, "threads", threads, "must be in [0, 1024] (0 = all cores)");
        require("java".equals(matmul) || "nd4j".equals(matmul), "matmul", matmul, "must be java or nd4j");
        require("stop".equals(onNonFinite) || "skip".equals(onNonFinite), "on_non_finite", onNonFinite, "must be stop or skip");
    }
}
