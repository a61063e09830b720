package dev.llmkit.core.model;

import dev.llmkit.core.quant.GgmlType;

/**
 * A tensor kept in its stored GGML block type (a quantized or half-precision GGUF tensor): shape in
 * PyTorch order ([out, in] for weights), rows of {@code shape[last]} elements, each a whole number of blocks.
 */
public record QuantTensor(String name, int[] shape, GgmlType type, byte[] data) {
    public QuantTensor {
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) rows *= shape[i];
        long bytes = type.bytes(shape[shape.length - 1]) * rows;
        if (bytes != data.length) throw new IllegalArgumentException(name + ": " + type + " " + java.util.Arrays.toString(shape) + " needs " + bytes + " bytes, got " + data.length);
    }

    /** Elements per row (the last dimension). */
    public int cols() {
        return shape[shape.length - 1];
    }

    public int rows() {
        int r = 1;
        for (int i = 0; i < shape.length - 1; i++) r *= shape[i];
        return r;
    }

    /** Bytes of one row. */
    public int rowBytes() {
        return (int) type.bytes(cols());
    }

    /** The values as F32 (a full dequantized copy). */
    public float[] dequantize() {
        float[] out = new float[rows() * cols()];
        type.dequantize(data, 0, out.length, out, 0);
        return out;
    }
}
