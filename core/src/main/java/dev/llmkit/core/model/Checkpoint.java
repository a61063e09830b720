package dev.llmkit.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.io.Safetensors;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint directory as Hugging Face's LlamaForCausalLM reads it: config.json, model.safetensors
 * (Hugging Face tensor names; q/k rows permuted to its rotate-half rotary layout), tokenizer.json,
 * tokenizer_config.json when the tokenizer comes with one (a chat model's template), plus our provenance.json. Written into a staging directory and renamed into place.
 */
public final class Checkpoint {
    private Checkpoint() {}

    /**
     * A model read back: weights, tokenizer, and the Hugging Face chat template that came with them
     * (tokenizer_config.json or GGUF {@code tokenizer.chat_template}; null when none).
     */
    public record Loaded(Weights weights, Tokenizer tokenizer, String chatTemplate) {
        /** Without a chat template. */
        public Loaded(Weights weights, Tokenizer tokenizer) {
            this(weights, tokenizer, null);
        }
    }

    /** Writes more files into the staging directory before it is committed (e.g. trainer state). */
    public interface Extra {
        void write(Path staging) throws IOException;
    }

    public static void write(Path dir, Weights w, Path tokenizerJson, Provenance provenance, boolean overwrite) {
        write(dir, w, tokenizerJson, provenance, overwrite, null);
    }

    public static void write(Path dir, Weights w, Path tokenizerJson, Provenance provenance, boolean overwrite, Extra extra) {
        write(dir, w, Tokenizer.load(tokenizerJson), tokenizerJson, provenance, overwrite, extra);
    }

    /**
     * Writes a checkpoint directory atomically: complete under its final name, or absent. {@code tok}
     * is {@code tokenizerJson} already loaded (a training run saves many checkpoints with one tokenizer).
     * A tokenizer_config.json beside {@code tokenizerJson} (the chat template of a fine-tuned model) is
     * copied too.
     */
    public static void write(Path dir, Weights w, Tokenizer tok, Path tokenizerJson, Provenance provenance, boolean overwrite, Extra extra) {
        if (tok.vocabSize() != w.config().vocabSize()) {
            throw new ConfigException("the tokenizer has " + tok.vocabSize() + " tokens but the model " + w.config().vocabSize(),
                    "use the tokenizer the model was built for");
        }
        Path staging = AtomicFiles.beginDir(dir, overwrite);
        try {
            Json.write(staging.resolve("config.json"), hfConfig(w.config(), tok, "float32"));
            Safetensors.write(staging.resolve("model.safetensors"), hfTensors(w), Map.of("format", "pt"));
            Files.copy(tokenizerJson, staging.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            Path tokenizerConfig = tokenizerJson.resolveSibling(ChatTemplate.TOKENIZER_CONFIG);
            if (Files.isRegularFile(tokenizerConfig)) {
                Files.copy(tokenizerConfig, staging.resolve(ChatTemplate.TOKENIZER_CONFIG), StandardCopyOption.REPLACE_EXISTING);
            }
            if (provenance != null) Json.write(staging.resolve("provenance.json"), provenance);
            if (extra != null) extra.write(staging);
            AtomicFiles.commitDir(staging, dir);
        } catch (IOException e) {
            AtomicFiles.abortDir(staging);
            throw new StorageException(dir + ": cannot write: " + e.getMessage(), null, e);
        } catch (RuntimeException e) {
            AtomicFiles.abortDir(staging);
            throw e;
        }
    }

    public static Loaded read(Path dir) {
        if (!Files.isDirectory(dir)) throw new ConfigException(dir + ": not a checkpoint directory", "pass a directory with config.json and model.safetensors");
        ModelConfig c = readConfig(dir.resolve("config.json"));
        Tokenizer tok = Tokenizer.load(dir.resolve("tokenizer.json"));
        Map<String, Tensor> hf = Safetensors.read(dir.resolve("model.safetensors"));
        Map<String, Tensor> ours = new LinkedHashMap<>();
        for (String name : TensorNames.shapes(c).keySet()) {
            Tensor t = hf.get(TensorNames.toHf(name));
            if (t == null) throw new DataException(dir.resolve("model.safetensors") + ": missing tensor " + TensorNames.toHf(name), "the checkpoint is incomplete");
            float[] data = t.data();
            int[] want = TensorNames.shapes(c).get(name);
            if (!java.util.Arrays.equals(t.shape(), want)) {
                throw new DataException(dir.resolve("model.safetensors") + ": tensor " + t.name() + " has shape "
                        + java.util.Arrays.toString(t.shape()) + ", config.json implies " + java.util.Arrays.toString(want), "the checkpoint does not match its config.json");
            }
            if (name.endsWith("attn_q.weight")) data = fromHf(data, c.nHeads(), c.dim());
            if (name.endsWith("attn_k.weight")) data = fromHf(data, c.nKvHeads(), c.dim());
            ours.put(name, new Tensor(name, want, data));
        }
        java.util.Set<String> expected = new java.util.HashSet<>();
        for (String name : TensorNames.shapes(c).keySet()) expected.add(TensorNames.toHf(name));
        for (String name : hf.keySet()) {
            if (!expected.contains(name) && !name.endsWith("rotary_emb.inv_freq")) {     // older transformers saved the rotary buffer; it is derived
                throw new DataException(dir.resolve("model.safetensors") + ": tensor " + name + " is not one config.json's model has (" + c.nLayers()
                        + " layers, " + (c.tiedEmbeddings() ? "tied" : "untied") + " embeddings)", "the checkpoint does not match its config.json");
            }
        }
        if (tok.vocabSize() != c.vocabSize()) {
            throw new DataException(dir + ": tokenizer.json has " + tok.vocabSize() + " tokens, config.json vocab_size " + c.vocabSize(),
                    "the checkpoint's tokenizer.json and config.json come from different models");
        }
        return new Loaded(new Weights(c, ours), tok, ChatTemplate.readChatTemplate(dir));
    }

    /**
     * The tensors as Hugging Face's LlamaForCausalLM holds them: its names, q/k rows permuted to the
     * rotate-half layout (the other tensors shared, not copied).
     */
    static List<Tensor> hfTensors(Weights w) {
        List<Tensor> hf = new ArrayList<>();
        for (Tensor t : w.tensors().values()) {
            float[] data = t.data();
            if (t.name().endsWith("attn_q.weight")) data = toHf(data, w.config().nHeads(), w.config().dim());
            if (t.name().endsWith("attn_k.weight")) data = toHf(data, w.config().nKvHeads(), w.config().dim());
            hf.add(new Tensor(TensorNames.toHf(t.name()), t.shape(), data));
        }
        return hf;
    }

    /** config.json of LlamaForCausalLM; {@code torchDtype} names the type of model.safetensors (float32, float16, bfloat16). */
    static ObjectNode hfConfig(ModelConfig c, Tokenizer tok, String torchDtype) {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.putArray("architectures").add("LlamaForCausalLM");
        n.put("model_type", "llama");
        n.put("vocab_size", c.vocabSize());
        n.put("hidden_size", c.dim());
        n.put("intermediate_size", c.hiddenDim());
        n.put("num_hidden_layers", c.nLayers());
        n.put("num_attention_heads", c.nHeads());
        n.put("num_key_value_heads", c.nKvHeads());
        n.put("head_dim", c.headDim());
        n.put("hidden_act", "silu");
        n.put("max_position_embeddings", c.contextLength());
        n.put("rms_norm_eps", c.normEps());
        n.put("rope_theta", c.ropeTheta());
        n.putNull("rope_scaling");
        n.put("tie_word_embeddings", c.tiedEmbeddings());
        n.put("attention_bias", false);
        n.put("mlp_bias", false);
        int eot = tok.eotId();
        if (eot >= 0) {
            n.put("bos_token_id", eot);
            n.put("eos_token_id", eot);
        }
        n.put("torch_dtype", torchDtype);
        n.put("use_cache", true);
        return n;
    }

    /**
     * Refuses weights holding NaN or an infinity, naming the tensor and element: a diverged or damaged
     * model would decode one token forever. For inference; training has its own non-finite policy
     * (pretrain.on_non_finite). Tensors kept in a block type are not scanned.
     */
    public static void requireFinite(Weights w, Path source) {
        for (Tensor t : w.tensors().values()) {
            float[] data = t.data();
            if (allFinite(data)) continue;
            for (int i = 0; i < data.length; i++) {
                if (!Float.isFinite(data[i])) {
                    throw new DataException(source + ": tensor " + t.name() + " holds " + data[i] + " at element " + i,
                            "the weights are damaged or come from a diverged training; use an earlier checkpoint");
                }
            }
        }
    }

    /**
     * Whether every value is finite: x - x is 0 for a finite x and NaN for an infinity or NaN, and a sum of those stays 0
     * only if all were 0. Eight values a step, without a branch per value: a fresh {@code generate} scans its model while
     * its code still runs in C1's profiling tier, where the loop with a branch per value (Float.isFinite) took 60-80 ms
     * of the small preset's 7.2 M values, on the path to its first token.
     */
    static boolean allFinite(float[] d) {
        float acc = 0f;
        int i = 0;
        for (; i + 8 <= d.length; i += 8) {
            acc += ((d[i] - d[i]) + (d[i + 1] - d[i + 1])) + ((d[i + 2] - d[i + 2]) + (d[i + 3] - d[i + 3]))
                    + ((d[i + 4] - d[i + 4]) + (d[i + 5] - d[i + 5])) + ((d[i + 6] - d[i + 6]) + (d[i + 7] - d[i + 7]));
        }
        for (; i < d.length; i++) acc += d[i] - d[i];
        return acc == 0f;
    }

    private static final String CONFIG_HINT = "config.json holds Hugging Face LlamaConfig keys; fix it, or write the checkpoint again with llmkit";

    /**
     * config.json of a LlamaForCausalLM checkpoint. A key that is present must have its type: an
     * integer (a float only when whole: 4096.0), a number, a boolean or a string; null counts as a wrong
     * type. Absent optional keys take Hugging Face's defaults.
     */
    public static ModelConfig readConfig(Path file) {
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(file.toFile());
        } catch (java.io.FileNotFoundException e) {
            throw new ConfigException(file + ": no such file", "pass a checkpoint directory (it holds config.json and model.safetensors)", e);
        } catch (IOException e) {
            throw new DataException(file + ": not valid JSON: " + e.getMessage(), CONFIG_HINT, e);
        }
        if (n == null || !n.isObject()) throw new DataException(file + ": not a JSON object", CONFIG_HINT);
        String type = text(n, "model_type", "llama", file);
        if (!type.equals("llama")) throw new DataException(file + ": model_type \"" + type + "\" is not supported (llama)", CONFIG_HINT);
        if (!n.path("rope_scaling").isMissingNode() && !n.path("rope_scaling").isNull()) throw new DataException(file + ": rope_scaling is not supported", CONFIG_HINT);
        if (bool(n, "attention_bias", false, file) || bool(n, "mlp_bias", false, file)) throw new DataException(file + ": attention or MLP biases are not supported", CONFIG_HINT);
        String act = text(n, "hidden_act", "silu", file);
        if (!act.equals("silu")) throw new DataException(file + ": hidden_act \"" + act + "\" is not supported (silu)", CONFIG_HINT);
        int heads = integer(n, "num_attention_heads", null, file);
        ModelConfig c;
        try {
            c = new ModelConfig(integer(n, "hidden_size", null, file), integer(n, "intermediate_size", null, file), integer(n, "num_hidden_layers", null, file), heads,
                    integer(n, "num_key_value_heads", heads, file), integer(n, "vocab_size", null, file), integer(n, "max_position_embeddings", 2048, file),
                    (float) number(n, "rms_norm_eps", 1e-6, file), (float) number(n, "rope_theta", 10000, file), bool(n, "tie_word_embeddings", false, file));
        } catch (ConfigException e) {
            throw new DataException(file + ": " + e.getMessage(), CONFIG_HINT, e);
        }
        if (n.has("head_dim") && !n.get("head_dim").isNull() && integer(n, "head_dim", null, file) != c.headDim()) {
            throw new DataException(file + ": head_dim must be hidden_size / num_attention_heads", CONFIG_HINT);
        }
        return c;
    }

    /** An integer key: required when {@code dflt} is null; a whole number that fits in 32 bits when present. */
    private static int integer(JsonNode n, String k, Integer dflt, Path file) {
        JsonNode v = n.get(k);
        if (v == null) {
            if (dflt == null) throw new DataException(file + ": " + k + " is missing", CONFIG_HINT);
            return dflt;
        }
        boolean whole = v.isIntegralNumber() || (v.isFloatingPointNumber() && v.asDouble() == Math.rint(v.asDouble()));
        if (!whole || !v.canConvertToInt()) throw new DataException(file + ": " + k + " must be an integer, got " + v, CONFIG_HINT);
        return v.asInt();
    }

    private static double number(JsonNode n, String k, double dflt, Path file) {
        JsonNode v = present(n, k, JsonNode::isNumber, "a number", file);
        return v == null ? dflt : v.asDouble();
    }

    private static boolean bool(JsonNode n, String k, boolean dflt, Path file) {
        JsonNode v = present(n, k, JsonNode::isBoolean, "true or false", file);
        return v == null ? dflt : v.asBoolean();
    }

    private static String text(JsonNode n, String k, String dflt, Path file) {
        JsonNode v = present(n, k, JsonNode::isTextual, "a string", file);
        return v == null ? dflt : v.asText();
    }

    /** Key {@code k} of {@code n}, null when absent; present, it must pass {@code ok} (null does not). */
    private static JsonNode present(JsonNode n, String k, java.util.function.Predicate<JsonNode> ok, String what, Path file) {
        JsonNode v = n.get(k);
        if (v != null && !ok.test(v)) throw new DataException(file + ": " + k + " must be " + what + ", got " + v, CONFIG_HINT);
        return v;
    }

    /** Interleaved (GGUF/Meta) rows to Hugging Face's rotate-half rows, per head: row 2i+j -> j*hd/2 + i. */
    public static float[] toHf(float[] w, int heads, int in) {
        return permute(w, heads, in, true);
    }

    public static float[] fromHf(float[] w, int heads, int in) {
        return permute(w, heads, in, false);
    }

    private static float[] permute(float[] w, int heads, int in, boolean toHf) {
        int rows = w.length / in, hd = rows / heads;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < hd / 2; i++) {
                for (int j = 0; j < 2; j++) {
                    int meta = h * hd + 2 * i + j, hf = h * hd + j * (hd / 2) + i;
                    int src = toHf ? meta : hf, dst = toHf ? hf : meta;
                    System.arraycopy(w, src * in, out, dst * in, in);
                }
            }
        }
        return out;
    }
}
