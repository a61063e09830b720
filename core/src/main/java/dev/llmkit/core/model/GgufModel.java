package dev.llmkit.core.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.DataException;
import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model with its tokenizer as one GGUF file in llama.cpp's layout: {@code general.*} and
 * {@code llama.*} metadata, the tokenizer as {@code tokenizer.ggml.model = gpt2} (tokens, token types,
 * merges, explicit bos/eos, a {@code tokenizer.ggml.pre} llama.cpp knows), tensors under GGUF names
 * (no output.weight when embeddings are tied; norms always F32), and {@code tokenizer.chat_template}
 * when the model has a chat template.
 */
public final class GgufModel {
    private GgufModel() {}

    /** The metadata key of the Jinja chat template (a string), as llama.cpp's gguf constants name it. */
    public static final String CHAT_TEMPLATE = "tokenizer.chat_template";

    /** {@code type} is {@link Gguf#F32} or {@link Gguf#F16} for the matrices; no chat template. */
    public static void export(Weights w, Tokenizer tok, Path file, int type, String name) {
        export(w, tok, file, type, name, null);
    }

    /**
     * {@code type} is {@link Gguf#F32} or {@link Gguf#F16} for the matrices; {@code chatTemplate}, when
     * not null, is written as {@code tokenizer.chat_template} (the Jinja text llama.cpp applies).
     */
    public static void export(Weights w, Tokenizer tok, Path file, int type, String name, String chatTemplate) {
        List<Gguf.OutTensor> tensors = new ArrayList<>();
        for (Tensor t : w.tensors().values()) tensors.add(new Gguf.OutTensor(t.name(), t.shape(), t.data(), t.shape().length == 1 ? Gguf.F32 : type));
        Gguf.write(file, metadata(w.config(), tok, name, type == Gguf.F32 ? 0 : 1, chatTemplate), tensors);
    }

    /**
     * Writes tensors already encoded (a quantized model) with the same metadata as {@link #export};
     * {@code fileType} is llama.cpp's {@code general.file_type} (a llama_ftype) and
     * {@code general.quantization_version} is 2, as llama-quantize writes them.
     */
    public static void write(ModelConfig c, Tokenizer tok, Path file, String name, String chatTemplate, int fileType, List<Gguf.OutTensor> tensors) {
        Map<String, Gguf.Value> m = metadata(c, tok, name, fileType, chatTemplate);
        m.put("general.quantization_version", Gguf.Value.u32(2));
        Gguf.write(file, m, tensors);
    }

    private static Map<String, Gguf.Value> metadata(ModelConfig c, Tokenizer tok, String name, int fileType, String chatTemplate) {
        Map<String, Gguf.Value> m = new LinkedHashMap<>();
        m.put("general.architecture", Gguf.Value.str("llama"));
        m.put("general.name", Gguf.Value.str(name));
        m.put("general.file_type", Gguf.Value.u32(fileType));
        m.put("llama.context_length", Gguf.Value.u32(c.contextLength()));
        m.put("llama.embedding_length", Gguf.Value.u32(c.dim()));
        m.put("llama.block_count", Gguf.Value.u32(c.nLayers()));
        m.put("llama.feed_forward_length", Gguf.Value.u32(c.hiddenDim()));
        m.put("llama.rope.dimension_count", Gguf.Value.u32(c.headDim()));
        m.put("llama.attention.head_count", Gguf.Value.u32(c.nHeads()));
        m.put("llama.attention.head_count_kv", Gguf.Value.u32(c.nKvHeads()));
        m.put("llama.attention.layer_norm_rms_epsilon", Gguf.Value.f32(c.normEps()));
        m.put("llama.rope.freq_base", Gguf.Value.f32(c.ropeTheta()));
        m.put("llama.vocab_size", Gguf.Value.u32(c.vocabSize()));
        m.put("tokenizer.ggml.model", Gguf.Value.str("gpt2"));
        m.put("tokenizer.ggml.pre", Gguf.Value.str(tok.pattern() == SplitPattern.GPT2 ? "gpt-2" : "llama-bpe"));
        List<String> tokens = new ArrayList<>();
        int[] types = new int[tok.vocabSize()];
        java.util.Set<Integer> added = new java.util.HashSet<>();
        for (Tokenizer.AddedToken a : tok.addedTokens()) added.add(a.id());
        for (int id = 0; id < tok.vocabSize(); id++) {
            String s = tok.tokenString(id);
            tokens.add(s == null ? "[UNUSED_" + id + "]" : s);
            types[id] = s == null ? 5 : added.contains(id) ? 3 : 1;
        }
        m.put("tokenizer.ggml.tokens", Gguf.Value.strings(tokens));
        m.put("tokenizer.ggml.token_type", Gguf.Value.i32s(types));
        List<String> merges = new ArrayList<>();
        for (int[] p : tok.merges()) merges.add(tok.tokenString(p[0]) + " " + tok.tokenString(p[1]));
        m.put("tokenizer.ggml.merges", Gguf.Value.strings(merges));
        int eot = tok.eotId();
        if (eot >= 0) {
            m.put("tokenizer.ggml.bos_token_id", Gguf.Value.u32(eot));
            m.put("tokenizer.ggml.eos_token_id", Gguf.Value.u32(eot));
            m.put("tokenizer.ggml.add_bos_token", Gguf.Value.bool(false));
        }
        int pad = tok.addedId("<|pad|>");
        if (pad >= 0) m.put("tokenizer.ggml.padding_token_id", Gguf.Value.u32(pad));
        if (chatTemplate != null) m.put(CHAT_TEMPLATE, Gguf.Value.str(chatTemplate));
        return m;
    }

