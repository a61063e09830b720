package dev.llmkit.core.model;

import dev.llmkit.core.DataException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * All parameters of a model under their GGUF names ({@link TensorNames}), F32, PyTorch shape order,
 * with q/k rows in the interleaved rotary layout that GGUF and llama.cpp use (Meta's layout).
 */
public record Weights(ModelConfig config, Map<String, Tensor> tensors) {
    public Weights {
        tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        for (Map.Entry<String, int[]> e : TensorNames.shapes(config).entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) throw new DataException("missing tensor " + e.getKey(), "the checkpoint is incomplete");
            if (!java.util.Arrays.equals(t.shape(), e.getValue())) {
                throw new DataException("tensor " + e.getKey() + " has shape " + java.util.Arrays.toString(t.shape())
                        + ", expected " + java.util.Arrays.toString(e.getValue()), "the checkpoint does not match its config");
            }
        }
    }

    public float[] get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor " + name);
        return t.data();
    }

    /**
     * Random initialisation as in GPT-2/Llama: normal(0, std) for matrices, with the residual output
     * projections (attn_output, ffn_down) scaled by 1/sqrt(2 * n_layers); norms start at 1.
     */
    public static Weights init(ModelConfig c, float std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : TensorNames.shapes(c).entrySet()) {
            int[] shape = e.getValue();
            float[] data = new float[shape.length == 1 ? shape[0] : shape[0] * shape[1]];
            if (shape.length == 1) {
                java.util.Arrays.fill(data, 1f);
            } else {
                boolean residual = e.getKey().endsWith("attn_output.weight") || e.getKey().endsWith("ffn_down.weight");
                double s = residual ? std / Math.sqrt(2.0 * c.nLayers()) : std;
                for (int i = 0; i < data.length; i++) data[i] = (float) (r.nextGaussian() * s);
            }
            m.put(e.getKey(), new Tensor(e.getKey(), shape, data));
        }
        return new Weights(c, m);
    }
}
