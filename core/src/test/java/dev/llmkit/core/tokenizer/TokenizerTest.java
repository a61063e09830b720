package dev.llmkit.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.DataException;
import dev.llmkit.core.util.IntList;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenizerTest {
    /** A tokenizer with hand-made merges: "aa", "aaa"... plus a few English ones. */
    static Tokenizer small() {
        List<int[]> m = new ArrayList<>();
        m.add(new int[] {'a', 'a'});            // 256 "aa"
        m.add(new int[] {256, 256});            // 257 "aaaa"
        m.add(new int[] {'t', 'h'});            // 258 "th"
        m.add(new int[] {258, 'e'});            // 259 "the"
        m.add(new int[] {' ', 259});            // 260 " the"
        m.add(new int[] {256, 'a'});            // 261 "aaa"
        m.add(new int[] {'=', '='});            // 262
        m.add(new int[] {262, 262});            // 263
        m.add(new int[] {'a', 'b'});            // 264
        m.add(new int[] {264, 264});            // 265
        return TokenizerJson.build(m.toArray(new int[0][]), List.of(Tokenizer.EOT, "<|pad|>"), SplitPattern.GPT2);
    }

    @Test
    void mergesApplyLowestRankFirstLeftmostFirst() {
        Tokenizer t = small();
        assertArrayEquals(new int[] {257, 'a'}, t.encode("aaaaa"));
        assertArrayEquals(new int[] {260}, t.encode(" the"));
        assertArrayEquals(new int[] {259, 'y'}, t.encode("they"));
        assertEquals(266, t.eotId());
        assertArrayEquals(new int[] {'x', 266, 'y'}, t.encode("x<|endoftext|>y", true));
        assertEquals("x<|endoftext|>y", t.decode(t.encode("x<|endoftext|>y", false)));
        assertTrue(t.encode("x<|endoftext|>y", false).length > 3);
    }

    @Test
    void manySpecialTokensInALongTextStayLinear() {
        Tokenizer t = small();
        String text = "aaaa<|endoftext|>".repeat(200_000);
        long t0 = System.nanoTime();
        int[] ids = t.encode(text, true);
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "quadratic special-token matching");
        assertEquals(400_000, ids.length);
        assertEquals(text, t.decode(ids));
    }

    @Test
    void heapPathEqualsQuadraticPath() {
        Tokenizer t = small();
        Encoder quadratic = new Encoder(t, Integer.MAX_VALUE), heap = new Encoder(t, 0);
        SplittableRandom r = new SplittableRandom(3);
        char[] alphabet = {'a', 'a', 'a', 'b', '=', 't', 'h', 'e', 'x'};
        for (int i = 0; i < 5000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(i < 4000 ? 30 : 400);
            for (int k = 0; k < n; k++) sb.append(alphabet[r.nextInt(alphabet.length)]);
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            IntList x = new IntList(), y = new IntList();
            quadratic.bpe(b, 0, b.length, x);
            heap.bpe(b, 0, b.length, y);
            assertArrayEquals(x.toArray(), y.toArray(), sb::toString);
        }
    }

    @Test
    void cacheDoesNotChangeResults() {
        Tokenizer t = small();
        String text = "the aaaa ==== abab the they aaaaaaa ".repeat(2000);
        int[] first = t.encode(text), second = t.encode(text);
        assertArrayEquals(first, second);
        assertArrayEquals(new Encoder(t).encodeOnce(text), first);
        // Enough distinct words to overflow and clear the cache more than once.
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 200_000; i++) sb.append(" w").append(i);
        String many = sb.toString();
        assertEquals(many, t.decode(t.encode(many)));
        assertArrayEquals(new Encoder(t, Integer.MAX_VALUE).encodeOnce(many), t.encode(many));
    }

    @Test
    void decodeRejectsIdsOutOfRange() {
        Tokenizer t = small();
        DataException e = assertThrows(DataException.class, () -> t.decode(new int[] {1, t.vocabSize()}));
        assertTrue(e.getMessage().contains("out of range"));
        assertThrows(DataException.class, () -> t.decode(new int[] {-1}));
    }
}
