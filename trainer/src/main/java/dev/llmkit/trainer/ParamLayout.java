package dev.llmkit.trainer;

import dev.llmkit.core.config.LoraConfig;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Tensor;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.model.Weights;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All parameters in one flat float array, tensor after tensor in {@link TensorNames} order (llm.c
 * style): the optimizer, the gradient norm and checkpoints are single loops. The order makes
 * attn_q|attn_k|attn_v one [dim + 2 kvDim, dim] matrix and ffn_gate|ffn_up one [2 hidden, dim] matrix,
 * so the forward pass multiplies them in one GEMM each.
 *
 * <p>With LoRA, the adapters follow the base tensors ({@code blk.N.attn_q.lora_a} [rank, in],
 * {@code .lora_b} [out, rank], per layer in the order q k v o gate up down), and only they are
 * trainable: [{@link #trainFrom}, {@link #size}) is the range the gradient, its norm and the optimizer touch.
 */
public final class ParamLayout {
    /** A projection LoRA can adapt: its base tensor and Hugging Face PEFT module name. */
    public enum Target {
        Q("attn_q", "self_attn.q_proj"), K("attn_k", "self_attn.k_proj"), V("attn_v", "self_attn.v_proj"),
        O("attn_output", "self_attn.o_proj"), GATE("ffn_gate", "mlp.gate_proj"), UP("ffn_up", "mlp.up_proj"), DOWN("ffn_down", "mlp.down_proj");

        public final String tensor, peft;

        Target(String tensor, String peft) {
            this.tensor = tensor;
            this.peft = peft;
        }

        /** The config name: q, k, v, o, gate, up, down. */
        public String key() {
            return this == GATE ? "gate" : this == UP ? "up" : this == DOWN ? "down" : name().toLowerCase(java.util.Locale.ROOT);
        }

        public int in(ModelConfig c) {
            return this == DOWN ? c.hiddenDim() : c.dim();
        }

        public int out(ModelConfig c) {
            return switch (this) {
                case Q, O, DOWN -> c.dim();
                case K, V -> c.kvDim();
                case GATE, UP -> c.hiddenDim();
            };
        }
    }

    public final ModelConfig c;
    /** All parameters; the base model's; where the trainable range starts. */
    public final int size, baseSize, trainFrom;
    public final Map<String, int[]> shapes;
    /** Adapter tensors (empty without LoRA). */
    public final Map<String, int[]> loraShapes = new LinkedHashMap<>();
    public final LoraConfig lora;
    private final Map<String, Integer> offsets = new LinkedHashMap<>();
    /** Offsets per layer. */
    public final int[] attnNorm, wqkv, wo, ffnNorm, w13, w2;
    /** Adapter offsets [layer][target ordinal]; -1 where the target has none. */
    public final int[][] loraA, loraB;
    public final int embed, outputNorm, output;

    public ParamLayout(ModelConfig c) {
        this(c, null);
    }

    /** The base model's parameters, plus adapters when {@code lora} is enabled. */
    public ParamLayout(ModelConfig c, LoraConfig lora) {
        this.c = c;
        this.lora = lora != null && lora.enabled() ? lora : null;
        this.shapes = TensorNames.shapes(c);
        long off = 0;
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            offsets.put(e.getKey(), (int) off);
            int[] s = e.getValue();
            off += s.length == 1 ? s[0] : (long) s[0] * s[1];
        }
        baseSize = (int) Math.min(off, Integer.MAX_VALUE);
        int n = c.nLayers();
        loraA = new int[n][Target.values().length];
        loraB = new int[n][Target.values().length];
        for (int[] a : loraA) java.util.Arrays.fill(a, -1);
        for (int[] b : loraB) java.util.Arrays.fill(b, -1);
        if (this.lora != null) {
            int r = this.lora.rank();
            for (int l = 0; l < n; l++) {
                for (Target t : Target.values()) {
                    if (!this.lora.targets().contains(t.key())) continue;
                    String name = TensorNames.blk(l, t.tensor);
                    loraShapes.put(name + ".lora_a", new int[] {r, t.in(c)});
                    loraShapes.put(name + ".lora_b", new int[] {t.out(c), r});
                    loraA[l][t.ordinal()] = (int) Math.min(off, Integer.MAX_VALUE);
                    offsets.put(name + ".lora_a", loraA[l][t.ordinal()]);
                    off += (long) r * t.in(c);
                    loraB[l][t.ordinal()] = (int) Math.min(off, Integer.MAX_VALUE);
                    offsets.put(name + ".lora_b", loraB[l][t.ordinal()]);
                    off += (long) t.out(c) * r;
                }
            }
        }
        if (off > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("model too large for the trainer: " + off + " parameters");
        size = (int) off;
        trainFrom = this.lora == null ? 0 : baseSize;
        attnNorm = new int[n]; wqkv = new int[n]; wo = new int[n]; ffnNorm = new int[n]; w13 = new int[n]; w2 = new int[n];
        for (int l = 0; l < n; l++) {
            attnNorm[l] = offset(TensorNames.blk(l, "attn_norm"));
            wqkv[l] = offset(TensorNames.blk(l, "attn_q"));
            wo[l] = offset(TensorNames.blk(l, "attn_output"));
            ffnNorm[l] = offset(TensorNames.blk(l, "ffn_norm"));
            w13[l] = offset(TensorNames.blk(l, "ffn_gate"));
            w2[l] = offset(TensorNames.blk(l, "ffn_down"));
        }
        embed = offset(TensorNames.EMBED);
        outputNorm = offset(TensorNames.OUTPUT_NORM);
        output = c.tiedEmbeddings() ? embed : offset(TensorNames.OUTPUT);
    }

    /** Whether the base weights are frozen (LoRA). */
    public boolean frozenBase() {
        return lora != null;
    }

    /** The names of the trainable tensors, in layout order. */
    public List<String> trainable() {
        return new ArrayList<>(lora == null ? shapes.keySet() : loraShapes.keySet());
    }

    public int offset(String name) {
        Integer o = offsets.get(name);
        if (o == null) throw new IllegalArgumentException("no tensor " + name);
        return o;
    }

    public int[] shape(String name) {
        int[] s = shapes.get(name);
        return s != null ? s : loraShapes.get(name);
    }

    public int length(String name) {
        int[] s = shape(name);
        return s.length == 1 ? s[0] : s[0] * s[1];
    }

    /** Whether weight decay applies (2-D tensors only). */
    public boolean decays(String name) {
        return shape(name).length == 2;
    }

    /** The base weights into a new array of {@link #size} (adapters zero). */
    public float[] flatten(Weights w) {
        float[] p = new float[size];
        for (String name : shapes.keySet()) System.arraycopy(w.get(name), 0, p, offset(name), length(name));
        return p;
    }

    /** The base weights of p as tensors. */
    public Weights toWeights(float[] p) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : shapes.entrySet()) m.put(e.getKey(), tensor(p, e.getKey()));
        return new Weights(c, m);
    }

    /** One tensor of p (base or adapter), copied. */
    public Tensor tensor(float[] p, String name) {
        float[] data = new float[length(name)];
        System.arraycopy(p, offset(name), data, 0, data.length);
        return new Tensor(name, shape(name), data);
    }
}
