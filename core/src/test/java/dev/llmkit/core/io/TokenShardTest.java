package dev.llmkit.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.DataException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenShardTest {
    @TempDir
    Path dir;

    static final String SHA = "ab".repeat(32);

    private Path write(String name, int vocab, int[] tokens) {
        Path f = dir.resolve(name);
        try (TokenShard.Writer w = new TokenShard.Writer(f, vocab, SHA)) {
            w.write(tokens, 0, tokens.length);
            w.commit();
        }
        return f;
    }

    @Test
    void roundTripInBothWidths() throws Exception {
        SplittableRandom r = new SplittableRandom(1);
        for (int vocab : new int[] {300, 65535, 65536, 200_000}) {
            int[] t = r.ints(100_003, 0, vocab).toArray();
            Path f = write("s" + vocab + ".tok", vocab, t);
            TokenShard.Header h = TokenShard.header(f);
            assertEquals(vocab <= 65535 ? 2 : 4, h.width());
            assertEquals(t.length, h.count());
            assertEquals(SHA, h.tokenizerSha256());
            assertEquals(h.fileSize(), Files.size(f));
            assertArrayEquals(t, TokenShard.readAll(f));
        }
        assertEquals(0, TokenShard.readAll(write("empty.tok", 10, new int[0])).length);
        try (var s = Files.list(dir)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }

    @Test
    void damagedShardsAreRejectedWithTheReason() throws Exception {
        Path f = write("a.tok", 1000, new int[] {1, 2, 3, 999});
        byte[] good = Files.readAllBytes(f);
        expect(f, java.util.Arrays.copyOf(good, good.length - 1), "file has");
        expect(f, java.util.Arrays.copyOf(good, good.length + 2), "file has");
        expect(f, java.util.Arrays.copyOf(good, 10), "shorter than");
        byte[] magic = good.clone();
        magic[0] = 'X';
        expect(f, magic, "magic");
        byte[] count = good.clone();
        count[24] = 9;
        expect(f, count, "checksum");
        byte[] token = good.clone();
        token[64] = (byte) 0xFF;
        token[65] = (byte) 0xFF;
        Files.write(f, token);
        DataException e = assertThrows(DataException.class, () -> TokenShard.readAll(f));
        assertTrue(e.getMessage().contains("not below the vocab size"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> write("b.tok", 10, new int[] {10}));
    }

    private static void expect(Path f, byte[] bytes, String reason) throws Exception {
        Files.write(f, bytes);
        DataException e = assertThrows(DataException.class, () -> TokenShard.header(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void uncommittedWriterLeavesNothing() throws Exception {
        Path f = dir.resolve("c.tok");
        try (TokenShard.Writer w = new TokenShard.Writer(f, 10, SHA)) {
            w.write(new int[] {1, 2}, 0, 2);
        }
        assertFalse(Files.exists(f));
        try (var s = Files.list(dir)) {
            assertEquals(0, s.count());
        }
        try (RandomAccessFile raf = new RandomAccessFile(dir.resolve("x").toFile(), "rw")) {
            raf.setLength(0);
        }
    }
}
