package dev.llmkit.tokenizertrainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.TokenizerConfig;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cross-implementation: Hugging Face tokenizers (the Rust library, through DJL) is the oracle. Our
 * tokenizer.json must encode to our ids in Hugging Face, and a GPT-2-style file that Hugging Face wrote
 * must encode identically in ours.
 */
class HfParityTest {
    @TempDir
    Path dir;

    private static final Map<String, String> HF_OPTIONS = Map.of("addSpecialTokens", "false", "truncation", "false",
            "padding", "false", "modelMaxLength", "100000000");

    /** The parity set, 400 random tricky strings and 100 random Unicode strings. */
    private static List<String> texts() {
        List<String> t = new ArrayList<>(TestTexts.paritySet());
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 400; i++) t.add(TestTexts.randomTricky(r, 40));
        for (int i = 0; i < 100; i++) t.add(TestTexts.randomUnicode(r, 30));
        return t;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "cl100k"})
    void ourTokenizerJsonEncodesIdenticallyInHuggingFace(String pattern) throws Exception {
        TokenizerConfig cfg = new TokenizerConfig(1500, pattern, TokenizerConfig.defaults().specialTokens(), 2, 32, 0, 2);
        Tokenizer trained = BpeTrainer.train(TestTexts.corpus(400, 200, 1).iterator(), cfg, -1, Progress.NONE).tokenizer();
        Path file = dir.resolve(pattern + ".json");
        Tokenizer ours = TokenizerJson.write(trained, file);
        assertEquals(1500, ours.vocabSize());
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file, HF_OPTIONS)) {
            int checked = 0, tokens = 0;
            for (String s : texts()) {
                int[] mine = ours.encode(s);
                assertArrayEquals(toInts(hf.encode(s, false, false).getIds()), mine, () -> "ids differ for " + escape(s));
                assertEquals(s, ours.decode(mine), () -> "round trip of " + escape(s));
                checked++;
                tokens += mine.length;
            }
            assertTrue(checked > 500 && tokens > 5000, "the text set is not trivial");
            // Special tokens: Hugging Face always matches added tokens; ours does when allowed.
            String withSpecial = "<|im_start|>user\nHi there<|im_end|>\n<|endoftext|>next doc";
            assertArrayEquals(toInts(hf.encode(withSpecial, false, false).getIds()), ours.encode(withSpecial, true));
            int[] plain = ours.encode(withSpecial, false);
            for (int id : plain) assertTrue(id < ours.vocabSize() - 4, "no special id without permission");
            assertEquals(withSpecial, ours.decode(plain));
            // A long text is not truncated on either side.
            String longText = String.join(" ", TestTexts.corpus(30, 200, 9));
            int[] mine = ours.encode(longText);
            assertTrue(mine.length > 2000);
            assertArrayEquals(toInts(hf.encode(longText, false, false).getIds()), mine);
        }
    }

    @Test
    void huggingFaceWrittenTokenizerLoadsAndEncodesIdentically() throws Exception {
        Path file = Path.of(HfParityTest.class.getResource("/hf-golden/tokenizer.json").toURI());
        Tokenizer ours = Tokenizer.load(file);
        assertEquals(2662, ours.vocabSize());
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file, HF_OPTIONS)) {
            for (String s : texts()) {
                assertArrayEquals(toInts(hf.encode(s, false, false).getIds()), ours.encode(s), () -> "ids differ for " + escape(s));
            }
            String english = "First Citizen:\nBefore we proceed any further, hear me speak.\n";
            int[] ids = ours.encode(english);
            assertTrue(ids.length < english.length() / 2, "a trained file compresses its own kind of text");
            assertEquals(english, ours.decode(ids));
        }
    }

    /** Real text when ../shared is present: train on 90% of tiny shakespeare, compare on the rest line by line. */
    @Test
    void realTextParityOnSharedData() throws Exception {
        Path input = Path.of(System.getProperty("llmkit.shared.dir", "../shared"), "data/pretrain_tinyshakespeare/input.txt");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isRegularFile(input), "no ../shared data: " + input);
        String text = java.nio.file.Files.readString(input);
        int cut = text.indexOf('\n', text.length() * 9 / 10) + 1;
        TokenizerConfig cfg = new TokenizerConfig(4096, "gpt2", TokenizerConfig.defaults().specialTokens(), 2, 32, 0, 2);
        Tokenizer trained = BpeTrainer.train(List.of(text.substring(0, cut)).iterator(), cfg, -1, Progress.NONE).tokenizer();
        Path file = dir.resolve("shakespeare.json");
        Tokenizer ours = TokenizerJson.write(trained, file);
        long tokens = 0;
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file, HF_OPTIONS)) {
            for (String line : text.substring(cut).split("(?<=\n)")) {
                int[] mine = ours.encode(line);
                assertArrayEquals(toInts(hf.encode(line, false, false).getIds()), mine, line);
                tokens += mine.length;
            }
        }
        double perByte = (double) tokens / text.substring(cut).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        assertTrue(perByte > 0.2 && perByte < 0.35, "held-out tokens/byte " + perByte);
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F) sb.appendCodePoint(cp);
            else sb.append(String.format("\\u{%x}", cp));
        });
        return sb.append('"').toString();
    }
}
