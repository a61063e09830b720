package dev.llmkit.core.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.DataException;
import dev.llmkit.core.StorageException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The Hugging Face tokenizer.json format, for byte-level BPE (the subset GPT-2-style tokenizers use).
 *
 * <pre>
 * {"version":"1.0", "truncation":null, "padding":null,
 *  "added_tokens":[{"id":N,"content":"&lt;|endoftext|&gt;","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}, ...],
 *  "normalizer":null,
 *  "pre_tokenizer": {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}          (GPT-2 pattern)
 *                 | {"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":R},"behavior":"Isolated","invert":false},
 *                                                       {"type":"ByteLevel",...,"use_regex":false}]}              (another pattern R)
 *  "post_processor":{"type":"ByteLevel",...}, "decoder":{"type":"ByteLevel",...},
 *  "model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,
 *           "fuse_unk":false,"byte_fallback":false,"ignore_merges":false,
 *           "vocab":{"token":id,...}, "merges":[["left","right"],...] (or the legacy "left right" strings)}}
 * </pre>
 * Token strings use GPT-2's byte-to-unicode mapping ({@link ByteLevel}); a merge's rank is its index.
 * The reader rejects what it cannot reproduce exactly (normalizers, other models, dropout, byte fallback)
 * with an error naming the file and field.
 */
public final class TokenizerJson {
    private TokenizerJson() {}

    /** Created on first use: a GGUF file's tokenizer never needs one (an ObjectMapper costs a fresh process a tenth of a second). */
    private static final class Plain {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }
    /** Largest tokenizer.json read (bigger files are refused before parsing). */
    static final long MAX_BYTES = 256L << 20;
    static final int MAX_VOCAB = 1 << 24;

    public static Tokenizer read(Path file) {
        return parse(readBytes(file), file.toString());
    }

