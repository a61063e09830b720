package dev.llmkit.trainer;

import dev.llmkit.core.config.PretrainConfig;
import dev.llmkit.core.model.ModelConfig;

/**
 * trainer-state/state.json of a checkpoint: where the run stands. The batch sampler is
 * counter-based, so {@code step} is its whole state; AdamW's moments are in trainer-state/optimizer.safetensors.
 *
 * @param step           optimizer steps done
 * @param tokensSeen     training tokens processed
 * @param elapsedSeconds training wall time so far (excluding evaluation)
 * @param bestValLoss    lowest validation loss so far (NaN: none yet)
 * @param bestStep       the step of that checkpoint
 * @param skippedSteps   steps skipped for a non-finite loss or gradient
 * @param adamSteps      optimizer updates applied (AdamW's bias-correction count: steps minus skipped)
 * @param tokensSha256   sha256 of the token directory's manifest.json (a resume must read the same data)
 */
public record TrainerState(int version, long step, long tokensSeen, double elapsedSeconds, double bestValLoss, long bestStep,
                           long skippedSteps, long adamSteps, String tokensSha256, ModelConfig model, PretrainConfig pretrain) {
    public static final int VERSION = 1;
}
