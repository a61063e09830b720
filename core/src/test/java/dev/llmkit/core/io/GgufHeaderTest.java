package dev.llmkit.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.DataException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The header reader reads 1 MiB first and then more as it goes: a header several MiB long, whole and cut short. */
class GgufHeaderTest {
    @Test
    void aHeaderLongerThanTheFirstReadIsReadWholeAndATruncatedOneIsAnError(@TempDir Path dir) throws Exception {
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 300_000; i++) tokens.add(i % 7 == 0 ? "é" + i : "token" + i);     // about 5 MiB, some of it UTF-8
        Map<String, Gguf.Value> meta = new LinkedHashMap<>();
        meta.put("a.before", Gguf.Value.u32(7));
        meta.put("tokenizer.ggml.tokens", Gguf.Value.strings(tokens));
        meta.put("z.after", Gguf.Value.str("last"));
        float[] data = {1f, -2f, 3.5f, 4f};
        Path file = dir.resolve("big.gguf");
        Gguf.write(file, meta, List.of(new Gguf.OutTensor("t", new int[] {2, 2}, data, Gguf.F32)));
        assertTrue(Files.size(file) > 3 << 20, "the header spans several reads");

        Gguf.Model g = Gguf.read(file);
        assertEquals(7L, g.get("a.before").value());
        assertEquals(tokens, g.get("tokenizer.ggml.tokens").value());
        assertEquals("last", g.get("z.after").value());
        assertArrayEquals(data, Gguf.readF32(g, g.tensors().get("t")));

        Path cut = dir.resolve("cut.gguf");
        // cut 1 MiB before the end: inside the tokens, past the first read, with room left for the array's count
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(file), (int) (Files.size(file) - (1 << 20))));
        DataException e = assertThrows(DataException.class, () -> Gguf.read(cut));
        assertTrue(e.getMessage().contains("cut.gguf") && e.getMessage().contains("truncated header"), e.getMessage());
    }

    /** Tensors are copied from the mapped file: F32 and F16 as they were written, and a file cut after its header was read is an error naming it. */
    @Test
    void tensorsReadFromTheMappedFileAndAFileCutSinceItsHeaderIsAnError(@TempDir Path dir) throws Exception {
        float[] a = {1f, -2f, 3.5f, 4f, 0.25f, -0f}, b = {0.5f, -1.5f, 2f, 65504f};
        Path file = dir.resolve("m.gguf");
        Gguf.write(file, Map.of("a", Gguf.Value.u32(1)), List.of(new Gguf.OutTensor("a", new int[] {2, 3}, a, Gguf.F32),
                new Gguf.OutTensor("b", new int[] {4}, b, Gguf.F16)));
        Gguf.Model g = Gguf.read(file);
        try (Gguf.Data d = Gguf.Data.open(g)) {
            assertArrayEquals(a, d.f32(g.tensors().get("a")));
            assertArrayEquals(b, d.f32(g.tensors().get("b")));
            assertArrayEquals(java.util.Arrays.copyOfRange(Files.readAllBytes(file), (int) g.tensors().get("a").offset(),
                    (int) (g.tensors().get("a").offset() + 24)), d.raw(g.tensors().get("a")));
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(g.tensors().get("b").offset() + 2);
        }
        DataException e = assertThrows(DataException.class, () -> Gguf.readF32(g, g.tensors().get("b")));
        assertTrue(e.getMessage().contains("m.gguf") && e.getMessage().contains("tensor b") && e.getMessage().contains("past the end"), e.getMessage());
        assertArrayEquals(a, Gguf.readF32(g, g.tensors().get("a")), "the tensor before the cut still reads");
    }

    /** The strict UTF-8 check of the header's strings accepts and refuses what the JDK's reporting decoder does. */
    @Test
    void utf8CheckAgreesWithAStrictDecoder() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(8);
        java.nio.charset.CharsetDecoder strict = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT).onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        byte[][] cases = {
            {}, {'a'}, {(byte) 0xC3, (byte) 0xA9}, {(byte) 0xC0, (byte) 0x80}, {(byte) 0xC1, (byte) 0xBF}, {(byte) 0xE0, (byte) 0x9F, (byte) 0x80},
            {(byte) 0xE0, (byte) 0xA0, (byte) 0x80}, {(byte) 0xED, (byte) 0x9F, (byte) 0xBF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            {(byte) 0xF0, (byte) 0x8F, (byte) 0xBF, (byte) 0xBF}, {(byte) 0xF0, (byte) 0x90, (byte) 0x80, (byte) 0x80},
            {(byte) 0xF4, (byte) 0x8F, (byte) 0xBF, (byte) 0xBF}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80},
            {(byte) 0xE2, (byte) 0x82}, {(byte) 0x80}, {(byte) 0xC4, (byte) 0xA0, 'x', (byte) 0xFF}, {(byte) 0xEF, (byte) 0xBF, (byte) 0xBF},
        };
        List<byte[]> all = new ArrayList<>(List.of(cases));
        for (int i = 0; i < 200_000; i++) {
            byte[] b = new byte[r.nextInt(1, 7)];
            for (int j = 0; j < b.length; j++) b[j] = (byte) (r.nextInt(3) == 0 ? r.nextInt(0x80) : 0x80 + r.nextInt(0x80));
            all.add(b);
        }
        for (byte[] b : all) {
            boolean expected;
            try {
                strict.reset().decode(java.nio.ByteBuffer.wrap(b));
                expected = true;
            } catch (java.nio.charset.CharacterCodingException e) {
                expected = false;
            }
            assertEquals(expected, Gguf.validUtf8(b, 0, b.length), java.util.HexFormat.of().formatHex(b));
        }
    }
}
