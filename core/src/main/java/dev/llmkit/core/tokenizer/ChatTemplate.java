package dev.llmkit.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.util.IntList;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The chat format of fine-tuned models: ChatML on two special tokens,
 * {@code <|im_start|>role\ncontent<|im_end|>\n} per message, and {@code <|im_start|>assistant\n} as
 * the generation prompt. {@link #JINJA} is the same rendering as a Hugging Face {@code chat_template}
 * (what tokenizer_config.json and GGUF's {@code tokenizer.chat_template} carry), {@link #renderText}
 * renders it in Java, and {@link #render} produces the tokens with a loss weight per token for
 * supervised fine-tuning.
 *
 * <p>Token spans come from the template's structure: the special tokens split the text, so every piece
 * between two of them is encoded on its own (which is what encoding the whole text does). Two cases
 * deliberately differ from {@code tok.encode(renderText(...), true)}: message content is encoded with
 * added tokens as plain text (a message that quotes {@code <|im_end|>} must not end its turn), and
 * when a merge crosses the boundary between the header {@code role\n} and the content (content that
 * starts with whitespace, under a vocabulary with such a merge), header and content are encoded
 * separately so the loss mask can start exactly at the content.
 */
public final class ChatTemplate {
    private ChatTemplate() {}

    /** Opens a turn; followed by the role and a newline. */
    public static final String IM_START = "<|im_start|>";
    /** Closes a turn; the end-of-sequence token of a chat model. */
    public static final String IM_END = "<|im_end|>";

    /**
     * The Hugging Face {@code chat_template}: ChatML as Qwen models ship it, without a default system
     * prompt. Its string literals use Jinja's {@code \n} escape, as in the published templates.
     */
    public static final String JINJA = "{% for message in messages %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
            + "{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /** Name of the Hugging Face tokenizer config file written beside tokenizer.json. */
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";

    /** Tokens of a rendered conversation and the loss weight of each (1 = learn to predict it, 0 = context). */
    public record Rendered(int[] tokens, float[] weights) {
        public Rendered {
            if (tokens.length != weights.length) throw new IllegalArgumentException(tokens.length + " tokens, " + weights.length + " weights");
        }

        public int length() {
            return tokens.length;
        }
    }

    /** The conversation as text, exactly as {@link #JINJA} renders it. */
    public static String renderText(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append(IM_START).append(m.role()).append('\n').append(m.content()).append(IM_END).append('\n');
        }
        if (addGenerationPrompt) sb.append(IM_START).append(ChatMessage.ASSISTANT).append('\n');
        return sb.toString();
    }

    /**
     * Tokens of the rendering with loss weights: 1 for each token of an assistant message's content
     * and for the {@code <|im_end|>} that closes it (so the model learns to stop); 0 for system and
     * user turns, the {@code <|im_start|>assistant\n} header, the newline after {@code <|im_end|>} and
     * the generation prompt. See the class comment for the two cases that differ from encoding the
     * rendered text as a whole.
     *
     * @throws ConfigException when the tokenizer lacks the ChatML special tokens
     */
    public static Rendered render(Tokenizer tok, List<ChatMessage> messages, boolean addGenerationPrompt) {
        require(tok);
        int start = tok.addedId(IM_START), end = tok.addedId(IM_END);
        int[] newline = tok.encode("\n", false);
        IntList ids = new IntList(256), weights = new IntList(256);
        for (ChatMessage m : messages) {
            int w = m.role().equals(ChatMessage.ASSISTANT) ? 1 : 0;
            append(ids, weights, start, 0);
            appendTurnBody(tok, m.role(), m.content(), w, ids, weights);
            append(ids, weights, end, w);
            for (int t : newline) append(ids, weights, t, 0);
        }
        if (addGenerationPrompt) {
            append(ids, weights, start, 0);
            for (int t : tok.encode(ChatMessage.ASSISTANT + "\n", false)) append(ids, weights, t, 0);
        }
        int[] w = weights.toArray();
        float[] fw = new float[w.length];
        for (int i = 0; i < w.length; i++) fw[i] = w[i];
        return new Rendered(ids.toArray(), fw);
    }

    /** The header {@code role\n} with weight 0, then the content with weight {@code w}. */
    private static void appendTurnBody(Tokenizer tok, String role, String content, int w, IntList ids, IntList weights) {
        int[] header = tok.encode(role + "\n", false);
        int[] piece = tok.encode(role + "\n" + content, false);
        int[] body;
        if (piece.length >= header.length && Arrays.equals(piece, 0, header.length, header, 0, header.length)) {
            body = Arrays.copyOfRange(piece, header.length, piece.length);
        } else {
            // A merge crosses the header/content boundary: the one case where the token stream differs
            // from encoding the whole text, so that the mask starts exactly at the content.
            body = tok.encode(content, false);
        }
        for (int t : header) append(ids, weights, t, 0);
        for (int t : body) append(ids, weights, t, w);
    }

    private static void append(IntList ids, IntList weights, int id, int w) {
        ids.add(id);
        weights.add(w);
    }

    /** Throws a {@link ConfigException} naming the ChatML special tokens the tokenizer lacks. */
    public static void require(Tokenizer tok) {
        List<String> missing = missing(tok);
        if (!missing.isEmpty()) {
            throw new ConfigException("the tokenizer has no " + String.join(" or ", missing) + " token (ChatML needs "
                    + IM_START + " and " + IM_END + " as added special tokens)",
                    "add them with ChatTemplate.ensureChatTokens (fine-tuning grows the embedding rows to match)");
        }
    }

    /** The ChatML special tokens the tokenizer lacks, in the order {@code <|im_start|>}, {@code <|im_end|>}. */
    public static List<String> missing(Tokenizer tok) {
        List<String> out = new ArrayList<>();
        for (String s : new String[] {IM_START, IM_END}) if (tok.addedId(s) < 0) out.add(s);
        return out;
    }

    /**
     * Writes {@code outDir/tokenizer.json}: a copy of {@code tokenizerJson} with {@code <|im_start|>} and
     * {@code <|im_end|>} added as special tokens at the end of the vocabulary when it lacks them (a
     * verbatim copy when it has both). Returns the written file. The model's embedding (and output)
     * rows must grow to the new vocabulary size; the caller does that.
     */
    public static Path ensureChatTokens(Path tokenizerJson, Path outDir) {
        Path out = outDir.resolve("tokenizer.json");
        TokenizerJson.addSpecialTokens(tokenizerJson, out, List.of(IM_START, IM_END));
        return out;
    }

    /**
     * Writes {@code dir/tokenizer_config.json} as Hugging Face writes it (sorted keys): the chat
     * template, {@code <|im_end|>} as eos, no bos, {@code <|pad|>} (else {@code <|endoftext|>}) as pad,
     * {@code model_max_length}, {@code PreTrainedTokenizerFast}, and every added token in
     * {@code added_tokens_decoder}.
     *
     * @throws ConfigException when the tokenizer lacks the ChatML special tokens
     */
    public static Path writeTokenizerConfig(Path dir, Tokenizer tok, int contextLength) {
        require(tok);
        return writeTokenizerConfig(dir, tok, contextLength, JINJA);
    }

    /** Writes {@code dir/tokenizer_config.json}: {@link #tokenizerConfig} with this template (null: none). */
    public static Path writeTokenizerConfig(Path dir, Tokenizer tok, int contextLength, String chatTemplate) {
        Path file = dir.resolve(TOKENIZER_CONFIG);
        AtomicFiles.write(file, pretty(tokenizerConfig(tok, contextLength, chatTemplate)));
        return file;
    }

    /**
     * tokenizer_config.json as Hugging Face writes it (sorted keys): every added token in
     * {@code added_tokens_decoder}, {@code PreTrainedTokenizerFast}, {@code model_max_length}, and the
     * special tokens. With a chat template (a chat model): the template, no bos, {@code <|im_end|>} as
     * eos when the tokenizer has it (else {@code <|endoftext|>}) and the ChatML tokens it has as
     * additional special tokens. Without (a base model): {@code <|endoftext|>} as bos and eos, as GPT-2
     * has it. Pad is {@code <|pad|>}, else {@code <|endoftext|>}; a token the tokenizer lacks is null.
     */
    public static ObjectNode tokenizerConfig(Tokenizer tok, int contextLength, String chatTemplate) {
        ObjectNode n = new ObjectMapper().createObjectNode();
        ObjectNode decoder = n.putObject("added_tokens_decoder");
        for (Tokenizer.AddedToken a : tok.addedTokens()) {
            decoder.putObject(Integer.toString(a.id())).put("content", a.content()).put("lstrip", false)
                    .put("normalized", false).put("rstrip", false).put("single_word", false).put("special", a.special());
        }
        String eot = tok.eotId() >= 0 ? Tokenizer.EOT : null;
        if (chatTemplate != null) {
            com.fasterxml.jackson.databind.node.ArrayNode extra = n.putArray("additional_special_tokens");
            for (String s : new String[] {IM_START, IM_END}) if (tok.addedId(s) >= 0) extra.add(s);
            n.putNull("bos_token");
            n.put("chat_template", chatTemplate);
        } else {
            n.put("bos_token", eot);
        }
        n.put("clean_up_tokenization_spaces", false);
        n.put("eos_token", chatTemplate != null && tok.addedId(IM_END) >= 0 ? IM_END : eot);
        n.put("model_max_length", contextLength);
        n.put("pad_token", tok.addedId("<|pad|>") >= 0 ? "<|pad|>" : eot);
        n.put("tokenizer_class", "PreTrainedTokenizerFast");
        n.putNull("unk_token");
        return n;
    }

    /** special_tokens_map.json of a {@link #tokenizerConfig}: its special tokens that are set. */
    public static ObjectNode specialTokensMap(ObjectNode tokenizerConfig) {
        ObjectNode m = new ObjectMapper().createObjectNode();
        for (String k : new String[] {"additional_special_tokens", "bos_token", "eos_token", "pad_token", "unk_token"}) {
            JsonNode v = tokenizerConfig.get(k);
            if (v != null && !v.isNull()) m.set(k, v.deepCopy());
        }
        return m;
    }

    /** Pretty JSON with a trailing newline, as Hugging Face writes its tokenizer files. */
    public static byte[] pretty(JsonNode n) {
        try {
            return (new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The chat template of a model or tokenizer directory: {@code chat_template} in
     * tokenizer_config.json (a string, or the {@code "default"} entry of the list form), else the
     * {@code chat_template.jinja} file newer transformers write; null when there is none.
     */
    public static String readChatTemplate(Path dir) {
        Path file = dir.resolve(TOKENIZER_CONFIG);
        JsonNode n = readJson(file);
        if (n != null) {
            JsonNode t = n.path("chat_template");
            if (t.isTextual()) return t.asText();
            if (t.isArray()) {
                for (JsonNode e : t) if (e.path("name").asText("").equals("default") && e.path("template").isTextual()) return e.get("template").asText();
                throw new DataException(file + ": chat_template is a list without a \"default\" template", null);
            }
            if (!t.isMissingNode() && !t.isNull()) throw new DataException(file + ": chat_template must be a string, got " + t.getNodeType(), null);
        }
        Path jinja = dir.resolve("chat_template.jinja");
        try {
            return new String(Files.readAllBytes(jinja), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StorageException(jinja + ": cannot read: " + e.getMessage(), null, e);
        }
    }

    /** The file as a JSON tree, or null when it does not exist. */
    private static JsonNode readJson(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StorageException(file + ": cannot read: " + e.getMessage(), null, e);
        }
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(bytes);
        } catch (IOException e) {
            throw new DataException(file + ": not valid JSON: " + e.getMessage(), "is this a Hugging Face tokenizer_config.json?", e);
        }
        if (n == null || !n.isObject()) throw new DataException(file + ": not a JSON object", "is this a Hugging Face tokenizer_config.json?");
        return n;
    }
}
