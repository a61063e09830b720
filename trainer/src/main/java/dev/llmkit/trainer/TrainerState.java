package dev.llmkit.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.config.PretrainConfig;
import dev.llmkit.core.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;

/**
 * trainer-state/state.json of a checkpoint: where the run stands. Batch sources are
 * counter-based, so {@code step} is their whole state; AdamW's moments are in trainer-state/optimizer.safetensors.
 * Version 2 (this one) holds the loop's keys under {@code loop}; version 1 (pre-training only) held
 * the whole {@code pretrain} section and is still read.
 *
 * @param step           optimizer steps done
 * @param tokensSeen     training tokens processed
 * @param elapsedSeconds training wall time so far (excluding evaluation)
 * @param bestValLoss    lowest validation loss so far (NaN: none yet)
 * @param bestStep       the step of that checkpoint
 * @param skippedSteps   steps skipped for a non-finite loss or gradient
 * @param adamSteps      optimizer updates applied (AdamW's bias-correction count: steps minus skipped)
 * @param dataSha256     sha256 of the training data's identity (a resume must read the same data)
 * @param model          the architecture
 * @param loop           the loop's config
 */
public record TrainerState(int version, long step, long tokensSeen, double elapsedSeconds, double bestValLoss, long bestStep,
                           long skippedSteps, long adamSteps, String dataSha256, ModelConfig model, LoopConfig loop) {
    public static final int VERSION = 2;

    /** Reads a checkpoint's trainer-state/state.json (versions 1 and 2). */
    public static TrainerState read(Path f) {
        try {
            JsonNode n = Json.MAPPER.readTree(f.toFile());
            int version = n.path("version").asInt(-1);
            if (version == 1) {
                PretrainConfig p = Json.MAPPER.treeToValue(n.get("pretrain"), PretrainConfig.class);
                return new TrainerState(1, n.get("step").asLong(), n.get("tokensSeen").asLong(), n.get("elapsedSeconds").asDouble(),
                        n.get("bestValLoss").isNumber() ? n.get("bestValLoss").asDouble() : Double.NaN, n.get("bestStep").asLong(),
                        n.get("skippedSteps").asLong(), n.get("adamSteps").asLong(), n.get("tokensSha256").asText(),
                        Json.MAPPER.treeToValue(n.get("model"), ModelConfig.class), LoopConfig.of(p));
            }
            if (version != VERSION) throw new DataException(f + ": state version " + version + ", this llmkit reads 1 and " + VERSION, "resume from another checkpoint");
            return Json.MAPPER.treeToValue(n, TrainerState.class);
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataException d) throw d;
            throw new DataException(f + ": unreadable trainer state: " + e.getMessage(), "resume from another checkpoint", e);
        }
    }
}
