package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import dev.llmkit.core.io.Safetensors;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Tensor;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.trainer.LoopConfig;
import dev.llmkit.trainer.TrainerState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code llmkit export --format hf}: the tensors are the checkpoint's (rounded as F16/BF16 round),
 * config.json describes the model, and Hugging Face tokenizers (the Rust library, through DJL) encodes
 * with the exported tokenizer.json exactly as llmkit does.
 */
class HfExportTest {
    @TempDir
    static Path dir;

    /** A trained tokenizer (with llmkit's default special tokens) and an untied GQA model initialised for it. */
    static Path model;

    private static CliRun run(String... args) {
        return CliRun.run(args);
    }

    private static void ok(String... args) {
        CliRun.ok(args);
    }

    @BeforeAll
    static void tinyModel() throws IOException {
        Path corpus = dir.resolve("c.txt");
        Files.writeString(corpus, "the cat sat on the mat. caf\u00e9 na\u00efve \u65e5\u672c\u8a9e. the dog sat on the log.\n".repeat(100), StandardCharsets.UTF_8);
        ok("tokenizer", "train", "--corpus", corpus.toString(), "--vocab-size", "300", "--out", dir.resolve("tok").toString());
        model = dir.resolve("model");
        ok("model", "init", "--preset", "tiny", "--tokenizer", dir.resolve("tok/tokenizer.json").toString(), "--out", model.toString(),
                "--set", "model.dim=32", "--set", "model.hidden_dim=48", "--set", "model.n_layers=2", "--set", "model.n_heads=4",
                "--set", "model.n_kv_heads=2", "--set", "model.tied_embeddings=false", "--set", "model.context_length=128");
    }

    private static Path export(String name, String type) {
        Path out = dir.resolve(name);
        ok("export", "--model", model.toString(), "--format", "hf", "--type", type, "--out", out.toString(), "--force");
        return out;
    }

    private static JsonNode json(Path f) throws IOException {
        return Json.MAPPER.readTree(f.toFile());
    }