    /**
     * Loads weights and tokenizer from a GGUF file written by llmkit, llama.cpp's converter or
     * llama-quantize, every tensor as F32 (quantized tensors dequantized): for training and export.
     */
    public static Checkpoint.Loaded load(Path file) {
        return load(file, false);
    }

    /**
     * The same, with tensors stored in a block type other than F32 kept as stored ({@link Weights#stored}):
     * for the inference engine, which runs them as they are.
     */
    public static Checkpoint.Loaded loadQuantized(Path file) {
        return load(file, true, null);
    }

    /**
     * {@link #loadQuantized(Path)}, telling {@code matrixTypes} the storage types of the weight matrices (the
     * tensors of two dimensions; F16 and BF16 as F32, to which the engine widens them) as soon as the header
     * is read, before the tensors are: an engine can prepare its kernels while they load.
     */
    public static Checkpoint.Loaded loadQuantized(Path file, java.util.function.Consumer<java.util.Set<dev.llmkit.core.quant.GgmlType>> matrixTypes) {
        return load(file, true, matrixTypes);
    }

    private static Checkpoint.Loaded load(Path file, boolean keepQuantized) {
        return load(file, keepQuantized, null);
    }

    private static Checkpoint.Loaded load(Path file, boolean keepQuantized, java.util.function.Consumer<java.util.Set<dev.llmkit.core.quant.GgmlType>> matrixTypes) {
        Gguf.Model g = Gguf.read(file);
        if (matrixTypes != null) {
            java.util.Set<dev.llmkit.core.quant.GgmlType> types = java.util.EnumSet.noneOf(dev.llmkit.core.quant.GgmlType.class);
            for (Gguf.TensorInfo t : g.tensors().values()) {
                if (t.shape().length != 2) continue;
                dev.llmkit.core.quant.GgmlType type = dev.llmkit.core.quant.GgmlType.byId(t.type());     // (Gguf.read refuses unknown types)
                types.add(type == dev.llmkit.core.quant.GgmlType.F16 || type == dev.llmkit.core.quant.GgmlType.BF16 ? dev.llmkit.core.quant.GgmlType.F32 : type);
            }
            matrixTypes.accept(types);
        }
        String arch = string(g, "general.architecture");
        if (!arch.equals("llama")) throw bad(file, "general.architecture \"" + arch + "\" is not supported (llama)");
        int dim = u32(g, "llama.embedding_length"), heads = u32(g, "llama.attention.head_count");
        int kvHeads = g.get("llama.attention.head_count_kv") == null ? heads : u32(g, "llama.attention.head_count_kv");
        float theta = g.get("llama.rope.freq_base") == null ? 10000f : f32(g, "llama.rope.freq_base");
        Tokenizer tok = tokenizer(g);
        boolean tied = !g.tensors().containsKey(TensorNames.OUTPUT);
        ModelConfig c;
        try {
            c = new ModelConfig(dim, u32(g, "llama.feed_forward_length"), u32(g, "llama.block_count"), heads,
                    kvHeads, tok.vocabSize(), u32(g, "llama.context_length"),
                    f32(g, "llama.attention.layer_norm_rms_epsilon"), theta, tied);
        } catch (dev.llmkit.core.ConfigException e) {
            throw bad(file, e.getMessage());
        }
        Map<String, Tensor> ts = new LinkedHashMap<>();
        Map<String, QuantTensor> qs = new LinkedHashMap<>();
        try (Gguf.Data data = Gguf.Data.open(g)) {
            for (Map.Entry<String, int[]> e : TensorNames.shapes(c).entrySet()) {
                // (copies from the mapped file do not notice an interrupt, as reads from a channel did: a load abandoned
                // ahead, ModelPrefetch, stops here)
                if (Thread.currentThread().isInterrupted()) {
                    throw new dev.llmkit.core.DataException(file + ": loading interrupted", null, new InterruptedException());
                }
                Gguf.TensorInfo t = g.tensors().get(e.getKey());
                if (t == null) throw bad(file, "missing tensor " + e.getKey());
                if (!java.util.Arrays.equals(t.shape(), e.getValue())) {
                    throw bad(file, "tensor " + e.getKey() + " has shape " + java.util.Arrays.toString(t.shape()) + ", expected " + java.util.Arrays.toString(e.getValue()));
                }
                if (keepQuantized && t.type() != Gguf.F32) {
                    qs.put(e.getKey(), new QuantTensor(e.getKey(), e.getValue(), dev.llmkit.core.quant.GgmlType.byId(t.type()), data.raw(t)));
                } else {
                    ts.put(e.getKey(), new Tensor(e.getKey(), e.getValue(), data.f32(t)));
                }
            }
        }
        for (String name : g.tensors().keySet()) {
            if (!TensorNames.shapes(c).containsKey(name)) {
                throw bad(file, "tensor " + name + " is not one the metadata's model has (llama.block_count " + c.nLayers() + ")");
            }
        }
        String chatTemplate = g.get(CHAT_TEMPLATE) == null ? null : string(g, CHAT_TEMPLATE);
        return new Checkpoint.Loaded(new Weights(c, ts, qs), tok, chatTemplate);
    }

