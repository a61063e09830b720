package dev.llmkit.eval.engine;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.DataException;
import org.junit.jupiter.api.Test;

/** Non-finite logits stop generation with an error naming the position, wherever in the vocabulary they are. */
class GeneratorChecksTest {
    @Test
    void nanOrInfinityAnywhereInTheLogitsIsAnError() {
        for (int vocab : new int[] {7, 100, 4096}) {
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) logits[i] = (float) Math.sin(i) * 10;
            assertDoesNotThrow(() -> Generator.requireFinite(logits, 3));
            for (int at : new int[] {0, vocab / 2, vocab - 1}) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
                    float[] l = logits.clone();
                    l[at] = bad;
                    DataException e = assertThrows(DataException.class, () -> Generator.requireFinite(l, 9));
                    assertTrue(e.getMessage().contains("position 9") && e.getMessage().contains("logit " + at + " is "), e.getMessage());
                }
            }
        }
    }
}
