package dev.llmkit.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import dev.llmkit.core.LlmkitException;
import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.io.Safetensors;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointAndGgufTest {
    @TempDir
    Path dir;

    Path tokFile;
    Tokenizer tok;
    Weights w;

    @BeforeEach
    void model() {
        int[][] merges = {{'t', 'h'}, {256, 'e'}, {' ', 257}, {'a', 'n'}};
        tokFile = dir.resolve("tokenizer.json");
        tok = TokenizerJson.write(TokenizerJson.build(merges, List.of(Tokenizer.EOT, "<|pad|>"), SplitPattern.GPT2), tokFile);
        w = Weights.init(new ModelConfig(32, 48, 2, 4, 2, tok.vocabSize(), 64, 1e-5f, 10000f, false), 0.1f, 3);
    }

    private static void assertSameWeights(Weights a, Weights b) {
        assertEquals(a.config(), b.config());
        assertEquals(a.tensors().keySet(), b.tensors().keySet());
        for (String n : a.tensors().keySet()) assertArrayEquals(a.get(n), b.get(n), n);
    }

    @Test
    void checkpointRoundTripWithHuggingFaceNamesAndRotaryPermutation() throws Exception {
        Path ck = dir.resolve("ck");
        Checkpoint.write(ck, w, tokFile, null, false);
        Checkpoint.Loaded back = Checkpoint.read(ck);
        assertSameWeights(w, back.weights());
        JsonNode cfg = Json.MAPPER.readTree(ck.resolve("config.json").toFile());
        assertEquals("LlamaForCausalLM", cfg.path("architectures").get(0).asText());
        assertEquals(2, cfg.path("num_key_value_heads").asInt());
        assertEquals(tok.eotId(), cfg.path("eos_token_id").asInt());
        var hf = Safetensors.read(ck.resolve("model.safetensors"));
        assertTrue(hf.containsKey("model.layers.1.self_attn.q_proj.weight") && hf.containsKey("lm_head.weight"));
        // q rows are permuted to the rotate-half layout: row 1 (pair 0, second half) comes from our row hd/2... per head.
        float[] ours = w.get("blk.0.attn_q.weight"), theirs = hf.get("model.layers.0.self_attn.q_proj.weight").data();
        int in = 32, hd = 8;
        assertArrayEquals(java.util.Arrays.copyOfRange(ours, 1 * in, 2 * in), java.util.Arrays.copyOfRange(theirs, (hd / 2) * in, (hd / 2 + 1) * in));
        assertArrayEquals(ours, Checkpoint.fromHf(Checkpoint.toHf(ours, 4, in), 4, in));
        assertThrows(ConfigException.class, () -> Checkpoint.write(ck, w, tokFile, null, false));
    }

    /** A config.json key with a wrong type, null or a fraction is refused with the key named, never read as a default or truncated. */
    @Test
    void configJsonKeysOfTheWrongTypeAreRefused() throws Exception {
        Path ck = dir.resolve("ck");
        Checkpoint.write(ck, w, tokFile, null, false);
        String good = Files.readString(ck.resolve("config.json"));
        String[][] bad = {{"\"rms_norm_eps\" : 1.0E-5", "\"rms_norm_eps\" : \"abc\""}, {"\"num_key_value_heads\" : 2", "\"num_key_value_heads\" : null"},
            {"\"hidden_size\" : 32", "\"hidden_size\" : 32.5"}, {"\"rope_theta\" : 10000.0", "\"rope_theta\" : \"10000\""},
            {"\"hidden_act\" : \"silu\"", "\"hidden_act\" : 1"}, {"\"tie_word_embeddings\" : false", "\"tie_word_embeddings\" : \"no\""},
            {"\"max_position_embeddings\" : 64", "\"max_position_embeddings\" : null"}};
        for (String[] b : bad) {
            assertTrue(good.contains(b[0]), b[0] + " in " + good);
            Files.writeString(ck.resolve("config.json"), good.replace(b[0], b[1]));
            LlmkitException e = assertThrows(LlmkitException.class, () -> Checkpoint.read(ck), b[1]);
            String key = b[0].substring(1, b[0].indexOf('"', 1));
            assertTrue(e.getMessage().contains(key) && e.hint() != null, e.getMessage());
        }
        Files.writeString(ck.resolve("config.json"), good.replace("\"hidden_size\" : 32", "\"hidden_size\" : 32.0"));     // whole: accepted
        assertEquals(32, Checkpoint.read(ck).weights().config().dim());
    }

    /** NaN or infinite weights, and tensors the config does not use, are refused at load, naming the tensor. */
    @Test
    void nonFiniteWeightsAndUnusedTensorsAreRefused() throws Exception {
        Path ck = dir.resolve("ck");
        Checkpoint.write(ck, w, tokFile, null, false);
        String good = Files.readString(ck.resolve("config.json"));
        Files.writeString(ck.resolve("config.json"), good.replace("\"num_hidden_layers\" : 2", "\"num_hidden_layers\" : 1"));
        LlmkitException extra = assertThrows(LlmkitException.class, () -> Checkpoint.read(ck));
        assertTrue(extra.getMessage().contains("model.layers.1.") && extra.getMessage().contains("1 layers"), extra.getMessage());
        Path gguf = dir.resolve("nan.gguf"), ck2 = dir.resolve("ck2");
        w.get("blk.1.ffn_up.weight")[7] = Float.NaN;
        Checkpoint.write(ck2, w, tokFile, null, false);
        Checkpoint.Loaded loaded = Checkpoint.read(ck2);     // training reads it (its on_non_finite policy decides)
        LlmkitException nan = assertThrows(LlmkitException.class, () -> Checkpoint.requireFinite(loaded.weights(), ck2));     // inference refuses it
        assertTrue(nan.getMessage().contains("blk.1.ffn_up.weight holds NaN at element 7"), nan.getMessage());
        GgufModel.export(w, tok, gguf, Gguf.F32, "t");
        LlmkitException nanGguf = assertThrows(LlmkitException.class, () -> Checkpoint.requireFinite(GgufModel.load(gguf).weights(), gguf));
        assertTrue(nanGguf.getMessage().contains("blk.1.ffn_up.weight holds NaN"), nanGguf.getMessage());
    }

    /** The branch-free scan finds any infinity or NaN wherever it lies (in its eight-value steps or in the tail), and passes finite extremes. */
    @Test
    void allFiniteFindsEveryNonFiniteValue() {
        for (int n : new int[] {0, 1, 7, 8, 9, 37}) {
            float[] d = new float[n];
            for (int i = 0; i < n; i++) d[i] = (i % 3 - 1) * (i % 2 == 0 ? Float.MAX_VALUE : Float.MIN_VALUE);
            assertTrue(Checkpoint.allFinite(d), "n " + n);
            for (int at = 0; at < n; at++) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    float keep = d[at];
                    d[at] = bad;
                    assertTrue(!Checkpoint.allFinite(d), bad + " at " + at + " of " + n);
                    d[at] = keep;
                }
            }
        }
    }

    @Test
    void ggufRoundTripF32AndF16() {
        Path f32 = dir.resolve("m.gguf"), f16 = dir.resolve("m16.gguf");
        GgufModel.export(w, tok, f32, Gguf.F32, "t");
        Checkpoint.Loaded back = GgufModel.load(f32);
        assertSameWeights(w, back.weights());
        assertEquals(tok.vocabSize(), back.tokenizer().vocabSize());
        assertArrayEquals(tok.encode("the than <|endoftext|>", true), back.tokenizer().encode("the than <|endoftext|>", true));
        Gguf.Model g = Gguf.read(f32);
        assertArrayEquals(new int[] {tok.vocabSize(), 32}, g.tensors().get("token_embd.weight").shape());
        assertEquals(0, (g.tensors().get("blk.0.attn_q.weight").offset()) % 32);
        assertEquals("gpt-2", g.get("tokenizer.ggml.pre").value());
        GgufModel.export(w, tok, f16, Gguf.F16, "t");
        Weights h = GgufModel.load(f16).weights();
        for (String n : w.tensors().keySet()) {
            float[] a = w.get(n), b = h.get(n);
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], Math.abs(a[i]) * 1e-3 + 1e-6, n);
        }
        assertEquals(Gguf.F32, Gguf.read(f16).tensors().get("output_norm.weight").type(), "norms stay F32");
    }

    /**
     * The hostile-input suite of the model files, through the loaders the CLI uses (GgufModel.load,
     * Checkpoint.read, then Checkpoint.requireFinite as every inference command does): 2,600 seeded
     * mutations of a GGUF file, a model.safetensors, a config.json and a tokenizer.json (truncation,
     * random bytes, huge or negative numbers over lengths and counts, bit flips, and for the JSON files
     * values of the wrong type, removed keys and edited numbers). Each must end in a typed error naming
     * the file or its directory, or in a model with the original's tensors: equal to them where the
     * mutation left the tensor data alone (a mutation inside the data may load other finite values of the
     * same tensors). Never another exception.
     */
    @Test
    void mutatedFilesFailWithTypedErrorsOrLoadTheOriginal() throws Exception {
        Path gguf = dir.resolve("m.gguf"), ck = dir.resolve("ck");
        GgufModel.export(w, tok, gguf, Gguf.F32, "t");
        Checkpoint.write(ck, w, tokFile, null, false);
        Path st = ck.resolve("model.safetensors"), cfg = ck.resolve("config.json"), tj = ck.resolve("tokenizer.json");
        byte[] goodG = Files.readAllBytes(gguf), goodS = Files.readAllBytes(st), goodC = Files.readAllBytes(cfg), goodT = Files.readAllBytes(tj);
        long ggufData = Gguf.read(gguf).tensors().values().stream().mapToLong(Gguf.TensorInfo::offset).min().orElseThrow();
        long stData = 8 + java.nio.ByteBuffer.wrap(goodS, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        SplittableRandom r = new SplittableRandom(42);
        int[] outcomes = new int[3];     // typed error, equal load, load of other finite data values
        for (int i = 0; i < 2600; i++) {
            int kind = i % 13 < 6 ? 0 : i % 13 < 10 ? 1 : i % 13 < 12 ? 2 : 3;     // GGUF, safetensors, config.json, tokenizer.json
            byte[] good = switch (kind) { case 0 -> goodG; case 1 -> goodS; case 2 -> goodC; default -> goodT; };
            long headerEnd = switch (kind) { case 0 -> ggufData; case 1 -> stData; default -> good.length; };
            boolean[] dataTouched = {false};
            byte[] b = kind >= 2 && r.nextBoolean() ? mutateJson(good, r) : mutate(good, r, (int) Math.min(headerEnd, 4096), headerEnd, dataTouched);
            Files.write(gguf, goodG);
            Files.write(st, goodS);
            Files.write(cfg, goodC);
            Files.write(tj, goodT);
            Path f = kind == 0 ? gguf : kind == 1 ? st : kind == 2 ? cfg : tj;
            Files.write(f, b);
            try {
                Checkpoint.Loaded m = kind == 0 ? GgufModel.load(f) : Checkpoint.read(ck);
                Checkpoint.requireFinite(m.weights(), f);
                // the same tensors (a value edited into another valid one, a rope_theta say, cannot be told from intent)
                assertEquals(w.tensors().keySet(), m.weights().tensors().keySet(), "mutation " + i);
                boolean same = true;
                for (String n : w.tensors().keySet()) {
                    assertEquals(w.get(n).length, m.weights().get(n).length, "mutation " + i + ": " + n);
                    same &= java.util.Arrays.equals(w.get(n), m.weights().get(n));
                }
                assertTrue(same || dataTouched[0], "mutation " + i + " of " + f.getFileName() + " left the tensor data alone but loaded other values");
                outcomes[same ? 1 : 2]++;
            } catch (LlmkitException e) {
                assertTrue(e.getMessage().contains(f.getFileName().toString()) || e.getMessage().contains(ck.getFileName().toString()), e.getMessage());
                outcomes[0]++;
            }
        }
        System.out.printf("hostile model files: 2600 mutations, %d typed errors, %d loads equal to the original, %d loads of other finite data%n",
                outcomes[0], outcomes[1], outcomes[2]);
        assertTrue(outcomes[0] > 1000 && outcomes[1] > 0, java.util.Arrays.toString(outcomes));
    }

    /** A header length or a dtype that breaks the tiling of the data region is refused (it once loaded garbage). */
    @Test
    void safetensorsTensorsMustTileTheDataRegion() throws Exception {
        Path ck = dir.resolve("ck");
        Checkpoint.write(ck, w, tokFile, null, false);
        Path st = ck.resolve("model.safetensors");
        byte[] good = Files.readAllBytes(st);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(good.clone()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        // a header length that points the data region elsewhere: invalid JSON, or (padding) tensors that no longer tile the data
        String header = new String(good, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8);
        for (long len : new long[] {n - 9, n - (n - header.stripTrailing().length()), n + 8}) {
            if (len <= 1 || len == n) continue;
            byte[] moved = good.clone();
            java.nio.ByteBuffer.wrap(moved).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, len);
            Files.write(st, moved);
            dev.llmkit.core.DataException e = assertThrows(dev.llmkit.core.DataException.class, () -> Checkpoint.read(ck), "header length " + len);
            assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        }
        // one tensor relabelled F16: half its bytes, a gap before the next
        String relabel = header.replaceFirst("\"dtype\":\"F32\"", "\"dtype\":\"F16\"");
        assertTrue(!relabel.equals(header));
        byte[] r = good.clone();
        System.arraycopy(relabel.getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, r, 8, relabel.length());
        Files.write(st, r);
        dev.llmkit.core.DataException e2 = assertThrows(dev.llmkit.core.DataException.class, () -> Checkpoint.read(ck));
        assertTrue(e2.getMessage().contains("model.safetensors"), e2.getMessage());
    }

    /** A tensor relabelled F16, or a general.alignment the file was not written with, is refused instead of loading garbage. */
    @Test
    void ggufTensorExtentsAndAlignmentMustAgreeWithTheData() throws Exception {
        Path gguf = dir.resolve("m.gguf");
        GgufModel.export(w, tok, gguf, Gguf.F32, "t");
        byte[] good = Files.readAllBytes(gguf);
        Gguf.Model g = Gguf.read(gguf);
        List<Gguf.TensorInfo> byOffset = g.tensors().values().stream().sorted(java.util.Comparator.comparingLong(Gguf.TensorInfo::offset)).toList();
        for (Gguf.TensorInfo t : List.of(byOffset.get(0), byOffset.get(byOffset.size() - 1))) {
            if (t.type() != Gguf.F32) continue;
            byte[] b = good.clone();
            int at = typeField(b, t);
            java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(at, Gguf.F16);
            Path f = dir.resolve("relabel.gguf");
            Files.write(f, b);
            dev.llmkit.core.DataException e = assertThrows(dev.llmkit.core.DataException.class, () -> GgufModel.load(f), t.name());
            assertTrue(e.getMessage().contains("relabel.gguf") && e.getMessage().contains("disagrees with its data"), e.getMessage());
        }
        // tensors of 12 bytes padded to 32: an alignment of 1 or 16 reads them from the wrong places
        for (long alignment : new long[] {1, 16}) {
            java.util.Map<String, Gguf.Value> m = new java.util.LinkedHashMap<>();
            m.put("general.architecture", Gguf.Value.str("llama"));
            m.put("general.alignment", Gguf.Value.u32(alignment));
            Path f = dir.resolve("align" + alignment + ".gguf");
            Gguf.write(f, m, List.of(new Gguf.OutTensor("a", new int[] {3}, new float[] {1, 2, 3}, Gguf.F32),
                    new Gguf.OutTensor("b", new int[] {3}, new float[] {4, 5, 6}, Gguf.F32)));
            dev.llmkit.core.DataException e = assertThrows(dev.llmkit.core.DataException.class, () -> Gguf.read(f), "alignment " + alignment);
            assertTrue(e.getMessage().contains("align" + alignment + ".gguf") && e.getMessage().contains("alignment"), e.getMessage());
        }
    }

    /** The file offset of tensor t's u32 type in the tensor directory: after its name, dimension count and dimensions. */
    private static int typeField(byte[] file, Gguf.TensorInfo t) {
        byte[] name = t.name().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int i = 8; i + name.length < file.length; i++) {
            if (java.nio.ByteBuffer.wrap(file, i - 8, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong() != name.length) continue;
            if (!java.util.Arrays.equals(file, i, i + name.length, name, 0, name.length)) continue;
            int nd = java.nio.ByteBuffer.wrap(file, i + name.length, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
            if (nd == t.shape().length) return i + name.length + 4 + 8 * nd;
        }
        throw new AssertionError("tensor " + t.name() + " not found");
    }

    @Test
    void hostileHeadersAreRejectedBeforeAllocating() throws Exception {
        // Safetensors: many tensors claiming the same bytes (an allocation bomb) -> overlap error, nothing read.
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i < 50; i++) h.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}");
        byte[] header = h.append('}').toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + header.length + 16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Path st = dir.resolve("bomb.safetensors");
        Files.write(st, b.array());
        dev.llmkit.core.DataException e = assertThrows(dev.llmkit.core.DataException.class, () -> Safetensors.read(st));
        assertTrue(e.getMessage().contains("overlap"), e.getMessage());
        // GGUF: a metadata value of the wrong type is a typed error naming the key.
        Path g = dir.resolve("bad.gguf");
        java.util.Map<String, Gguf.Value> m = new java.util.LinkedHashMap<>();
        m.put("general.architecture", Gguf.Value.str("llama"));
        m.put("llama.embedding_length", Gguf.Value.str("256"));
        Gguf.write(g, m, List.of());
        dev.llmkit.core.DataException e2 = assertThrows(dev.llmkit.core.DataException.class, () -> GgufModel.load(g));
        assertTrue(e2.getMessage().contains("bad.gguf"), e2.getMessage());
    }

    /**
     * Truncation, random bytes, or a huge value written over a length or count in the first
     * {@code headerBytes}, or a bit flip anywhere; sets dataTouched[0] when a byte at or after
     * {@code dataStart} changed.
     */
    static byte[] mutate(byte[] good, SplittableRandom r, int headerBytes, long dataStart, boolean[] dataTouched) {
        byte[] b = good.clone();
        int h = Math.max(9, Math.min(b.length, headerBytes));
        switch (r.nextInt(5)) {
            case 0 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
            case 1 -> { for (int k = 0; k < 1 + r.nextInt(8); k++) b[r.nextInt(h)] = (byte) r.nextInt(256); }
            case 2 -> {
                int p = r.nextInt(h - 8);
                long v = switch (r.nextInt(4)) { case 0 -> Long.MAX_VALUE; case 1 -> -1L; case 2 -> 0L; default -> 1L << (20 + r.nextInt(40)); };
                for (int k = 0; k < 8; k++) b[p + k] = (byte) (v >>> (8 * k));
            }
            case 3 -> { int p = r.nextInt(h); b[p] = (byte) (b[p] ^ (1 << r.nextInt(8))); }
            default -> { int p = r.nextInt(b.length); b[p] = (byte) (b[p] ^ (1 << r.nextInt(8))); }
        }
        for (long p = dataStart; p < Math.min(b.length, good.length); p++) if (b[(int) p] != good[(int) p]) dataTouched[0] = true;
        return b;
    }

    static byte[] mutate(byte[] good, SplittableRandom r, int headerBytes) {
        return mutate(good, r, headerBytes, Long.MAX_VALUE, new boolean[1]);
    }

    /** A JSON file with one value replaced by another type, an edited number, or a key removed or added. */
    static byte[] mutateJson(byte[] good, SplittableRandom r) throws java.io.IOException {
        JsonNode root = Json.MAPPER.readTree(good);
        List<com.fasterxml.jackson.databind.node.ContainerNode<?>> parents = new java.util.ArrayList<>();
        collect(root, parents);
        var parent = parents.get(r.nextInt(parents.size()));
        JsonNode[] values = {Json.MAPPER.getNodeFactory().textNode("abc"), Json.MAPPER.getNodeFactory().nullNode(),
            Json.MAPPER.getNodeFactory().numberNode(-1), Json.MAPPER.getNodeFactory().numberNode(2.5), Json.MAPPER.getNodeFactory().numberNode(1L << 40),
            Json.MAPPER.getNodeFactory().booleanNode(true), Json.MAPPER.getNodeFactory().objectNode(), Json.MAPPER.getNodeFactory().arrayNode(),
            Json.MAPPER.getNodeFactory().numberNode(0)};
        JsonNode v = values[r.nextInt(values.length)];
        if (parent instanceof com.fasterxml.jackson.databind.node.ObjectNode o && o.size() > 0) {
            List<String> keys = new java.util.ArrayList<>();
            o.fieldNames().forEachRemaining(keys::add);
            String k = keys.get(r.nextInt(keys.size()));
            switch (r.nextInt(4)) {
                case 0 -> o.remove(k);
                case 1 -> o.put("extra_" + r.nextInt(100), v);
                case 2 -> { if (o.get(k).isNumber()) o.put(k, o.get(k).asDouble() + 1); else o.set(k, v); }
                default -> o.set(k, v);
            }
        } else if (parent instanceof com.fasterxml.jackson.databind.node.ArrayNode a && a.size() > 0) {
            int k = r.nextInt(a.size());
            switch (r.nextInt(3)) {
                case 0 -> a.remove(k);
                case 1 -> a.add(v);
                default -> a.set(k, v);
            }
        }
        return Json.MAPPER.writeValueAsBytes(root);
    }

    private static void collect(JsonNode n, List<com.fasterxml.jackson.databind.node.ContainerNode<?>> out) {
        if (n instanceof com.fasterxml.jackson.databind.node.ContainerNode<?> c) {
            out.add(c);
            for (JsonNode child : n) collect(child, out);
        }
    }
}
