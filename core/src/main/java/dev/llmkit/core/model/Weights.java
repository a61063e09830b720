package dev.llmkit.core.model;

import dev.llmkit.core.DataException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * All parameters of a model under their GGUF names ({@link TensorNames}), PyTorch shape order, with
 * q/k rows in the interleaved rotary layout that GGUF and llama.cpp use (Meta's layout). Each tensor
 * is either F32 ({@code tensors}) or kept in its stored block type ({@code quantized}: a quantized
 * GGUF loaded for inference); training and export see only all-F32 weights.
 */
public record Weights(ModelConfig config, Map<String, Tensor> tensors, Map<String, QuantTensor> quantized) {
    public Weights {
        tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        quantized = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(quantized));
        for (Map.Entry<String, int[]> e : TensorNames.shapes(config).entrySet()) {
            Tensor t = tensors.get(e.getKey());
            QuantTensor q = quantized.get(e.getKey());
            if (t == null && q == null) throw new DataException("missing tensor " + e.getKey(), "the checkpoint is incomplete");
            int[] shape = t != null ? t.shape() : q.shape();
            if (!java.util.Arrays.equals(shape, e.getValue())) {
                throw new DataException("tensor " + e.getKey() + " has shape " + java.util.Arrays.toString(shape)
                        + ", expected " + java.util.Arrays.toString(e.getValue()), "the checkpoint does not match its config");
            }
        }
    }

    /** All-F32 weights. */
    public Weights(ModelConfig config, Map<String, Tensor> tensors) {
        this(config, tensors, Map.of());
    }

    /** A tensor's values as F32 (a quantized tensor is dequantized, a new copy on each call). */
    public float[] get(String name) {
        Tensor t = tensors.get(name);
        if (t != null) return t.data();
        QuantTensor q = quantized.get(name);
        if (q == null) throw new IllegalArgumentException("no tensor " + name);
        return q.dequantize();
    }

    /** The tensor in its stored block type, or null when it is F32. */
    public QuantTensor stored(String name) {
        return quantized.get(name);
    }

    /** These weights with every tensor F32 (itself when nothing is quantized). */
    public Weights dequantized() {
        if (quantized.isEmpty()) return this;
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String name : TensorNames.shapes(config).keySet()) {
            Tensor t = tensors.get(name);
            m.put(name, t != null ? t : new Tensor(name, quantized.get(name).shape(), quantized.get(name).dequantize()));
        }
        return new Weights(config, m);
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
