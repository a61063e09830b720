package dev.llmkit.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The loss of a step is the weighted token-loss sum of all its micro-batches over their weight sum:
 * splitting a batch into accumulated micro-batches, or packing examples into one row, changes
 * neither the loss nor the gradient.
 */
class LossWeightsTest {
    private static final ModelConfig C = new ModelConfig(32, 48, 2, 4, 2, 61, 64, 1e-5f, 10000f, true);

    @Test
    void accumulationOfFourBatchesOfFourEqualsOneBatchOfSixteen() {
        int t = 10;
        SplittableRandom r = new SplittableRandom(7);
        Batch all = new Batch(16, t);
        all.reset(16, t, false);
        for (int i = 0; i < 16 * t; i++) {
            all.tokens[i] = r.nextInt(C.vocabSize());
            all.targets[i] = r.nextInt(C.vocabSize());
            all.weights[i] = r.nextInt(4) == 0 ? 0f : 1f;     // masks differ between the micro-batches
        }
        ParamLayout layout = new ParamLayout(C);
        float[] p = layout.flatten(Weights.init(C, 0.1f, 1));
        float[] g16 = new float[layout.size], g4 = new float[layout.size];
        double weight = all.weightSum(), loss16, loss4 = 0;
        try (Parallel par = new Parallel(2); TrainModel m = new TrainModel(C, 16, t, par, new JavaMatMul(par))) {
            loss16 = m.step(p, all, g16, (float) (1 / weight)) / weight;
            for (int k = 0; k < 4; k++) {
                Batch micro = new Batch(4, t);
                micro.reset(4, t, false);
                System.arraycopy(all.tokens, k * 4 * t, micro.tokens, 0, 4 * t);
                System.arraycopy(all.targets, k * 4 * t, micro.targets, 0, 4 * t);
                System.arraycopy(all.weights, k * 4 * t, micro.weights, 0, 4 * t);
                loss4 += m.step(p, micro, g4, (float) (1 / weight)) / weight;
            }
        }
        assertEquals(loss16, loss4, 1e-6 * loss16);
        assertClose(g16, g4, 1e-4);
    }

    @Test
    void aPackedRowEqualsItsExamplesOneByOne() {
        int t = 40;
        int[] lengths = {9, 14, 6, 8};     // 37 tokens and 3 of padding
        SplittableRandom r = new SplittableRandom(9);
        Batch packed = new Batch(1, t);
        packed.reset(1, t, true);
        for (int i = 0; i < t; i++) {
            packed.tokens[i] = r.nextInt(C.vocabSize());
            packed.targets[i] = r.nextInt(C.vocabSize());
            packed.weights[i] = r.nextInt(3) == 0 ? 0f : 1f;
        }
        int at = 0;
        for (int len : lengths) for (int i = 0; i < len; i++) packed.positions[at++] = i;
        for (int i = at; i < t; i++) {
            packed.positions[i] = i - at;
            packed.weights[i] = 0f;
        }
        ParamLayout layout = new ParamLayout(C);
        float[] p = layout.flatten(Weights.init(C, 0.1f, 2));
        float[] gPacked = new float[layout.size], gOne = new float[layout.size];
        double lossPacked, lossOne = 0;
        try (Parallel par = new Parallel(2); TrainModel m = new TrainModel(C, 1, t, par, new JavaMatMul(par))) {
            lossPacked = m.step(p, packed, gPacked, 1f);
            int from = 0;
            for (int len : lengths) {
                Batch one = new Batch(1, t);
                one.reset(1, len, false);
                System.arraycopy(packed.tokens, from, one.tokens, 0, len);
                System.arraycopy(packed.targets, from, one.targets, 0, len);
                System.arraycopy(packed.weights, from, one.weights, 0, len);
                lossOne += m.step(p, one, gOne, 1f);
                from += len;
            }
        }
        assertEquals(lossOne, lossPacked, 1e-5 * lossOne);
        assertClose(gOne, gPacked, 1e-4);
    }

    /** Every element within rel of the largest magnitude. */
    private static void assertClose(float[] want, float[] got, double rel) {
        double scale = 0;
        for (float x : want) scale = Math.max(scale, Math.abs(x));
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], rel * scale, "element " + i);
        }
    }
}
