package dev.llmkit.trainer;

import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Tensor;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.model.Weights;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * All parameters in one flat float array, tensor after tensor in {@link TensorNames} order (llm.c
 * style): the optimizer, the gradient norm and checkpoints are single loops. The order makes
 * attn_q|attn_k|attn_v one [dim + 2 kvDim, dim] matrix and ffn_gate|ffn_up one [2 hidden, dim] matrix,
 * so the forward pass multiplies them in one GEMM each.
 */
public final class ParamLayout {
    public final ModelConfig c;
    public final int size;
    public final Map<String, int[]> shapes;
    private final Map<String, Integer> offsets = new LinkedHashMap<>();
    /** Offsets per layer. */
    public final int[] attnNorm, wqkv, wo, ffnNorm, w13, w2;
    public final int embed, outputNorm, output;

    public ParamLayout(ModelConfig c) {
        this.c = c;
        this.shapes = TensorNames.shapes(c);
        long off = 0;
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            offsets.put(e.getKey(), (int) off);
            int[] s = e.getValue();
            off += s.length == 1 ? s[0] : (long) s[0] * s[1];
        }
        if (off > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("model too large for the trainer: " + off + " parameters");
        size = (int) off;
        int n = c.nLayers();
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

    public int offset(String name) {
        Integer o = offsets.get(name);
        if (o == null) throw new IllegalArgumentException("no tensor " + name);
        return o;
    }

    public int length(String name) {
        int[] s = shapes.get(name);
        return s.length == 1 ? s[0] : s[0] * s[1];
    }

    /** Whether weight decay applies (2-D tensors only). */
    public boolean decays(String name) {
        return shapes.get(name).length == 2;
    }

    public float[] flatten(Weights w) {
        float[] p = new float[size];
        for (String name : shapes.keySet()) System.arraycopy(w.get(name), 0, p, offset(name), length(name));
        return p;
    }

    public Weights toWeights(float[] p) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            float[] data = new float[length(e.getKey())];
            System.arraycopy(p, offset(e.getKey()), data, 0, data.length);
            m.put(e.getKey(), new Tensor(e.getKey(), e.getValue(), data));
        }
        return new Weights(c, m);
    }
}
