package dev.llmkit.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.DataException;
import dev.llmkit.core.LlmkitException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerJsonTest {
    @TempDir
    Path dir;

    @Test
    void writeReadRoundTripIsByteIdentical() {
        Tokenizer t = TokenizerTest.small();
        Path f = dir.resolve("tokenizer.json");
        Tokenizer back = TokenizerJson.write(t, f);
        assertArrayEquals(TokenizerJson.toBytes(t), TokenizerJson.toBytes(back));
        assertEquals(t.vocabSize(), back.vocabSize());
        assertEquals(t.sha256(), back.sha256());
        String json = new String(TokenizerJson.toBytes(t), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"Ġthe\" : 260"), "GPT-2 byte-level strings");
        assertTrue(json.contains("[ \"Ġ\", \"the\" ]"), "merges as pairs");
    }

    @Test
    void legacyMergeStringsAndCl100kPreTokenizerLoad() {
        String json = """
            {"added_tokens":[{"id":259,"content":"<|endoftext|>","special":true}],
             "pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":%s},"behavior":"Isolated","invert":false},
                              {"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},
             "model":{"type":"BPE","vocab":%s,"merges":["a b","ab c"]}}
            """.formatted(quote(SplitPattern.CL100K.regex), vocab(256, "\"ab\":256,\"abc\":257,\"zz\":258"));
        Tokenizer t = TokenizerJson.parse(json.getBytes(StandardCharsets.UTF_8), "x.json");
        assertEquals(SplitPattern.CL100K, t.pattern());
        assertArrayEquals(new int[] {257, 'd'}, t.encode("abcd"));
        assertEquals(259, t.eotId());
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** A vocab object with all 256 byte tokens and {@code extra} entries. */
    private static String vocab(int n, String extra) {
        StringBuilder sb = new StringBuilder("{");
        for (int b = 0; b < n; b++) sb.append(quote(String.valueOf(ByteLevel.charOf(b)))).append(':').append(b).append(',');
        return sb.append(extra).append('}').toString();
    }

    private static final String GOOD = """
        {"added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
         "model":{"type":"BPE","dropout":null,"vocab":VOCAB,"merges":[["a","b"]]}}
        """.replace("VOCAB", vocab(256, "\"ab\":256"));

    @Test
    void malformedFilesGetErrorsNamingTheField() {
        assertEquals(257, parse(GOOD).vocabSize());
        expect(GOOD.replace("\"type\":\"BPE\"", "\"type\":\"WordPiece\""), "model.type");
        expect(GOOD.replace("\"normalizer\":null", "\"normalizer\":{\"type\":\"NFC\"}"), "normalizer");
        expect(GOOD.replace("\"dropout\":null", "\"dropout\":0.1"), "model.dropout");
        expect(GOOD.replace("[[\"a\",\"b\"]]", "[[\"a\",\"q\u0100\"]]"), "model.merges[0]");
        expect(GOOD.replace("[[\"a\",\"b\"]]", "[[\"a\",\"c\"]]"), "model.merges[0]");
        expect(GOOD.replace("[[\"a\",\"b\"]]", "[42]"), "model.merges[0]");
        expect(GOOD.replace("\"ab\":256", "\"ab\":-5"), "model.vocab");
        expect(GOOD.replace("\"ab\":256", "\"ab\":99999999999"), "model.vocab");
        expect(GOOD.replace("\"ab\":256", "\"ab\":255"), "model.vocab");
        expect(GOOD.replace("\"ab\":256", "\"a\u4e00\":256"), "model.vocab");
        expect(GOOD.replace("\"use_regex\":true", "\"use_regex\":false"), "pre_tokenizer");
        expect(GOOD.replace("\"ByteLevel\"", "\"Whitespace\""), "pre_tokenizer");
        expect(GOOD.replace("\"added_tokens\":[]", "\"added_tokens\":[{\"id\":3,\"content\":\"<x>\"}]"), "added_tokens");
        expect(GOOD.substring(0, GOOD.length() / 2), "not valid JSON");
        expect("[1,2]", "(root)");
        expect(GOOD.replace("{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true}",
                "{\"type\":\"Sequence\",\"pretokenizers\":{\"x\":1,\"y\":2}}"), "pre_tokenizer");
        expect(GOOD.replace("\"ab\":256", "\"ab\":16777000"), "dense");
        assertThrows(dev.llmkit.core.ConfigException.class, () -> Tokenizer.load(dir.resolve("missing.json")));     // a missing input: exit 2
    }

    @Test
    void mutatedFilesFailWithTypedErrorsOnly() throws Exception {
        byte[] good = TokenizerJson.toBytes(TokenizerTest.small());
        SplittableRandom r = new SplittableRandom(5);
        int ok = 0;
        for (int i = 0; i < 1000; i++) {
            byte[] b = good.clone();
            switch (i % 3) {
                case 0 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
                case 1 -> { for (int k = 0; k < 4; k++) b[r.nextInt(b.length)] = (byte) r.nextInt(256); }
                default -> {
                    int p = r.nextInt(b.length);
                    b[p] = (byte) "0123456789-\"[]{}:,".charAt(r.nextInt(18));
                }
            }
            Path f = dir.resolve("m.json");
            Files.write(f, b);
            try {
                Tokenizer t = Tokenizer.load(f);
                t.decode(t.encode("the aaaa abab\u00e9"));
                ok++;
            } catch (LlmkitException expected) {
                // a typed error naming the file
                assertTrue(expected.getMessage().startsWith(f.toString()), expected.getMessage());
            }
        }
        assertTrue(ok < 1000);
    }

    private static Tokenizer parse(String json) {
        return TokenizerJson.parse(json.getBytes(StandardCharsets.UTF_8), "t.json");
    }

    private static void expect(String json, String field) {
        DataException e = assertThrows(DataException.class, () -> parse(json));
        assertTrue(e.getMessage().startsWith("t.json: ") && e.getMessage().contains(field), e.getMessage());
    }
}
