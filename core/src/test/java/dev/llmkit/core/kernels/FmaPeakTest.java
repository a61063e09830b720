package dev.llmkit.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FmaPeakTest {
    @Test
    void aSecondMeasurementKeepsTheHigherFigure() {
        try (Parallel par = new Parallel(1)) {
            double first = FmaPeak.cached(par);
            assertTrue(first > 0 && Double.isFinite(first), "peak " + first);
            double again = FmaPeak.remeasured(par);
            assertTrue(again >= first, again + " after " + first);
            assertEquals(again, FmaPeak.cached(par), "the process keeps the higher figure");
        }
    }
}
