package dev.llmkit.core.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The single table of tensor names: GGUF's names inside llmkit, Hugging Face's only at the
 * safetensors boundary. Shapes are in PyTorch order ([out, in]); GGUF writes them reversed.
 */
public final class TensorNames {
    private TensorNames() {}

    public static final String EMBED = "token_embd.weight", OUTPUT_NORM = "output_norm.weight", OUTPUT = "output.weight";

    public static String blk(int layer, String what) {
        return "blk." + layer + "." + what + ".weight";
    }

    /** Every tensor of a model, in file order, with its shape. */
    public static Map<String, int[]> shapes(ModelConfig c) {
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put(EMBED, new int[] {c.vocabSize(), c.dim()});
        for (int l = 0; l < c.nLayers(); l++) {
            m.put(blk(l, "attn_norm"), new int[] {c.dim()});
            m.put(blk(l, "attn_q"), new int[] {c.dim(), c.dim()});
            m.put(blk(l, "attn_k"), new int[] {c.kvDim(), c.dim()});
            m.put(blk(l, "attn_v"), new int[] {c.kvDim(), c.dim()});
            m.put(blk(l, "attn_output"), new int[] {c.dim(), c.dim()});
            m.put(blk(l, "ffn_norm"), new int[] {c.dim()});
            m.put(blk(l, "ffn_gate"), new int[] {c.hiddenDim(), c.dim()});
            m.put(blk(l, "ffn_up"), new int[] {c.hiddenDim(), c.dim()});
            m.put(blk(l, "ffn_down"), new int[] {c.dim(), c.hiddenDim()});
        }
        m.put(OUTPUT_NORM, new int[] {c.dim()});
        if (!c.tiedEmbeddings()) m.put(OUTPUT, new int[] {c.vocabSize(), c.dim()});
        return m;
    }

    private static final String[][] BLOCK = {
        {"attn_norm", "input_layernorm"}, {"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"},
        {"attn_v", "self_attn.v_proj"}, {"attn_output", "self_attn.o_proj"}, {"ffn_norm", "post_attention_layernorm"},
        {"ffn_gate", "mlp.gate_proj"}, {"ffn_up", "mlp.up_proj"}, {"ffn_down", "mlp.down_proj"}};

    /** The Hugging Face (LlamaForCausalLM) name of a GGUF tensor name. */
    public static String toHf(String gguf) {
        switch (gguf) {
            case EMBED: return "model.embed_tokens.weight";
            case OUTPUT_NORM: return "model.norm.weight";
            case OUTPUT: return "lm_head.weight";
            default:
        }
        String[] p = gguf.split("\\.");
        if (p.length == 4 && p[0].equals("blk")) {
            for (String[] b : BLOCK) if (b[0].equals(p[2])) return "model.layers." + p[1] + "." + b[1] + ".weight";
        }
        throw new IllegalArgumentException("unknown tensor " + gguf);
    }
}
