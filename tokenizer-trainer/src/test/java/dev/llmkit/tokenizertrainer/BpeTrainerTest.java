package dev.llmkit.tokenizertrainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.TokenizerConfig;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTrainerTest {
    @TempDir
    Path dir;

    private static final List<String> SPECIAL = TokenizerConfig.defaults().specialTokens();

    private static TokenizerConfig cfg(int vocab, long minFreq, int maxLen, int threads) {
        return new TokenizerConfig(vocab, "gpt2", SPECIAL, minFreq, maxLen, 0, threads);
    }

    private static BpeTrainer.Result train(List<String> texts, TokenizerConfig cfg) {
        return BpeTrainer.train(texts.iterator(), cfg, -1, Progress.NONE);
    }

    @Test
    void sameCorpusSameTokenizerWhateverTheThreadCount() {
        List<String> corpus = TestTexts.corpus(300, 150, 3);
        byte[] one = TokenizerJson.toBytes(train(corpus, cfg(1200, 2, 32, 1)).tokenizer());
        byte[] three = TokenizerJson.toBytes(train(corpus, cfg(1200, 2, 32, 3)).tokenizer());
        assertArrayEquals(one, three);
    }

    @Test
    void mergesEqualANaiveTrainerThatRecountsEveryPair() {
        List<String> corpus = TestTexts.corpus(60, 80, 11);
        int[][] fast = train(corpus, cfg(256 + 4 + 300, 1, 0, 2)).tokenizer().merges();
        int[][] slow = naiveMerges(corpus, 300);
        assertEquals(slow.length, fast.length);
        for (int i = 0; i < slow.length; i++) assertArrayEquals(slow[i], fast[i], "merge " + i);
    }

    /** Textbook BPE: recount all pairs before every merge; ties to the smaller (left, right). */
    private static int[][] naiveMerges(List<String> texts, int merges) {
        Map<String, Long> counts = new HashMap<>();
        for (String t : texts) {
            byte[] b = t.getBytes(StandardCharsets.UTF_8);
            for (int p = 0; p < b.length; ) {
                int q = SplitPattern.GPT2.next(b, p, b.length);
                counts.merge(new String(b, p, q - p, StandardCharsets.ISO_8859_1), 1L, Long::sum);
                p = q;
            }
        }
        List<int[]> words = new ArrayList<>();
        List<Long> wc = new ArrayList<>();
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            words.add(e.getKey().chars().toArray());
            wc.add(e.getValue());
        }
        int[][] out = new int[merges][];
        for (int m = 0; m < merges; m++) {
            Map<Long, Long> pc = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                int[] s = words.get(w);
                for (int i = 0; i + 1 < s.length; i++) pc.merge(((long) s[i] << 32) | s[i + 1], wc.get(w), Long::sum);
            }
            long best = -1, bestCount = 0;
            for (Map.Entry<Long, Long> e : pc.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey() < best)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            int a = (int) (best >>> 32), b = (int) best, z = 256 + m;
            out[m] = new int[] {a, b};
            for (int w = 0; w < words.size(); w++) {
                int[] s = words.get(w);
                List<Integer> n = new ArrayList<>();
                for (int i = 0; i < s.length; i++) {
                    if (i + 1 < s.length && s[i] == a && s[i + 1] == b) {
                        n.add(z);
                        i++;
                    } else {
                        n.add(s[i]);
                    }
                }
                words.set(w, n.stream().mapToInt(Integer::intValue).toArray());
            }
        }
        return out;
    }

    @Test
    void layoutLimitsAndStopReasons() {
        List<String> corpus = TestTexts.corpus(100, 100, 5);
        BpeTrainer.Result r = train(corpus, cfg(800, 2, 4, 2));
        Tokenizer t = r.tokenizer();
        assertEquals(800, t.vocabSize());
        assertEquals(800 - 256 - 4, t.mergeCount());
        for (int b = 0; b < 256; b++) assertArrayEquals(new byte[] {(byte) b}, t.tokenBytes(b));
        for (int id = 256; id < 796; id++) assertTrue(t.tokenBytes(id).length <= 4, "max_token_length");
        for (int i = 0; i < SPECIAL.size(); i++) assertEquals(796 + i, t.addedId(SPECIAL.get(i)));
        assertEquals(796, t.eotId());
        assertEquals("vocab_size reached", r.stats().stopReason());

        BpeTrainer.Result few = train(List.of("abab abab abab xyz"), cfg(5000, 2, 0, 1));
        assertTrue(few.stats().stopReason().startsWith("min_frequency"), few.stats().stopReason());
        assertTrue(few.tokenizer().vocabSize() < 300);

        BpeTrainer.Result sampled = BpeTrainer.train(corpus.iterator(), new TokenizerConfig(600, "gpt2", SPECIAL, 2, 32, 20_000, 1), -1, Progress.NONE);
        assertTrue(sampled.stats().truncated());
        assertTrue(sampled.stats().bytes() <= 20_000);
    }

    @Test
    void decodeOfEncodeIsIdentityForValidUnicode() {
        Tokenizer t = train(TestTexts.corpus(200, 150, 8), cfg(1000, 2, 32, 2)).tokenizer();
        SplittableRandom r = new SplittableRandom(99);
        for (int i = 0; i < 3000; i++) {
            String s = i % 2 == 0 ? TestTexts.randomUnicode(r, 60) : TestTexts.randomTricky(r, 60);
            assertEquals(s, t.decode(t.encode(s)), () -> HfParityTest.escape(s));
        }
        for (String s : TestTexts.paritySet()) assertEquals(s, t.decode(t.encode(s)));
        String sp = "a<|endoftext|>b<|im_start|>";
        int[] ids = t.encode(sp, true);
        assertEquals(t.eotId(), ids[1]);
        assertEquals(t.addedId("<|im_start|>"), ids[ids.length - 1]);
        assertEquals(sp, t.decode(ids));
        // Batch encoding gives the same ids as one at a time.
        List<String> batch = TestTexts.corpus(50, 50, 4);
        int[][] b = t.encodeBatch(batch, false, 3);
        for (int i = 0; i < batch.size(); i++) assertArrayEquals(t.encode(batch.get(i)), b[i]);
    }

    @Test
    void stageWritesTokenizerReportAndProvenanceAtomically() throws Exception {
        Path out = dir.resolve("01-tokenizer");
        List<String> corpus = TestTexts.corpus(100, 100, 2);
        TokenizerStage.Output o = TokenizerStage.run(corpus.iterator(), -1, corpus.subList(0, 20).iterator(), -1, cfg(700, 2, 32, 2),
                List.of(), out, false, Progress.NONE);
        assertEquals(o.tokenizer().sha256(), dev.llmkit.core.util.Text.sha256(Files.readAllBytes(out.resolve("tokenizer.json"))));
        JsonNode report = Json.MAPPER.readTree(out.resolve("report.json").toFile());
        assertEquals(700, report.path("vocab_size").asInt());
        assertTrue(report.path("validation").path("tokens_per_byte").asDouble() > 0.05);
        assertTrue(report.path("validation").path("tokens_per_byte").asDouble() < 0.6);
        assertEquals(20, report.path("longest_tokens").size());
        assertNotNull(report.path("training").path("seconds_total"));
        assertTrue(Files.isRegularFile(out.resolve("provenance.json")));
        assertThrows(ConfigException.class, () -> TokenizerStage.run(corpus.iterator(), -1, null, -1, cfg(700, 2, 32, 2),
                List.of(), out, false, Progress.NONE));
    }
}
