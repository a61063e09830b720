package dev.llmkit.core.model;

/** A named F32 tensor, row-major, with its shape in PyTorch order ([out, in] for weights). */
public record Tensor(String name, int[] shape, float[] data) {
    public Tensor {
        long n = 1;
        for (int d : shape) n *= d;
        if (n != data.length) throw new IllegalArgumentException(name + ": shape " + java.util.Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
    }

    public long size() {
        return data.length;
    }
}
