package dev.llmkit.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.config.LoraConfig;
import dev.llmkit.core.io.Safetensors;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Tensor;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LoRA adapters as Hugging Face PEFT saves them: {@code adapter_model.safetensors} with tensors
 * {@code base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight} [r, in] and {@code .lora_B.weight}
 * [out, r] (q and k rows of B in Hugging Face's rotate-half order, as the base's q/k weights are), and
 * {@code adapter_config.json} (peft_type LORA, r, lora_alpha, lora_dropout, target_modules,
 * base_model_name_or_path). An adapter directory also holds the tokenizer files; llmkit reads it as a
 * model by merging it into its base: W' = W + (alpha / r) B A.
 */
public final class Adapters {
    public static final String CONFIG = "adapter_config.json", WEIGHTS = "adapter_model.safetensors";
    private static final String PREFIX = "base_model.model.model.layers.";

    private Adapters() {}

    /** Whether dir is an adapter directory. */
    public static boolean isAdapter(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG));
    }

    /** Writes the adapters of params and adapter_config.json into dir. */
    static void write(Path dir, ParamLayout layout, float[] params, Path base) throws IOException {
        ModelConfig c = layout.c;
        List<Tensor> out = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            for (ParamLayout.Target t : ParamLayout.Target.values()) {
                if (layout.loraA[l][t.ordinal()] < 0) continue;
                String ours = TensorNames.blk(l, t.tensor), hf = PREFIX + l + "." + t.peft;
                Tensor a = layout.tensor(params, ours + ".lora_a"), b = layout.tensor(params, ours + ".lora_b");
                out.add(new Tensor(hf + ".lora_A.weight", a.shape(), a.data()));
                out.add(new Tensor(hf + ".lora_B.weight", b.shape(), permute(b.data(), t, c, true)));
            }
        }
        Safetensors.write(dir.resolve(WEIGHTS), out, Map.of("format", "pt"));
        LoraConfig lc = layout.lora;
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("peft_type", "LORA");
        n.put("task_type", "CAUSAL_LM");
        n.put("base_model_name_or_path", base.toAbsolutePath().normalize().toString());
        n.put("r", lc.rank());
        n.put("lora_alpha", lc.alpha());
        n.put("lora_dropout", lc.dropout());
        var targets = n.putArray("target_modules");
        for (ParamLayout.Target t : ParamLayout.Target.values()) if (lc.targets().contains(t.key())) targets.add(t.peft.substring(t.peft.indexOf('.') + 1));
        n.put("bias", "none");
        n.put("fan_in_fan_out", false);
        n.put("inference_mode", true);
        n.put("init_lora_weights", true);
        n.putNull("modules_to_save");
        Json.write(dir.resolve(CONFIG), n);
    }

    /** The q/k rows of B between our interleaved rotary layout and Hugging Face's (other targets unchanged). */
    private static float[] permute(float[] b, ParamLayout.Target t, ModelConfig c, boolean toHf) {
        if (t != ParamLayout.Target.Q && t != ParamLayout.Target.K) return b;
        int heads = t == ParamLayout.Target.Q ? c.nHeads() : c.nKvHeads(), r = b.length / t.out(c);
        return toHf ? Checkpoint.toHf(b, heads, r) : Checkpoint.fromHf(b, heads, r);
    }

    /** Reads dir's adapters into params (the layout's adapter tensors); shapes must match. */
    static void read(Path dir, ParamLayout layout, float[] params) {
        Map<String, Tensor> m = Safetensors.read(dir.resolve(WEIGHTS));
        ModelConfig c = layout.c;
        for (int l = 0; l < c.nLayers(); l++) {
            for (ParamLayout.Target t : ParamLayout.Target.values()) {
                if (layout.loraA[l][t.ordinal()] < 0) continue;
                String ours = TensorNames.blk(l, t.tensor), hf = PREFIX + l + "." + t.peft;
                copy(dir, m, hf + ".lora_A.weight", layout, ours + ".lora_a", params, null, c);
                copy(dir, m, hf + ".lora_B.weight", layout, ours + ".lora_b", params, t, c);
            }
        }
    }

    private static void copy(Path dir, Map<String, Tensor> m, String hf, ParamLayout layout, String ours, float[] params,
                             ParamLayout.Target permuteB, ModelConfig c) {
        Tensor t = m.get(hf);
        if (t == null || !java.util.Arrays.equals(t.shape(), layout.shape(ours))) {
            throw new DataException(dir.resolve(WEIGHTS) + ": " + hf + (t == null ? " is missing" : " has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected " + java.util.Arrays.toString(layout.shape(ours))), "the adapter does not match its adapter_config.json");
        }
        float[] data = permuteB == null ? t.data() : permute(t.data(), permuteB, c, false);
        System.arraycopy(data, 0, params, layout.offset(ours), data.length);
    }

    /** The LoRA settings of an adapter directory's adapter_config.json. */
    public static LoraConfig config(Path dir) {
        Path f = dir.resolve(CONFIG);
        try {
            JsonNode n = Json.MAPPER.readTree(f.toFile());
            if (!"LORA".equals(n.path("peft_type").asText())) throw new DataException(f + ": peft_type is not LORA", null);
            // PEFT options that change the maths llmkit does not apply: refuse rather than merge wrongly
            for (String k : List.of("use_rslora", "use_dora", "fan_in_fan_out")) {
                if (n.path(k).asBoolean(false)) throw new DataException(f + ": " + k + " is not supported", "use a plain LoRA adapter");
            }
            for (String k : List.of("rank_pattern", "alpha_pattern")) {
                if (n.path(k).size() > 0) throw new DataException(f + ": " + k + " (per-module ranks or alphas) is not supported", "use one rank and alpha");
            }
            if (!n.path("layers_to_transform").isMissingNode() && !n.path("layers_to_transform").isNull()) {
                throw new DataException(f + ": layers_to_transform is not supported", "adapt every layer");
            }
            if (!n.path("target_modules").isArray()) throw new DataException(f + ": target_modules must be a list of module names", null);
            List<String> targets = new ArrayList<>();
            for (JsonNode x : n.path("target_modules")) {
                String name = x.asText();
                ParamLayout.Target hit = null;
                for (ParamLayout.Target t : ParamLayout.Target.values()) if (t.peft.endsWith("." + name)) hit = t;
                if (hit == null) throw new DataException(f + ": target module '" + name + "' is not one llmkit adapts", null);
                targets.add(hit.key());
            }
            return new LoraConfig(true, n.path("r").asInt(), n.path("lora_alpha").asDouble(), n.path("lora_dropout").asDouble(0), targets, false);
        } catch (IOException e) {
            throw new DataException(f + ": unreadable: " + e.getMessage(), null, e);
        } catch (IllegalArgumentException e) {
            throw new DataException(f + ": " + e.getMessage(), null, e);
        }
    }

    /** The base model named in adapter_config.json (or {@code base} when given). */
    public static Path base(Path dir, Path base) {
        if (base != null) return base;
        try {
            String b = Json.MAPPER.readTree(dir.resolve(CONFIG).toFile()).path("base_model_name_or_path").asText("");
            if (b.isEmpty()) throw new ConfigException(dir.resolve(CONFIG) + " names no base model", "pass --base DIR");
            return Path.of(b);
        } catch (IOException e) {
            throw new DataException(dir.resolve(CONFIG) + ": unreadable: " + e.getMessage(), null, e);
        }
    }

    /**
     * An adapter directory as a model: its base with the adapters merged in, with the adapter directory's
     * tokenizer and chat template. When the adapter's provenance.json records the sha256 of the base's
     * model.safetensors (llmkit's do), a base with other weights is refused.
     */
    public static Checkpoint.Loaded loadMerged(Path dir, Path base) {
        Path b0 = base(dir, base);
        checkBase(dir, b0);
        Checkpoint.Loaded b = Checkpoint.read(b0);
        Tokenizer tok = Tokenizer.load(dir.resolve("tokenizer.json"));
        if (tok.vocabSize() != b.weights().config().vocabSize()) {
            throw new DataException(dir + ": its tokenizer has " + tok.vocabSize() + " tokens, the base model " + b.weights().config().vocabSize(),
                    "merge the adapter into the base it was trained on (--base)");
        }
        return new Checkpoint.Loaded(merge(b.weights(), dir), tok, ChatTemplate.readChatTemplate(dir));
    }

    private static void checkBase(Path dir, Path base) {
        Path prov = dir.resolve("provenance.json");
        if (!Files.isRegularFile(prov)) return;
        try {
            for (JsonNode in : Json.MAPPER.readTree(prov.toFile()).path("inputs")) {
                String path = in.path("path").asText("");
                if (!path.endsWith("model.safetensors") || path.endsWith(WEIGHTS)) continue;
                Path model = base.resolve("model.safetensors");
                String sha = dev.llmkit.core.util.Text.sha256(model);
                if (!sha.equals(in.path("sha256").asText())) {
                    throw new DataException(model + " is not the base " + dir + " was trained on (" + path + ", sha256 " + in.path("sha256").asText() + ")",
                            "pass the adapter's own base with --base, or merge with the base it was trained on");
                }
            }
        } catch (IOException e) {
            throw new DataException(prov + ": unreadable: " + e.getMessage(), null, e);
        }
    }

    /**
     * The adapter as a GGUF LoRA file that llama.cpp loads with {@code --lora}: general.type "adapter",
     * adapter.type "lora", adapter.lora.alpha, and F32 tensors {@code blk.N.attn_q.weight.lora_a}
     * [rank, in] and {@code .lora_b} [out, rank] beside the base tensor they adapt (q/k rows of B in
     * GGUF's interleaved rotary order, as the base GGUF's q/k weights are). {@code baseConfig} is the
     * base's config.json (for the projections' sizes).
     */
    public static void exportGguf(Path dir, Path baseConfig, Path file, String name) {
        ModelConfig c = Checkpoint.readConfig(baseConfig);
        ParamLayout layout = new ParamLayout(c, config(dir));
        float[] p = new float[layout.size];
        read(dir, layout, p);
        Map<String, dev.llmkit.core.io.Gguf.Value> m = new LinkedHashMap<>();
        m.put("general.architecture", dev.llmkit.core.io.Gguf.Value.str("llama"));
        m.put("general.type", dev.llmkit.core.io.Gguf.Value.str("adapter"));
        m.put("general.name", dev.llmkit.core.io.Gguf.Value.str(name));
        m.put("adapter.type", dev.llmkit.core.io.Gguf.Value.str("lora"));
        m.put("adapter.lora.alpha", dev.llmkit.core.io.Gguf.Value.f32((float) layout.lora.alpha()));
        List<dev.llmkit.core.io.Gguf.OutTensor> tensors = new ArrayList<>();
        for (String t : layout.loraShapes.keySet()) {
            Tensor x = layout.tensor(p, t);
            tensors.add(new dev.llmkit.core.io.Gguf.OutTensor(t, x.shape(), x.data(), dev.llmkit.core.io.Gguf.F32));
        }
        dev.llmkit.core.io.Gguf.write(file, m, tensors);
    }

    /** W' = W + (alpha / r) B A for every adapted projection, the adapters read from dir. */
    public static Weights merge(Weights base, Path dir) {
        ParamLayout layout = new ParamLayout(base.config(), config(dir));
        float[] p = layout.flatten(base);
        read(dir, layout, p);
        return merge(layout, p);
    }

    /** The base weights of p with its adapters folded in: W' = W + (alpha / r) B A. */
    public static Weights merge(ParamLayout layout, float[] p) {
        Weights base = layout.toWeights(p);
        if (layout.lora == null) return base;
        ModelConfig c = base.config();
        float s = (float) layout.lora.scale();
        int r = layout.lora.rank();
        Map<String, Tensor> m = new LinkedHashMap<>(base.tensors());
        for (int l = 0; l < c.nLayers(); l++) {
            for (ParamLayout.Target t : ParamLayout.Target.values()) {
                int a = layout.loraA[l][t.ordinal()], b = layout.loraB[l][t.ordinal()];
                if (a < 0) continue;
                String name = TensorNames.blk(l, t.tensor);
                int in = t.in(c), out = t.out(c);
                float[] w = base.get(name).clone();
                for (int o = 0; o < out; o++) {
                    for (int k = 0; k < r; k++) {
                        float bk = s * p[b + o * r + k];
                        for (int i = 0; i < in; i++) w[o * in + i] += bk * p[a + k * in + i];
                    }
                }
                m.put(name, new Tensor(name, m.get(name).shape(), w));
            }
        }
        return new Weights(c, m);
    }
}
