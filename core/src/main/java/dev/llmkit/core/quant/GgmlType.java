package dev.llmkit.core.quant;

/**
 * The GGML tensor types as data: id (as GGUF stores it), elements per block and bytes per block.
 * Every type quantizes and dequantizes here with a scalar reference codec, exactly as llama.cpp's
 * reference quantizers (ggml-quants.c) do ({@link KQuants} for the super-block types).
 *
 * <pre>
 * F32   1 x 4 bytes          F16  1 x 2 (IEEE half)    BF16 1 x 2 (upper half of F32, round to nearest even)
 * Q4_0  32: d f16, 16 nibbles (element j low nibble of byte j, element j+16 high nibble)        18 bytes
 * Q4_1  32: d f16, m f16, 16 nibbles                                                           20 bytes
 * Q5_0  32: d f16, qh u32 (5th bits), 16 nibbles                                               22 bytes
 * Q5_1  32: d f16, m f16, qh u32, 16 nibbles                                                   24 bytes
 * Q8_0  32: d f16, 32 int8                                                                     34 bytes
 * Q4_K 256: 144 bytes   Q5_K 256: 176 bytes   Q6_K 256: 210 bytes (layouts in KQuants)
 * </pre>
 */
public enum GgmlType {
    F32(0, 1, 4, true), F16(1, 1, 2, true), Q4_0(2, 32, 18, true), Q4_1(3, 32, 20, true), Q5_0(6, 32, 22, true),
    Q5_1(7, 32, 24, true), Q8_0(8, 32, 34, true), Q4_K(12, 256, 144, true), Q5_K(13, 256, 176, true), Q6_K(14, 256, 210, true),
    BF16(30, 1, 2, true);

    public final int id, blockSize, blockBytes;
    private final boolean codec;

    GgmlType(int id, int blockSize, int blockBytes, boolean codec) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.codec = codec;
    }

    /** The type of a GGUF type id, or null when llmkit does not know it. */
    public static GgmlType byId(int id) {
        for (GgmlType t : values()) if (t.id == id) return t;
        return null;
    }

    /** Whether this table has the type's reference quantizer and dequantizer. */
    public boolean hasCodec() {
        return codec;
    }

    /** Whether a row of n elements is a whole number of blocks. */
    public boolean fits(long n) {
        return n % blockSize == 0;
    }

    /** Bytes of n elements (n a multiple of the block size). */
    public long bytes(long n) {
        if (!fits(n)) throw new IllegalArgumentException(n + " elements are not a whole number of " + name() + " blocks of " + blockSize);
        return n / blockSize * blockBytes;
    }

    /** Quantizes x[xo, xo + n) into out[oo..) (n a multiple of the block size). */
    public void quantize(float[] x, int xo, int n, byte[] out, int oo) {
        bytes(n);
        GgmlCodecs.quantize(this, x, xo, n, out, oo);
    }

    /** Dequantizes n elements from in[io..) into out[oo, oo + n). */
    public void dequantize(byte[] in, int io, int n, float[] out, int oo) {
        bytes(n);
        GgmlCodecs.dequantize(this, in, io, n, out, oo);
    }
}