    @Test
    void f32TensorsAreTheCheckpointsAndConfigDescribesTheModel() throws IOException {
        Path out = export("hf-f32", "f32");
        Map<String, Tensor> got = Safetensors.read(out.resolve("model.safetensors"));
        Map<String, Tensor> ckpt = Safetensors.read(model.resolve("model.safetensors"));
        assertEquals(ckpt.keySet(), got.keySet());
        assertTrue(got.containsKey("lm_head.weight") && got.containsKey("model.layers.1.self_attn.k_proj.weight"), got.keySet().toString());
        for (Tensor t : ckpt.values()) {
            assertArrayEquals(t.shape(), got.get(t.name()).shape(), t.name());
            assertArrayEquals(t.data(), got.get(t.name()).data(), t.name());
        }
        assertEquals(Map.of("format", "pt"), Json.MAPPER.convertValue(header(out).get("__metadata__"), Map.class));
        assertEquals("F32", header(out).path("model.embed_tokens.weight").path("dtype").asText());

        // q/k in Hugging Face's rotate-half layout: torch's view(heads, hd/2, 2, in).transpose(1, 2) of llmkit's interleaved rows.
        Checkpoint.Loaded m = Checkpoint.read(model);
        ModelConfig c = m.weights().config();
        assertArrayEquals(rotateHalf(m.weights().get(TensorNames.blk(1, "attn_q")), c.nHeads(), c.dim()), got.get("model.layers.1.self_attn.q_proj.weight").data());
        assertArrayEquals(rotateHalf(m.weights().get(TensorNames.blk(0, "attn_k")), c.nKvHeads(), c.dim()), got.get("model.layers.0.self_attn.k_proj.weight").data());

        JsonNode cfg = json(out.resolve("config.json"));
        assertEquals("LlamaForCausalLM", cfg.path("architectures").get(0).asText());
        assertEquals("llama", cfg.path("model_type").asText());
        assertEquals("silu", cfg.path("hidden_act").asText());
        assertEquals(List.of(32, 48, 2, 4, 2, 128, c.vocabSize()), List.of(cfg.path("hidden_size").asInt(), cfg.path("intermediate_size").asInt(),
                cfg.path("num_hidden_layers").asInt(), cfg.path("num_attention_heads").asInt(), cfg.path("num_key_value_heads").asInt(),
                cfg.path("max_position_embeddings").asInt(), cfg.path("vocab_size").asInt()));
        assertEquals(c.normEps(), (float) cfg.path("rms_norm_eps").asDouble());
        assertEquals(c.ropeTheta(), (float) cfg.path("rope_theta").asDouble());
        assertFalse(cfg.path("tie_word_embeddings").asBoolean(true));
        assertEquals("float32", cfg.path("torch_dtype").asText());
        int eot = m.tokenizer().eotId();
        assertEquals(List.of(eot, eot), List.of(cfg.path("bos_token_id").asInt(), cfg.path("eos_token_id").asInt()));
        assertEquals(json(model.resolve("config.json")), cfg, "config.json is the checkpoint's");
        assertEquals(Json.MAPPER.readTree("{\"bos_token_id\": " + eot + ", \"eos_token_id\": " + eot + "}"), json(out.resolve("generation_config.json")));
        assertEquals(c, Checkpoint.read(out).weights().config(), "llmkit reads the export back");

        // The tokenizer files: tokenizer.json verbatim, special tokens of a base model, no chat template.
        assertArrayEquals(Files.readAllBytes(model.resolve("tokenizer.json")), Files.readAllBytes(out.resolve("tokenizer.json")));
        JsonNode tc = json(out.resolve("tokenizer_config.json"));
        assertTrue(tc.path("chat_template").isMissingNode());
        assertEquals(List.of(Tokenizer.EOT, Tokenizer.EOT, "<|pad|>", "PreTrainedTokenizerFast"), List.of(tc.path("bos_token").asText(),
                tc.path("eos_token").asText(), tc.path("pad_token").asText(), tc.path("tokenizer_class").asText()));
        assertEquals(128, tc.path("model_max_length").asInt());
        assertEquals(m.tokenizer().addedTokens().size(), tc.path("added_tokens_decoder").size());
        assertEquals(Tokenizer.EOT, json(out.resolve("special_tokens_map.json")).path("eos_token").asText());

        // The model card: front matter and the figures of this checkpoint (model init: no training).
        String card = Files.readString(out.resolve("README.md"));
        assertTrue(card.startsWith("---\nlibrary_name: transformers\n"), card);
        assertTrue(card.contains(String.format(java.util.Locale.ROOT, "| parameters | %,d", c.parameters())), card);
        assertTrue(card.contains("| layers | 2 |") && card.contains("| context | 128 tokens"), card);
        assertTrue(card.contains("Stage: `model.init` (randomly initialised, not trained)"), card);
        assertFalse(card.contains("tokens seen"), "no trainer state, no training figures: " + card);
        assertFalse(Files.exists(out.resolveSibling(".hf-f32.partial")), "no staging directory left");
    }

    @ParameterizedTest
    @ValueSource(strings = {"f16", "bf16"})
    void halfTypesHoldTheRoundedValues(String type) throws IOException {
        Path out = export("hf-" + type, type);
        Map<String, Tensor> got = Safetensors.read(out.resolve("model.safetensors"));
        int different = 0;
        for (Tensor t : Safetensors.read(model.resolve("model.safetensors")).values()) {
            float[] want = t.data().clone();
            for (int i = 0; i < want.length; i++) {
                float x = want[i];
                want[i] = type.equals("f16") ? Float.float16ToFloat(Float.floatToFloat16(x)) : bf16(x);
                if (want[i] != x) different++;
            }
            assertArrayEquals(want, got.get(t.name()).data(), t.name());
        }
        assertTrue(different > 0, "rounding changed some values");
        String dtype = type.equals("f16") ? "F16" : "BF16";
        assertEquals(dtype, header(out).path("model.norm.weight").path("dtype").asText());
        assertEquals(type.equals("f16") ? "float16" : "bfloat16", json(out.resolve("config.json")).path("torch_dtype").asText());
        long params = Checkpoint.read(model).weights().config().parameters();
        assertTrue(Files.size(out.resolve("model.safetensors")) < 2 * params + 4096, "2 bytes a parameter");
    }

