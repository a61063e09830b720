package dev.llmkit.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.quant.QuantPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code llmkit quantize} against llama.cpp's llama-quantize (../shared/golden/quant, skipped without
 * it): for every golden file, the same type for every tensor (the mixture rules and the per-tensor
 * fallbacks of the 288-wide model included) and, tensor by tensor, the same bytes.
 */
class QuantizerGoldenTest {
    private static final Path GOLDEN = Path.of(System.getProperty("llmkit.shared.dir", "../../shared")).resolve("golden/quant");

    @ParameterizedTest
    @CsvSource({"m,f16,false,m-f16", "m,q8_0,false,m-q8_0", "m,q4_0,false,m-q4_0", "m,q4_1,false,m-q4_1", "m,q5_0,false,m-q5_0",
        "m,q5_1,false,m-q5_1", "m,q4_k_s,false,m-q4_k_s", "m,q4_k_m,false,m-q4_k_m", "m,q5_k_m,false,m-q5_k_m", "m,q6_k,false,m-q6_k",
        "m,q4_k_m,true,m-q4_k_m-pure", "m,q6_k,true,m-q6_k-pure",
        "s288,q4_0,false,s288-q4_0", "s288,q4_k_m,false,s288-q4_k_m", "s288,q6_k,false,s288-q6_k"})
    void sameTypesAndBytesAsLlamaQuantize(String src, String preset, boolean pure, String golden, @TempDir Path dir) {
        Path gold = GOLDEN.resolve(golden + ".gguf");
        assumeTrue(Files.isRegularFile(gold), "no ../shared/golden/quant here");
        Checkpoint.Loaded m = GgufModel.load(GOLDEN.resolve(src + "-f32.gguf"));
        QuantPlan plan = new QuantPlan(QuantPlan.Preset.parse(preset), pure, m.weights().config().nLayers(), !m.weights().config().tiedEmbeddings(), List.of());
        Path out = dir.resolve("q.gguf");
        Quantizer.Result r = Quantizer.quantize(m.weights(), m.tokenizer(), null, plan, out, "test", 2, null);
        Gguf.Model ours = Gguf.read(out), theirs = Gguf.read(gold);
        assertEquals(new java.util.TreeSet<>(theirs.tensors().keySet()), new java.util.TreeSet<>(ours.tensors().keySet()), golden + ": the same tensors");
        List<String> fallbacks = new ArrayList<>();
        for (Gguf.TensorInfo t : theirs.tensors().values()) {
            Gguf.TensorInfo o = ours.tensors().get(t.name());
            assertNotNull(o, golden + ": " + t.name());
            assertEquals(t.type(), o.type(), golden + ": type of " + t.name());
            assertArrayEquals(Gguf.readRaw(theirs, t), Gguf.readRaw(ours, o), golden + ": bytes of " + t.name());
        }
        for (Quantizer.TensorReport t : r.tensors()) if (t.reason() != null && t.reason().contains("fallback")) fallbacks.add(t.name());
        if (src.equals("m")) assertTrue(fallbacks.isEmpty(), fallbacks.toString());
        else if (!preset.equals("q4_0")) assertTrue(fallbacks.size() >= 10, golden + ": fallbacks " + fallbacks);
        assertEquals(preset.equals("f16") ? 1 : QuantPlan.Preset.parse(preset).fileType, (long) (Long) ours.get("general.file_type").value());
    }
}