    static Tokenizer tokenizer(Gguf.Model g) {
        Path file = g.path();
        if (!string(g, "tokenizer.ggml.model").equals("gpt2")) throw bad(file, "tokenizer.ggml.model must be gpt2 (byte-level BPE)");
        String pre = g.get("tokenizer.ggml.pre") == null ? "gpt-2" : string(g, "tokenizer.ggml.pre");
        SplitPattern pattern = switch (pre) {
            case "gpt-2", "default" -> SplitPattern.GPT2;
            case "llama-bpe", "llama3" -> SplitPattern.CL100K;
            default -> throw bad(file, "tokenizer.ggml.pre \"" + pre + "\" is not supported (gpt-2, llama-bpe)");
        };
        List<String> tokens = strings(g, "tokenizer.ggml.tokens");
        long[] types = new long[tokens.size()];
        Gguf.Value tt = g.get("tokenizer.ggml.token_type");
        if (tt != null) {
            if (!(tt.value() instanceof long[] a) || (tt.elementType() != 4 && tt.elementType() != 5)) throw bad(file, "tokenizer.ggml.token_type must be an array of integers");
            types = a;
        }
        if (types.length != tokens.size()) throw bad(file, "tokenizer.ggml.token_type has " + types.length + " entries for " + tokens.size() + " tokens");
        // Straight from the arrays (a fresh process builds no JSON); the hash is that of the tokenizer.json
        // these arrays make, computed only if someone asks for it (token shards, provenance)
        Map<String, Integer> ids = new HashMap<>(tokens.size() * 2);
        List<Tokenizer.AddedToken> added = new ArrayList<>();
        for (int id = 0; id < tokens.size(); id++) {
            // Control, user-defined and unused (padding) tokens keep their ids as added tokens.
            if (types[id] == 3 || types[id] == 4 || types[id] == 5) added.add(new Tokenizer.AddedToken(id, tokens.get(id), types[id] != 4));
            else ids.put(tokens.get(id), id);
        }
        List<String> mergeStrings = strings(g, "tokenizer.ggml.merges");
        List<String[]> merges = new ArrayList<>(mergeStrings.size());
        for (int r = 0; r < mergeStrings.size(); r++) {
            String[] p = TokenizerJson.splitMerge(mergeStrings.get(r));
            if (p == null) throw bad(file, "tokenizer.ggml.merges[" + r + "]: expected \"left right\", got \"" + mergeStrings.get(r) + "\"");
            merges.add(p);
        }
        return TokenizerJson.assemble(file + " (tokenizer.ggml.*)", ids, added, merges, pattern, false,
                () -> dev.llmkit.core.util.Text.sha256(tokenizerJson(tokens, added, mergeStrings, pattern)));
    }