    @Test
    void huggingFaceTokenizersEncodesAsLlmkit() throws Exception {
        Path out = export("hf-tok", "f32");
        Tokenizer ours = Tokenizer.load(out.resolve("tokenizer.json"));
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false", "modelMaxLength", "100000");
        List<String> texts = List.of("the cat sat on the mat.", "  leading spaces and\ttabs\n\nnew lines 12345",
                "caf\u00e9 na\u00efve \u65e5\u672c\u8a9e \ud83d\udc4d \u00e9\u00e9", "<|im_start|>user\nthe cat?<|im_end|>\n<|im_start|>assistant\n",
                "the end<|endoftext|>the <|pad|>start");
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(out.resolve("tokenizer.json"), options)) {
            for (String s : texts) {
                int[] mine = ours.encode(s, true);
                long[] theirs = hf.encode(s, false, false).getIds();
                int[] t = new int[theirs.length];
                for (int i = 0; i < t.length; i++) t[i] = (int) theirs[i];
                assertArrayEquals(mine, t, s);
                assertEquals(s, hf.decode(theirs, false), s);
            }
            assertArrayEquals(new long[] {ours.addedId(ChatTemplate.IM_START)}, hf.encode(ChatTemplate.IM_START, false, false).getIds());
        }
    }

    @Test
    void chatModelsCarryTheirTemplateAndStopAtImEnd() throws IOException {
        Path chat = dir.resolve("chat-model");
        ok("model", "init", "--preset", "tiny", "--tokenizer", model.resolve("tokenizer.json").toString(), "--out", chat.toString(),
                "--set", "model.dim=32", "--set", "model.hidden_dim=48", "--set", "model.n_layers=1", "--set", "model.n_heads=2",
                "--set", "model.n_kv_heads=2", "--set", "model.context_length=64");
        Tokenizer tok = Tokenizer.load(chat.resolve("tokenizer.json"));
        ChatTemplate.writeTokenizerConfig(chat, tok, 64);
        // A trainer state as pretrain and finetune leave it: the card reports its figures.
        ModelConfig c = Checkpoint.read(chat).weights().config();
        LoopConfig loop = new LoopConfig("finetune", 40, 2, 64, 1, 1e-3, 1e-4, 2, 0.1, 0.9, 0.95, 1e-8, 1.0, 10, 3, 1, 1, "java", "stop", Map.of());
        Json.write(chat.resolve("trainer-state/state.json"), new TrainerState(TrainerState.VERSION, 40, 5120, 12.5, 3.25, 30, 0, 40, "abc", c, loop));
        Path out = dir.resolve("hf-chat");
        ok("export", "--model", chat.toString(), "--format", "hf", "--type", "bf16", "--out", out.toString(), "--name", "tiny-chat");
        JsonNode tc = json(out.resolve("tokenizer_config.json"));
        assertEquals(ChatTemplate.JINJA, tc.path("chat_template").asText());
        assertEquals(ChatTemplate.IM_END, tc.path("eos_token").asText());
        assertArrayEquals(Files.readAllBytes(chat.resolve("tokenizer_config.json")), Files.readAllBytes(out.resolve("tokenizer_config.json")),
                "the same file a fine-tuned checkpoint holds");
        assertEquals(ChatTemplate.JINJA, ChatTemplate.readChatTemplate(out));
        JsonNode gen = json(out.resolve("generation_config.json"));
        assertEquals(List.of(tok.addedId(ChatTemplate.IM_END), tok.eotId()), List.of(gen.path("eos_token_id").get(0).asInt(), gen.path("eos_token_id").get(1).asInt()));
        assertEquals(List.of(ChatTemplate.IM_START, ChatTemplate.IM_END),
                Json.MAPPER.convertValue(json(out.resolve("special_tokens_map.json")).path("additional_special_tokens"), List.class));
        String card = Files.readString(out.resolve("README.md"));
        assertTrue(card.contains("# tiny-chat") && card.contains("- conversational") && card.contains("apply_chat_template"), card);
        assertTrue(card.contains("| steps | 40 of 40 |") && card.contains("| tokens seen | 5,120 |") && card.contains("| best validation loss | 3.2500 (step 30) |"), card);
        assertTrue(card.contains("| weights | bfloat16"), card);
    }

    @Test
    void fromAGgufFile() throws IOException {
        Path gguf = dir.resolve("model.gguf");
        ok("export", "--model", model.toString(), "--out", gguf.toString(), "--force");
        Path out = dir.resolve("hf-from-gguf");
        ok("export", "--model", gguf.toString(), "--format", "hf", "--out", out.toString());
        Map<String, Tensor> got = Safetensors.read(out.resolve("model.safetensors"));
        for (Tensor t : Safetensors.read(model.resolve("model.safetensors")).values()) assertArrayEquals(t.data(), got.get(t.name()).data(), t.name());
        Tokenizer a = Tokenizer.load(model.resolve("tokenizer.json")), b = Tokenizer.load(out.resolve("tokenizer.json"));
        String s = "caf\u00e9 the cat<|im_end|>";
        assertArrayEquals(a.encode(s, true), b.encode(s, true));
        assertFalse(Files.readString(out.resolve("README.md")).contains("## Training"));
    }

    @Test
    void usageErrors() throws IOException {
        Path out = dir.resolve("hf-errors");
        Files.createDirectories(out);
        ok("export", "--model", model.toString(), "--format", "hf", "--out", out.toString());      // an empty directory is fine
        CliRun r = run("export", "--model", model.toString(), "--format", "hf", "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("not empty") && r.err().contains("--force"), r.err());
        Path file = dir.resolve("some-file");
        Files.writeString(file, "x");
        assertEquals(2, run("export", "--model", model.toString(), "--format", "hf", "--out", file.toString()).code());
        assertEquals("x", Files.readString(file));

        r = run("export", "--model", model.toString(), "--format", "hf", "--type", "q8_0", "--out", dir.resolve("q").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--type q8_0") && r.err().contains("llmkit quantize"), r.err());
        r = run("export", "--model", model.toString(), "--type", "bf16", "--out", dir.resolve("x.gguf").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--format hf") && r.err().contains("llmkit quantize"), r.err());
        assertEquals(2, run("export", "--model", model.toString(), "--format", "onnx", "--out", dir.resolve("o").toString()).code());
        r = run("export", "--model", model.toString(), "--format", "hf", "--out", model.toString(), "--force");
        assertEquals(2, r.code(), r.err());
        assertTrue(Files.exists(model.resolve("model.safetensors")), "the model is never replaced by its own export");
        assertFalse(Files.exists(dir.resolve("q")) || Files.exists(dir.resolve("o")));
        assertNotEquals(0, run("export", "--model", dir.resolve("missing").toString(), "--format", "hf", "--out", dir.resolve("m").toString()).code());
        assertFalse(Files.exists(dir.resolve("m")) || Files.exists(dir.resolve(".m.partial")));
    }

    /** The safetensors header as JSON. */
    private static JsonNode header(Path out) throws IOException {
        byte[] b = Files.readAllBytes(out.resolve("model.safetensors"));
        int n = (int) ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return Json.MAPPER.readTree(new String(b, 8, n, StandardCharsets.UTF_8));
    }

    /** BF16 by round to nearest even on the upper 16 bits (finite values). */
    private static float bf16(float x) {
        int u = Float.floatToRawIntBits(x);
        return Float.intBitsToFloat((u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000);
    }

    /** llama2.c export.py's permute: w.view(heads, rows/heads/2, 2, in).transpose(1, 2).reshape(rows, in). */
    private static float[] rotateHalf(float[] w, int heads, int in) {
        int rows = w.length / in, half = rows / heads / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    int src = ((h * half + i) * 2 + j) * in, dst = ((h * 2 + j) * half + i) * in;
                    System.arraycopy(w, src, out, dst, in);
                }
            }
        }
        return out;
    }
}
