package dev.llmkit.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.config.ModelSection;
import org.junit.jupiter.api.Test;

/** The presets quantize to every GGML block type; other shapes are named with what falls back. */
class QuantizationLimitsTest {
    @Test
    void presetsHaveNoLimitsAndOddWidthsAreNamed() {
        assertTrue(ModelSection.defaults().toConfig(4096).quantizationLimits().isEmpty(), "the tiny preset");
        assertEquals(768, ModelSection.defaults().hiddenDim());
        ModelConfig old = new ModelConfig(256, 688, 4, 4, 4, 4096, 256, 1e-5f, 10000f, true);
        assertEquals(1, old.quantizationLimits().size());
        assertTrue(old.quantizationLimits().get(0).contains("hidden_dim 688 is not a multiple of 32"), old.quantizationLimits().get(0));
        ModelConfig small = new ModelConfig(288, 768, 6, 6, 6, 32000, 256, 1e-5f, 10000f, true);
        assertEquals(1, small.quantizationLimits().size(), "dim 288 is a multiple of 32, not of 256");
        assertTrue(small.quantizationLimits().get(0).contains("K-quants"), small.quantizationLimits().get(0));
    }
}