    private static byte[] readBytes(Path file) {
        byte[] bytes;
        if (Files.isDirectory(file)) {
            throw new dev.llmkit.core.ConfigException(file + " is a directory, not a tokenizer.json", "pass the file: " + file.resolve("tokenizer.json"));
        }
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) throw new DataException(file + ": " + size + " bytes is larger than any tokenizer.json we accept (" + MAX_BYTES + ")", null);
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new dev.llmkit.core.ConfigException(file + ": no such file", "pass the tokenizer.json written by `llmkit tokenizer train`", e);
        } catch (IOException e) {
            throw new StorageException(file + ": cannot read: " + e.getMessage(), null, e);
        }
        return bytes;
    }

    /** Parses tokenizer.json bytes; {@code source} names the file in errors. */
    public static Tokenizer parse(byte[] bytes, String source) {
        JsonNode root;
        try {
            root = Plain.MAPPER.readTree(bytes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new DataException(source + ": not valid JSON: " + e.getOriginalMessage(), "is this a tokenizer.json file?", e);
        } catch (IOException e) {
            throw new DataException(source + ": not valid JSON: " + e.getMessage(), "is this a tokenizer.json file?", e);
        }
        if (root == null || !root.isObject()) throw bad(source, "(root)", "expected a JSON object");
        JsonNode model = root.path("model");
        if (!model.isObject()) throw bad(source, "model", "missing");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) throw bad(source, "model.type", "\"" + type + "\" is not supported (only BPE)");
        for (String f : new String[] {"dropout", "continuing_subword_prefix", "end_of_word_suffix"}) {
            JsonNode n = model.path(f);
            if (!n.isMissingNode() && !n.isNull() && !(n.isTextual() && n.asText().isEmpty())) throw bad(source, "model." + f, "must be null, got " + n);
        }
        if (model.path("byte_fallback").asBoolean(false)) throw bad(source, "model.byte_fallback", "true is not supported (byte-level BPE needs none)");
        if (model.path("ignore_merges").asBoolean(false)) throw bad(source, "model.ignore_merges", "true is not supported");
        JsonNode norm = root.path("normalizer");
        if (!norm.isMissingNode() && !norm.isNull()) throw bad(source, "normalizer", "a normalizer is not supported (got " + norm.path("type").asText("?") + ")");

        // 1. Vocabulary and added tokens.
        JsonNode vocab = model.path("vocab");
        if (!vocab.isObject()) throw bad(source, "model.vocab", "expected an object of token -> id");
        Map<String, Integer> ids = new HashMap<>(vocab.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = checkId(source, "model.vocab[\"" + e.getKey() + "\"]", e.getValue());
            ids.put(e.getKey(), id);
        }
        List<Tokenizer.AddedToken> added = new ArrayList<>();
        JsonNode at = root.path("added_tokens");
        if (!at.isMissingNode() && !at.isNull() && !at.isArray()) throw bad(source, "added_tokens", "expected an array");
        for (int i = 0; i < at.size(); i++) {
            JsonNode a = at.get(i);
            String content = a.path("content").asText("");
            if (content.isEmpty()) throw bad(source, "added_tokens[" + i + "].content", "missing or empty");
            int id = checkId(source, "added_tokens[" + i + "].id", a.path("id"));
            added.add(new Tokenizer.AddedToken(id, content, a.path("special").asBoolean(false)));
        }
        // 2. Merges, as token strings.
        JsonNode merges = model.path("merges");
        if (!merges.isArray()) throw bad(source, "model.merges", "expected an array");
        List<String[]> pairs = new ArrayList<>(merges.size());
        for (int r = 0; r < merges.size(); r++) {
            JsonNode m = merges.get(r);
            if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                pairs.add(new String[] {m.get(0).asText(), m.get(1).asText()});
            } else {
                String[] p = m.isTextual() ? splitMerge(m.asText()) : null;
                if (p == null) throw bad(source, "model.merges[" + r + "]", "expected [\"left\", \"right\"] or \"left right\", got " + abbreviate(m.toString()));
                pairs.add(p);
            }
        }

        // 3. Pre-tokenizer.
        JsonNode pre = root.path("pre_tokenizer");
        SplitPattern pattern;
        boolean prefix;
        String preType = pre.path("type").asText("");
        if (preType.equals("ByteLevel") && pre.path("use_regex").asBoolean(true)) {
            pattern = SplitPattern.GPT2;
            prefix = pre.path("add_prefix_space").asBoolean(false);
        } else if (preType.equals("Sequence") && pre.path("pretokenizers").isArray() && pre.path("pretokenizers").size() == 2
                && pre.path("pretokenizers").get(0).path("type").asText("").equals("Split")
                && pre.path("pretokenizers").get(1).path("type").asText("").equals("ByteLevel")
                && !pre.path("pretokenizers").get(1).path("use_regex").asBoolean(true)) {
            JsonNode split = pre.path("pretokenizers").get(0);
            String regex = split.path("pattern").path("Regex").asText(null);
            pattern = null;
            for (SplitPattern p : SplitPattern.values()) if (p.regex.equals(regex)) pattern = p;
            if (pattern == null) throw bad(source, "pre_tokenizer.pretokenizers[0].pattern", "unsupported split pattern " + abbreviate(String.valueOf(regex)) + " (supported: GPT-2 and cl100k)");
            if (!split.path("behavior").asText("").equals("Isolated") || split.path("invert").asBoolean(false)) {
                throw bad(source, "pre_tokenizer.pretokenizers[0]", "only behavior Isolated without invert is supported");
            }
            prefix = pre.path("pretokenizers").get(1).path("add_prefix_space").asBoolean(false);
        } else {
            throw bad(source, "pre_tokenizer", "unsupported: " + abbreviate(pre.toString()) + " (supported: ByteLevel with use_regex, or Split + ByteLevel)");
        }
        return assemble(source, ids, added, pairs, pattern, prefix, () -> dev.llmkit.core.util.Text.sha256(bytes));
    }

    /** "left right" split at its one space, or null when it is not that. */
    public static String[] splitMerge(String m) {
        int sp = m.indexOf(' ');
        return sp > 0 && sp == m.lastIndexOf(' ') ? new String[] {m.substring(0, sp), m.substring(sp + 1)} : null;
    }

    /**
     * A tokenizer from its parts, checked as tokenizer.json's are (dense ids, no id used twice, added
     * tokens agreeing with the vocabulary, merges of known tokens): what {@link #parse} reads, and what a
     * GGUF file's tokenizer.ggml.* arrays hold. {@code sha256} gives the hash of the tokenizer.json these
     * parts come from (or would be written as) when first asked for.
     */
    public static Tokenizer assemble(String source, Map<String, Integer> ids, List<Tokenizer.AddedToken> added, List<String[]> merges,
                                     SplitPattern pattern, boolean prefix, java.util.function.Supplier<String> sha256) {
        int maxId = -1;
        for (int id : ids.values()) maxId = Math.max(maxId, id);
        for (Tokenizer.AddedToken a : added) {
            if (a.content().isEmpty()) throw bad(source, "added_tokens", "id " + a.id() + " has an empty content");
            maxId = Math.max(maxId, a.id());
        }
        if (maxId >= MAX_VOCAB) throw bad(source, "model.vocab", "token id " + maxId + " is beyond the " + MAX_VOCAB + " we accept");
        int entries = ids.size() + added.size();
        if (maxId >= 2L * entries + 1024) {
            throw bad(source, "model.vocab", "ids go up to " + maxId + " but there are only " + entries + " tokens (ids must be dense)");
        }
        String[] strings = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : ids.entrySet()) {
            if (strings[e.getValue()] != null) throw bad(source, "model.vocab", "id " + e.getValue() + " is used twice");
            strings[e.getValue()] = e.getKey();
        }
        for (Tokenizer.AddedToken a : added) {
            String s = strings[a.id()];
            if (s != null && !s.equals(a.content())) {
                throw bad(source, "added_tokens", "id " + a.id() + " is \"" + a.content() + "\" but the vocabulary has \"" + s + "\"");
            }
            strings[a.id()] = a.content();
        }

        int[][] pairs = new int[merges.size()][];
        for (int r = 0; r < pairs.length; r++) {
            String left = merges.get(r)[0], right = merges.get(r)[1];
            Integer a = ids.get(left), b = ids.get(right);
            if (a == null || b == null) throw bad(source, "model.merges[" + r + "]", "token \"" + (a == null ? left : right) + "\" is not in the vocabulary");
            pairs[r] = new int[] {a, b};
        }

        return new Tokenizer(strings, pairs, added, pattern, prefix, sha256, source);
    }

    private static int checkId(String source, String field, JsonNode n) {
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 0 || n.asInt() >= MAX_VOCAB) {
            throw bad(source, field, "expected a token id in [0, " + MAX_VOCAB + "), got " + abbreviate(n.toString()));
        }
        return n.asInt();
    }

    private static DataException bad(String source, String field, String problem) {
        return new DataException(source + ": " + field + ": " + problem, "the file is not a byte-level BPE tokenizer.json that llmkit can read");
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    /** The tokenizer.json bytes of a tokenizer (vocabulary in id order; added tokens listed apart). */
    public static byte[] toBytes(Tokenizer t) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream(1 << 20);
        try (JsonGenerator g = new JsonFactory().createGenerator(bos)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("version", "1.0");
            g.writeNullField("truncation");
            g.writeNullField("padding");
            g.writeArrayFieldStart("added_tokens");
            for (Tokenizer.AddedToken a : t.addedTokens()) {
                g.writeStartObject();
                g.writeNumberField("id", a.id());
                g.writeStringField("content", a.content());
                g.writeBooleanField("single_word", false);
                g.writeBooleanField("lstrip", false);
                g.writeBooleanField("rstrip", false);
                g.writeBooleanField("normalized", false);
                g.writeBooleanField("special", a.special());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeNullField("normalizer");
            g.writeFieldName("pre_tokenizer");
            if (t.pattern() == SplitPattern.GPT2) {
                byteLevel(g, t.addPrefixSpace(), true);
            } else {
                g.writeStartObject();
                g.writeStringField("type", "Sequence");
                g.writeArrayFieldStart("pretokenizers");
                g.writeStartObject();
                g.writeStringField("type", "Split");
                g.writeObjectFieldStart("pattern");
                g.writeStringField("Regex", t.pattern().regex);
                g.writeEndObject();
                g.writeStringField("behavior", "Isolated");
                g.writeBooleanField("invert", false);
                g.writeEndObject();
                byteLevel(g, t.addPrefixSpace(), false);
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeFieldName("post_processor");
            byteLevel(g, t.addPrefixSpace(), true);
            g.writeFieldName("decoder");
            byteLevel(g, t.addPrefixSpace(), true);
            g.writeObjectFieldStart("model");
            g.writeStringField("type", "BPE");
            g.writeNullField("dropout");
            g.writeNullField("unk_token");
            g.writeNullField("continuing_subword_prefix");
            g.writeNullField("end_of_word_suffix");
            g.writeBooleanField("fuse_unk", false);
            g.writeBooleanField("byte_fallback", false);
            g.writeBooleanField("ignore_merges", false);
            g.writeObjectFieldStart("vocab");
            for (int id = 0; id < t.vocabSize(); id++) {
                String s = t.tokenString(id);
                if (s == null) continue;
                g.writeNumberField(s, id);     // added tokens too, as Hugging Face's trainer writes them
            }
            g.writeEndObject();
            g.writeArrayFieldStart("merges");
            for (int[] m : t.merges()) {
                g.writeStartArray();
                g.writeString(t.tokenString(m[0]));
                g.writeString(t.tokenString(m[1]));
                g.writeEndArray();
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        bos.write('\n');
        return bos.toByteArray();
    }

    private static void byteLevel(JsonGenerator g, boolean prefix, boolean regex) throws IOException {
        g.writeStartObject();
        g.writeStringField("type", "ByteLevel");
        g.writeBooleanField("add_prefix_space", prefix);
        g.writeBooleanField("trim_offsets", true);
        g.writeBooleanField("use_regex", regex);
        g.writeEndObject();
    }

    /** Writes tokenizer.json atomically and returns the tokenizer as read back (with the file's hash). */
    public static Tokenizer write(Tokenizer t, Path file) {
        byte[] bytes = toBytes(t);
        AtomicFiles.write(file, bytes);
        return parse(bytes, file.toString());
    }

    /**
     * Writes {@code out}: the tokenizer.json {@code in} with each of {@code contents} that it lacks as an
     * added token appended as a special added token (a token already in {@code model.vocab} keeps its
     * id; a new one takes the next id after the largest). Other fields are kept as they are. New tokens
     * also go into {@code model.vocab} when the file lists its added tokens there (as Hugging Face's
     * trainer and llmkit write them); otherwise, as in Qwen's or Llama 3's files, only into
     * {@code added_tokens}. With nothing to add, {@code out} is a verbatim copy. Returns {@code out} as read back.
     */
    public static Tokenizer addSpecialTokens(Path in, Path out, List<String> contents) {
        byte[] bytes = readBytes(in);
        Tokenizer t = parse(bytes, in.toString());
        ObjectNode root;
        try {
            root = (ObjectNode) Plain.MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new IllegalStateException(e);     // parse() above accepted the same bytes
        }
        ObjectNode vocab = (ObjectNode) root.path("model").path("vocab");
        boolean inVocab = true;
        for (Tokenizer.AddedToken a : t.addedTokens()) inVocab &= vocab.path(a.content()).asInt(-1) == a.id();
        JsonNode at = root.path("added_tokens");
        ArrayNode added = at.isArray() ? (ArrayNode) at : root.putArray("added_tokens");
        int next = t.vocabSize();
        boolean changed = false;
        for (String c : contents) {
            if (t.addedId(c) >= 0) continue;
            int id = vocab.path(c).canConvertToInt() ? vocab.get(c).asInt() : next++;
            added.addObject().put("id", id).put("content", c).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
            if (inVocab) vocab.put(c, id);
            changed = true;
        }
        if (changed) {
            try {
                bytes = (Plain.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        AtomicFiles.write(out, bytes);
        return parse(bytes, out.toString());
    }

    /**
     * Builds a tokenizer from byte-level parts (what a trainer produces): ids 0..255 are the byte
     * tokens in byte order, then one token per merge in rank order, then the added tokens.
     */
    public static Tokenizer build(int[][] merges, List<String> addedTokens, SplitPattern pattern) {
        int n = 256 + merges.length;
        String[] strings = new String[n + addedTokens.size()];
        byte[][] bytes = new byte[n][];
        for (int b = 0; b < 256; b++) {
            bytes[b] = new byte[] {(byte) b};
            strings[b] = String.valueOf(ByteLevel.charOf(b));
        }
        for (int r = 0; r < merges.length; r++) {
            byte[] l = bytes[merges[r][0]], rr = bytes[merges[r][1]];
            byte[] z = java.util.Arrays.copyOf(l, l.length + rr.length);
            System.arraycopy(rr, 0, z, l.length, rr.length);
            bytes[256 + r] = z;
            strings[256 + r] = ByteLevel.encode(z, 0, z.length);
        }
        List<Tokenizer.AddedToken> added = new ArrayList<>();
        for (int i = 0; i < addedTokens.size(); i++) {
            strings[n + i] = addedTokens.get(i);
            added.add(new Tokenizer.AddedToken(n + i, addedTokens.get(i), true));
        }
        Tokenizer t = new Tokenizer(strings, merges, added, pattern, false, (String) null, "(trained)");
        return parse(toBytes(t), "(trained)");
    }

}
