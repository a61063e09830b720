package dev.llmkit.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateTest {
    @TempDir
    Path dir;

    private static final ChatMessage SYS = new ChatMessage("system", "You are terse.");
    private static final ChatMessage U1 = new ChatMessage("user", "the aaaa?");
    private static final ChatMessage A1 = new ChatMessage("assistant", "the answer");
    private static final ChatMessage U2 = new ChatMessage("user", "and then");
    private static final ChatMessage A2 = new ChatMessage("assistant", "aaaa the");

    /** Merges for "aa", "aaaa", "th", "the", " the"; {@code extra} merges follow. */
    static Tokenizer chatTokenizer(int[]... extra) {
        List<int[]> m = new ArrayList<>(List.of(new int[] {'a', 'a'}, new int[] {256, 256}, new int[] {'t', 'h'},
                new int[] {258, 'e'}, new int[] {' ', 259}));
        m.addAll(Arrays.asList(extra));
        return TokenizerJson.build(m.toArray(new int[0][]),
                List.of(Tokenizer.EOT, ChatTemplate.IM_START, ChatTemplate.IM_END), SplitPattern.GPT2);
    }

    /** Renders {@link ChatTemplate#JINJA} with a real Jinja engine, as transformers' apply_chat_template does. */
    static String jinja(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Jinjava j = new Jinjava(JinjavaConfig.newBuilder().withNestedInterpretationEnabled(false).build());
        List<Map<String, Object>> ms = new ArrayList<>();
        for (ChatMessage m : messages) ms.add(Map.of("role", m.role(), "content", m.content()));
        Map<String, Object> ctx = new HashMap<>();
        ctx.put("messages", ms);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        RenderResult r = j.renderForResult(ChatTemplate.JINJA, ctx);
        assertTrue(r.getErrors().isEmpty(), () -> r.getErrors().toString());
        return r.getOutput();
    }

    @Test
    void renderTextEqualsTheJinjaTemplate() {
        List<List<ChatMessage>> convs = List.of(
                List.of(U1), List.of(U1, A1), List.of(SYS, U1, A1), List.of(SYS, U1, A1, U2, A2), List.of(U1, A1, U2),
                List.of(new ChatMessage("user", "line 1\nline 2\n\n  indented\n"),
                        new ChatMessage("assistant", "She said \"hi\" and 'bye' \\n {{ x }} {% if %} {# c #} é ü 日本 😀")),
                List.of(new ChatMessage("system", ""), new ChatMessage("user", "<|im_end|> quoted"), new ChatMessage("assistant", "")),
                List.of());
        for (List<ChatMessage> c : convs) {
            for (boolean gen : new boolean[] {false, true}) {
                assertEquals(jinja(c, gen), ChatTemplate.renderText(c, gen), () -> c + " gen=" + gen);
            }
        }
        assertEquals("<|im_start|>user\nthe aaaa?<|im_end|>\n<|im_start|>assistant\n", ChatTemplate.renderText(List.of(U1), true));
    }

    @Test
    void weightsMarkExactlyAssistantContentAndItsEnd() {
        Tokenizer tok = chatTokenizer();
        int start = tok.addedId(ChatTemplate.IM_START), end = tok.addedId(ChatTemplate.IM_END);
        ChatTemplate.Rendered r = ChatTemplate.render(tok, List.of(U1, A1), false);
        // Built by hand: <s> "user\n" "the aaaa?" </s> "\n" <s> "assistant\n" | "the answer" </s> | "\n"
        List<Integer> ids = new ArrayList<>(), w = new ArrayList<>();
        add(ids, w, new int[] {start}, 0);
        add(ids, w, tok.encode("user\nthe aaaa?"), 0);
        add(ids, w, new int[] {end}, 0);
        add(ids, w, tok.encode("\n"), 0);
        add(ids, w, new int[] {start}, 0);
        add(ids, w, tok.encode("assistant\n"), 0);
        add(ids, w, tok.encode("the answer"), 1);
        add(ids, w, new int[] {end}, 1);
        add(ids, w, tok.encode("\n"), 0);
        assertArrayEquals(ids.stream().mapToInt(i -> i).toArray(), r.tokens());
        float[] want = new float[w.size()];
        for (int i = 0; i < want.length; i++) want[i] = w.get(i);
        assertArrayEquals(want, r.weights());
        assertArrayEquals(tok.encode(ChatTemplate.renderText(List.of(U1, A1), false), true), r.tokens());
    }

    private static void add(List<Integer> ids, List<Integer> w, int[] tokens, int weight) {
        for (int t : tokens) {
            ids.add(t);
            w.add(weight);
        }
    }

    @Test
    void tokensEqualEncodingTheWholeTextAndWeightedSpansDecodeToAssistantTurns() {
        Tokenizer tok = chatTokenizer();
        List<List<ChatMessage>> convs = List.of(List.of(SYS, U1, A1, U2, A2), List.of(U1, A1, U2),
                List.of(U1, new ChatMessage("assistant", "\nthe\n aaaa  é 😀 ")), List.of(SYS, U1));
        for (List<ChatMessage> c : convs) {
            for (boolean gen : new boolean[] {false, true}) {
                String text = ChatTemplate.renderText(c, gen);
                ChatTemplate.Rendered r = ChatTemplate.render(tok, c, gen);
                assertArrayEquals(tok.encode(text, true), r.tokens(), text);
                assertEquals(text, tok.decode(r.tokens()));
                StringBuilder want = new StringBuilder();
                for (ChatMessage m : c) if (m.role().equals("assistant")) want.append(m.content()).append(ChatTemplate.IM_END).append('|');
                assertEquals(want.toString(), weightedRuns(tok, r), text);
            }
        }
    }

    /** The decoded runs of weight-1 tokens, each followed by '|'. */
    private static String weightedRuns(Tokenizer tok, ChatTemplate.Rendered r) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < r.length(); i++) {
            if (r.weights()[i] == 0) continue;
            int j = i;
            while (j < r.length() && r.weights()[j] == 1) j++;
            sb.append(tok.decode(Arrays.copyOfRange(r.tokens(), i, j))).append('|');
            i = j;
        }
        return sb.toString();
    }

    @Test
    void aMergeAcrossTheHeaderBoundaryEncodesHeaderAndContentApart() {
        // "\n" + " " merges: content starting with two spaces makes the pre-token "\n " cross the boundary.
        Tokenizer tok = chatTokenizer(new int[] {'\n', ' '});
        int nl = tok.vocabSize() - 4;     // the last merge's id, before the three added tokens
        assertArrayEquals(new int[] {nl}, tok.encode("\n "));
        ChatMessage a = new ChatMessage("assistant", "  the");
        List<ChatMessage> conv = List.of(U1, a);
        String text = ChatTemplate.renderText(conv, false);
        ChatTemplate.Rendered r = ChatTemplate.render(tok, conv, false);
        int[] whole = tok.encode(text, true);
        assertFalse(Arrays.equals(whole, r.tokens()), "the documented exception: the merge is not applied");
        assertTrue(Arrays.stream(whole).anyMatch(t -> t == nl));
        assertEquals(text, tok.decode(r.tokens()), "same text either way");
        assertEquals("  the<|im_end|>|", weightedRuns(tok, r));
        // Content starting with whitespace but without a crossing merge stays identical to the whole encoding.
        Tokenizer plain = chatTokenizer();
        assertArrayEquals(plain.encode(text, true), ChatTemplate.render(plain, conv, false).tokens());
        assertEquals("  the<|im_end|>|", weightedRuns(plain, ChatTemplate.render(plain, conv, false)));
    }

    @Test
    void quotedSpecialTokensInContentStayText() {
        Tokenizer tok = chatTokenizer();
        int end = tok.addedId(ChatTemplate.IM_END);
        List<ChatMessage> conv = List.of(new ChatMessage("user", "what is <|im_end|>?"),
                new ChatMessage("assistant", "it ends a turn: <|im_end|><|im_start|>user"));
        ChatTemplate.Rendered r = ChatTemplate.render(tok, conv, true);
        assertEquals(2, Arrays.stream(r.tokens()).filter(t -> t == end).count());
        assertEquals(ChatTemplate.renderText(conv, true), tok.decode(r.tokens()));
        assertEquals("it ends a turn: <|im_end|><|im_start|>user<|im_end|>|", weightedRuns(tok, r));
    }

    @Test
    void generationPromptIsUnweighted() {
        Tokenizer tok = chatTokenizer();
        ChatTemplate.Rendered r = ChatTemplate.render(tok, List.of(SYS, U1), true);
        for (float w : r.weights()) assertEquals(0f, w);
        int[] tail = tok.encode("<|im_start|>assistant\n", true);
        assertArrayEquals(tail, Arrays.copyOfRange(r.tokens(), r.length() - tail.length, r.length()));
    }

    @Test
    void requireNamesTheMissingTokens() {
        Tokenizer base = TokenizerTest.small();
        ConfigException e = assertThrows(ConfigException.class, () -> ChatTemplate.require(base));
        assertTrue(e.getMessage().contains("<|im_start|>") && e.getMessage().contains("<|im_end|>"), e.getMessage());
        assertTrue(e.hint() != null && e.hint().contains("ensureChatTokens"));
        assertThrows(ConfigException.class, () -> ChatTemplate.render(base, List.of(U1), true));
        ChatTemplate.require(chatTokenizer());
    }

    @Test
    void ensureChatTokensGrowsTheVocabulary() throws Exception {
        Tokenizer base = TokenizerTest.small();
        Path baseFile = dir.resolve("base/tokenizer.json");
        TokenizerJson.write(base, baseFile);
        Path grown = ChatTemplate.ensureChatTokens(baseFile, dir.resolve("out"));
        assertEquals(dir.resolve("out/tokenizer.json"), grown);
        Tokenizer t = Tokenizer.load(grown);
        int n = base.vocabSize();
        assertEquals(n + 2, t.vocabSize());
        assertEquals(n, t.addedId(ChatTemplate.IM_START));
        assertEquals(n + 1, t.addedId(ChatTemplate.IM_END));
        assertArrayEquals(new int[] {n, 'x', n + 1}, t.encode("<|im_start|>x<|im_end|>", true));
        assertArrayEquals(base.encode("the aaaa <|endoftext|>", true), t.encode("the aaaa <|endoftext|>", true));
        JsonNode root = Json.MAPPER.readTree(grown.toFile());
        assertEquals(n + 1, root.path("model").path("vocab").path("<|im_end|>").asInt(), "listed in the vocab like the file's other added tokens");
        assertTrue(root.path("added_tokens").get(3).path("special").asBoolean());
        ChatTemplate.render(t, List.of(U1, A1), false);
        // Already present: a verbatim copy.
        Path again = ChatTemplate.ensureChatTokens(grown, dir.resolve("again"));
        assertArrayEquals(Files.readAllBytes(grown), Files.readAllBytes(again));
    }

    @Test
    void ensureChatTokensKeepsAddedTokensOutOfTheVocabWhenTheFileDoes() throws Exception {
        Path f = dir.resolve("hf/tokenizer.json");
        TokenizerJson.write(TokenizerTest.small(), f);
        ObjectNode root = (ObjectNode) Json.MAPPER.readTree(f.toFile());
        ((ObjectNode) root.path("model").path("vocab")).remove(List.of(Tokenizer.EOT, "<|pad|>"));
        Files.writeString(f, root.toString());
        Tokenizer t = Tokenizer.load(ChatTemplate.ensureChatTokens(f, dir.resolve("hf2")));
        assertEquals(TokenizerTest.small().vocabSize() + 1, t.addedId(ChatTemplate.IM_END));
        JsonNode back = Json.MAPPER.readTree(dir.resolve("hf2/tokenizer.json").toFile());
        assertTrue(back.path("model").path("vocab").path(ChatTemplate.IM_START).isMissingNode());
    }

    @Test
    void tokenizerConfigRoundTrip() throws Exception {
        Tokenizer tok = chatTokenizer();
        assertNull(ChatTemplate.readChatTemplate(dir));
        Path f = ChatTemplate.writeTokenizerConfig(dir, tok, 512);
        assertEquals(ChatTemplate.JINJA, ChatTemplate.readChatTemplate(dir));
        JsonNode n = Json.MAPPER.readTree(f.toFile());
        assertEquals("<|im_end|>", n.path("eos_token").asText());
        assertTrue(n.path("bos_token").isNull());
        assertEquals(Tokenizer.EOT, n.path("pad_token").asText());
        assertEquals(512, n.path("model_max_length").asInt());
        assertEquals("PreTrainedTokenizerFast", n.path("tokenizer_class").asText());
        JsonNode dec = n.path("added_tokens_decoder").path(Integer.toString(tok.addedId(ChatTemplate.IM_START)));
        assertEquals(ChatTemplate.IM_START, dec.path("content").asText());
        assertTrue(dec.path("special").asBoolean());
        assertEquals(3, n.path("added_tokens_decoder").size());
        assertThrows(ConfigException.class, () -> ChatTemplate.writeTokenizerConfig(dir, TokenizerTest.small(), 512));
        // The list form of newer transformers, and chat_template.jinja.
        Files.writeString(f, "{\"chat_template\":[{\"name\":\"tool_use\",\"template\":\"x\"},{\"name\":\"default\",\"template\":\"y\"}]}");
        assertEquals("y", ChatTemplate.readChatTemplate(dir));
        Files.writeString(f, "{\"eos_token\":\"<|im_end|>\"}");
        assertNull(ChatTemplate.readChatTemplate(dir));
        Files.writeString(dir.resolve("chat_template.jinja"), "z", StandardCharsets.UTF_8);
        assertEquals("z", ChatTemplate.readChatTemplate(dir));
        Files.writeString(f, "[1]");
        assertThrows(dev.llmkit.core.DataException.class, () -> ChatTemplate.readChatTemplate(dir));
    }

    @Test
    void checkpointAndGgufKeepTheTemplate() throws Exception {
        Path tokDir = dir.resolve("tok");
        Tokenizer tok = TokenizerJson.write(chatTokenizer(), tokDir.resolve("tokenizer.json"));
        Weights w = Weights.init(new ModelConfig(32, 48, 1, 4, 2, tok.vocabSize(), 64, 1e-5f, 10000f, true), 0.1f, 3);
        Checkpoint.write(dir.resolve("plain"), w, tokDir.resolve("tokenizer.json"), null, false);
        assertNull(Checkpoint.read(dir.resolve("plain")).chatTemplate());
        ChatTemplate.writeTokenizerConfig(tokDir, tok, 64);
        Path ck = dir.resolve("ck");
        Checkpoint.write(ck, w, tokDir.resolve("tokenizer.json"), null, false);
        Checkpoint.Loaded back = Checkpoint.read(ck);
        assertEquals(ChatTemplate.JINJA, back.chatTemplate());
        assertArrayEquals(Files.readAllBytes(tokDir.resolve("tokenizer_config.json")), Files.readAllBytes(ck.resolve("tokenizer_config.json")));
        JsonNode cfg = Json.MAPPER.readTree(ck.resolve("config.json").toFile());
        assertEquals(tok.eotId(), cfg.path("eos_token_id").asInt(), "config.json keeps bos/eos as before");

        Path gguf = dir.resolve("m.gguf"), none = dir.resolve("none.gguf");
        GgufModel.export(back.weights(), back.tokenizer(), gguf, Gguf.F32, "chat", back.chatTemplate());
        Checkpoint.Loaded g = GgufModel.load(gguf);
        assertEquals(ChatTemplate.JINJA, g.chatTemplate());
        Gguf.Value v = Gguf.read(gguf).get("tokenizer.chat_template");
        assertEquals(ChatTemplate.JINJA, v.value());
        assertEquals((long) tok.eotId(), Gguf.read(gguf).get("tokenizer.ggml.eos_token_id").value());
        GgufModel.export(back.weights(), back.tokenizer(), none, Gguf.F32, "chat");
        assertNull(GgufModel.load(none).chatTemplate());
        assertNull(Gguf.read(none).get("tokenizer.chat_template"));
    }
}
