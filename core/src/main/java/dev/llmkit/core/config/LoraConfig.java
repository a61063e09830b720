package dev.llmkit.core.config;

import java.util.List;
import java.util.Objects;

/**
 * {@code finetune.lora}: low-rank adapters (Hu et al., 2021) instead of full fine-tuning. Each target
 * projection W [out, in] gets A [rank, in] and B [out, rank]; the layer computes
 * x W^T + (alpha / rank) * dropout(x) A^T B^T with the base weights frozen. A starts uniform in
 * +-1/sqrt(in) (PEFT's default), B at zero, so training starts from the base model exactly.
 *
 * @param enabled train adapters (the CLI's --lora) instead of every weight
 * @param rank    r
 * @param alpha   scale numerator: the update is scaled by alpha / rank
 * @param dropout dropout on the adapter's input during training (0 = none)
 * @param targets projections that get adapters: q, k, v, o, gate, up, down
 * @param merge   at the end, also write OUT/merged: the base with the adapters folded in (a plain checkpoint)
 */
public record LoraConfig(boolean enabled, int rank, double alpha, double dropout, List<String> targets, boolean merge) {
    public static final List<String> TARGETS = List.of("q", "k", "v", "o", "gate", "up", "down");

    public LoraConfig {
        Objects.requireNonNull(targets, "targets");
        targets = List.copyOf(targets);
        Checks.require(rank >= 1 && rank <= 4096, "rank", rank, "must be in [1, 4096]");
        Checks.require(alpha > 0 && alpha <= 1e6, "alpha", alpha, "must be in (0, 1e6]");
        Checks.require(dropout >= 0 && dropout < 1, "dropout", dropout, "must be in [0, 1)");
        Checks.require(!targets.isEmpty(), "targets", targets, "must name at least one of " + TARGETS);
        for (String t : targets) Checks.require(TARGETS.contains(t), "targets", targets, "may only contain " + TARGETS);
        Checks.require(targets.stream().distinct().count() == targets.size(), "targets", targets, "must not repeat a target");
    }

    public static LoraConfig defaults() {
        return new LoraConfig(false, 8, 16, 0.05, TARGETS, true);
    }

    public double scale() {
        return alpha / rank;
    }
}
