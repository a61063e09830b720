package dev.llmkit.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The step profile's parts: every part of a training step named once, products with their FLOP rate, the same losses as without it. */
class StepProfileTest {
    @Test
    void timesEveryPartOfAStepAndChangesNothing() {
        ModelConfig c = new ModelConfig(32, 48, 2, 4, 2, 37, 128, 1e-5f, 10000f, true);
        ParamLayout layout = new ParamLayout(c);
        float[] p = layout.flatten(Weights.init(c, 0.1f, 3));
        int b = 2, t = Attention.BLOCK + 5;
        int[] in = new SplittableRandom(4).ints(b * t, 0, c.vocabSize()).toArray(), out = new SplittableRandom(5).ints(b * t, 0, c.vocabSize()).toArray();
        double[] loss = new double[2];
        float[][] grad = new float[2][layout.size];
        StepProfile prof = new StepProfile(2);
        for (int run = 0; run < 2; run++) {
            try (Parallel par = new Parallel(2); TrainModel m = new TrainModel(c, b, t, par, MatMul.create("java", par))) {
                m.profile(run == 1 ? prof : null);
                loss[run] = m.step(p, in, out, b, t, grad[run], 1f);
                prof.stepDone();
            }
        }
        assertEquals(loss[0], loss[1], "the same loss with the parts timed");
        for (int i = 0; i < layout.size; i++) assertEquals(grad[0][i], grad[1][i], "gradient " + i);
        Map<String, StepProfile.Part> parts = prof.parts().stream().collect(Collectors.toMap(StepProfile.Part::name, x -> x));
        List<String> products = List.of("q|k|v product", "output product", "gate|up product", "down product", "head: logits product",
                "head: input-gradient product", "head: weight-gradient product", "backward: down input gradient", "backward: down weight gradient",
                "backward: gate|up input gradient", "backward: gate|up weight gradient", "backward: output input gradient",
                "backward: output weight gradient", "backward: q|k|v input gradient", "backward: q|k|v weight gradient");
        for (String name : products) {
            assertTrue(parts.containsKey(name), name);
            assertTrue(parts.get(name).gflops() > 0 && Double.isFinite(parts.get(name).gflops()), name + ": " + parts.get(name));
        }
        for (String name : List.of("embedding", "norms", "attention", "SwiGLU", "head: cross-entropy", "backward: norms",
                "backward: SwiGLU", "backward: attention", "backward: embedding")) {
            assertTrue(parts.containsKey(name), name);
            assertTrue(Double.isNaN(parts.get(name).gflops()), name + " is no product");
            assertTrue(parts.get(name).msPerStep() >= 0, name);
        }
        assertEquals(products.size() + 9, parts.size(), "no other part: " + parts.keySet());
        double[][] attention = prof.attentionMs();
        assertEquals(2, attention.length);
        for (int i = 0; i < StepProfile.ATTENTION.length; i++) assertTrue(attention[0][i] + attention[1][i] > 0, StepProfile.ATTENTION[i]);
    }
}
