package dev.llmkit.core.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmkit.core.io.Gguf;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The reference codecs: byte for byte what llama.cpp's llama-quantize made of an llmkit model
 * (../shared/golden/quant, skipped without it), and round trips within each type's error bound.
 */
class GgmlTypeTest {
    private static final Path GOLDEN = Path.of(System.getProperty("llmkit.shared.dir", "../../shared")).resolve("golden/quant");

    @Test
    void everyTensorOfLlamaQuantizesOutputIsOurQuantizationOfTheF32Model() {
        assumeTrue(Files.isRegularFile(GOLDEN.resolve("m-f32.gguf")), "no ../shared/golden/quant here");
        Gguf.Model src = Gguf.read(GOLDEN.resolve("m-f32.gguf"));
        String[][] files = {{"m-f16.gguf", "F16"}, {"m-q8_0.gguf", "Q8_0"}, {"m-q4_0.gguf", "Q4_0"}, {"m-q4_1.gguf", "Q4_1"},
            {"m-q5_0.gguf", "Q5_0"}, {"m-q5_1.gguf", "Q5_1"},
            {"m-q6_k-pure.gguf", "Q6_K"}, {"m-q4_k_m-pure.gguf", "Q4_K"}, {"m-q5_k_m.gguf", "Q5_K"}};
        for (String[] f : files) {
            Gguf.Model q = Gguf.read(GOLDEN.resolve(f[0]));
            GgmlType type = GgmlType.valueOf(f[1]);
            int compared = 0;
            for (Gguf.TensorInfo t : q.tensors().values()) {
                if (t.type() != type.id) continue;     // norms stay F32; the mixture rules give some tensors other types
                float[] x = Gguf.readF32(src, src.tensors().get(t.name()));
                byte[] ours = new byte[(int) type.bytes(x.length)];
                type.quantize(x, 0, x.length, ours, 0);
                assertArrayEquals(Gguf.readRaw(q, t), ours, f[0] + ": " + t.name());
                compared++;
            }
            assertTrue(compared >= 20, f[0] + ": only " + compared + " tensors of type " + type);
        }
    }

    @Test
    void roundTripsStayWithinEachTypesStep() {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = new float[256 * 8];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * (i % 64 == 0 ? 4 : 1));
        x[3] = 0f;
        java.util.Arrays.fill(x, 32, 64, 0f);     // an all-zero block (d = 0)
        for (GgmlType t : GgmlType.values()) {
            if (!t.hasCodec()) continue;
            byte[] q = new byte[(int) t.bytes(x.length)];
            t.quantize(x, 0, x.length, q, 0);
            float[] y = new float[x.length];
            t.dequantize(q, 0, x.length, y, 0);
            for (int b = 0; b < x.length / 32; b++) {
                float amax = 0, lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
                for (int j = 0; j < 32; j++) {
                    amax = Math.max(amax, Math.abs(x[32 * b + j]));
                    lo = Math.min(lo, x[32 * b + j]);
                    hi = Math.max(hi, x[32 * b + j]);
                }
                double step = switch (t) {
                    case Q8_0 -> amax / 127.0;
                    case Q4_0 -> amax / 8.0;
                    case Q5_0 -> amax / 16.0;
                    case Q4_1 -> (hi - lo) / 15.0;
                    case Q5_1 -> (hi - lo) / 31.0;
                    case Q4_K -> (hi - Math.min(lo, 0)) / 15.0;     // sub-blocks of 32 with a 6-bit scale and min
                    case Q5_K -> (hi - Math.min(lo, 0)) / 31.0;
                    case Q6_K -> amax / 32.0;                       // sub-blocks of 16 with an 8-bit scale
                    default -> amax * 0.01;     // F32, F16, BF16: relative rounding
                };
                for (int j = 0; j < 32; j++) {
                    int i = 32 * b + j;
                    // _0 types: the side opposite the largest value ends one step short (q clamps at 15 or 31);
                    // K-quants: the 6- or 8-bit sub-block scales move the step itself
                    double bound = (t == GgmlType.Q4_0 || t == GgmlType.Q5_0 ? 1.01 : t.blockSize == 256 ? 1.5 : 0.51) * step + 1e-3 * amax + 1e-30;
                    assertEquals(x[i], y[i], bound, t + " element " + i);
                }
            }
        }
        assertEquals(2, GgmlCodecs.roundf(1.5f));
        assertEquals(-2, GgmlCodecs.roundf(-1.5f));
        assertEquals(0, GgmlCodecs.roundf(0.49999997f));
    }
}
