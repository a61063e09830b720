package dev.llmkit.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.tokenizer.ChatMessage;
import dev.llmkit.finetune.data.Conversation;
import dev.llmkit.trainer.Batch;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Rows from examples: targets, weights and positions at example edges; epochs of batches as pure functions of the step. */
class PackingTest {
    private static final Conversation C = new Conversation(List.of(new ChatMessage("user", "q"), new ChatMessage("assistant", "a")), "t:1");

    private static SftExamples.Example ex(int first, int n, float... weights) {
        int[] tok = new int[n];
        for (int i = 0; i < n; i++) tok[i] = first + i;
        return new SftExamples.Example(tok, weights, C);
    }

    @Test
    void anExampleOfTPlusOneTokensFillsARowAndPredictsItsLastToken() {
        int t = 4;
        List<SftExamples.Example> ex = List.of(ex(10, 5, 0, 0, 1, 1, 1));
        Batch b = new Batch(1, t);
        b.reset(1, t, true);
        Packing.fill(Packing.rows(ex, t, true, 1).get(0), ex, 0, b, 0);
        assertArrayEquals(new int[] {10, 11, 12, 13}, b.tokens);
        assertArrayEquals(new int[] {11, 12, 13, 14}, b.targets);
        assertArrayEquals(new float[] {0, 1, 1, 1}, b.weights);
        assertArrayEquals(new int[] {0, 1, 2, 3}, b.positions);
    }

    @Test
    void packedExamplesRestartPositionsAndMaskTheirLastPosition() {
        int t = 8;
        List<SftExamples.Example> ex = List.of(ex(10, 3, 0, 1, 1), ex(20, 4, 0, 0, 1, 1));
        List<Packing.Row> rows = Packing.rows(ex, t, true, 3);
        assertEquals(1, rows.size());
        Batch b = new Batch(1, t);
        b.reset(1, t, true);
        Packing.fill(rows.get(0), ex, 99, b, 0);
        int first = b.tokens[0] == 10 ? 0 : 4;     // the seeded order decides which comes first
        int[] pos = b.positions;
        assertEquals(0, pos[0]);
        assertEquals(0f, b.weights[first == 0 ? 2 : 3], "the last position of the first example predicts nothing");
        Set<Integer> starts = new HashSet<>();
        for (int i = 0; i < t; i++) if (pos[i] == 0) starts.add(i);
        assertTrue(starts.contains(3) || starts.contains(4), "the second example starts at position 0: " + java.util.Arrays.toString(pos));
        assertEquals(99, b.tokens[7], "padding");
        assertEquals(0f, b.weights[7]);
    }

    @Test
    void everyRowOnceAnEpochAndTheSameBatchesOnASecondSource() {
        List<SftExamples.Example> train = new ArrayList<>();
        for (int i = 0; i < 10; i++) train.add(ex(100 * i, 4, 0, 1, 1, 1));
        SftExamples.Split split = new SftExamples.Split(train, List.of(), 0, 0, List.of(), 30, 0);
        SftBatches a = new SftBatches(split, 3, 4, 1, false, 5, 1, 0), b = new SftBatches(split, 3, 4, 1, false, 5, 1, 0);
        Batch x = new Batch(3, 4), y = new Batch(3, 4);
        List<Integer> seen = new ArrayList<>();
        for (int step = 0; step < 10; step++) {     // 30 rows drawn: three epochs of 10, the second crossed mid-batch
            a.train(step, 0, x);
            for (int r = 0; r < 3; r++) seen.add(x.tokens[r * 4] / 100);
        }
        for (int e = 0; e < 3; e++) assertEquals(Set.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), new HashSet<>(seen.subList(e * 10, e * 10 + 10)), "epoch " + e);
        b.train(7, 0, y);     // any step, in any order, on a fresh source
        a.train(7, 0, x);
        assertArrayEquals(x.tokens, y.tokens);
    }
}