    /**
     * The tokenizer.json a GGUF file's tokenizer arrays stand for (its sha256 identifies the tokenizer):
     * the added tokens as {@link #tokenizer} sorted them out, in id order, and every other token in the vocabulary.
     */
    private static byte[] tokenizerJson(List<String> tokens, List<Tokenizer.AddedToken> added, List<String> mergeStrings, SplitPattern pattern) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        ArrayNode addedNode = root.putArray("added_tokens");
        ObjectNode preNode = root.putObject("pre_tokenizer");
        if (pattern == SplitPattern.GPT2) {
            preNode.put("type", "ByteLevel").put("use_regex", true);
        } else {
            preNode.put("type", "Sequence");
            ArrayNode seq = preNode.putArray("pretokenizers");
            seq.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false).putObject("pattern").put("Regex", pattern.regex);
            seq.addObject().put("type", "ByteLevel").put("use_regex", false);
        }
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        boolean[] isAdded = new boolean[tokens.size()];
        for (Tokenizer.AddedToken a : added) {
            isAdded[a.id()] = true;
            addedNode.addObject().put("id", a.id()).put("content", a.content()).put("special", a.special());
        }
        for (int id = 0; id < tokens.size(); id++) if (!isAdded[id]) vocab.put(tokens.get(id), id);
        ArrayNode merges = model.putArray("merges");
        for (String s : mergeStrings) merges.add(s);
        try {
            return om.writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Gguf.Value need(Gguf.Model g, String key) {
        Gguf.Value v = g.get(key);
        if (v == null) throw bad(g.path(), "missing metadata " + key);
        return v;
    }

    private static String string(Gguf.Model g, String key) {
        Gguf.Value v = need(g, key);
        if (!(v.value() instanceof String s)) throw bad(g.path(), key + " must be a string");
        return s;
    }

    private static int u32(Gguf.Model g, String key) {
        Gguf.Value v = need(g, key);
        if (v.type() == 9 || !(v.value() instanceof Long l) || l < 0 || l > Integer.MAX_VALUE) throw bad(g.path(), key + " must be a non-negative integer");
        return (int) (long) l;
    }

    private static float f32(Gguf.Model g, String key) {
        Gguf.Value v = need(g, key);
        if (v.value() instanceof Float f) return f;
        if (v.value() instanceof Double d) return (float) (double) d;
        throw bad(g.path(), key + " must be a float");
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Gguf.Model g, String key) {
        Gguf.Value v = need(g, key);
        if (v.type() != 9 || v.elementType() != 8) throw bad(g.path(), key + " must be an array of strings");
        return (List<String>) v.value();
    }

    private static DataException bad(Path file, String problem) {
        return new DataException(file + ": " + problem, "the GGUF file is damaged or not a llama model llmkit can read");
    }
}
