package dev.llmkit.trainer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.io.TokenManifest;
import dev.llmkit.core.io.TokenShard;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A token directory whose shards disagree with their manifest or hold out-of-vocabulary tokens is refused before step 1. */
class TokenDataChecksTest {
    @TempDir Path dir;

    /** As pretrain loads a token directory: with the vocabulary size and hash of the model's tokenizer.json. */
    private TokenData load(TinyTokens.Run run) {
        dev.llmkit.core.tokenizer.Tokenizer tok = dev.llmkit.core.tokenizer.Tokenizer.load(run.tokenizer());
        return new TokenData(run.tokens(), tok.vocabSize(), tok.sha256());
    }

    @Test
    void anIntactDirectoryLoads() {
        TinyTokens.Run run = TinyTokens.write(dir, 20);
        assertTrue(load(run).trainTokens() > 0);
    }

    @Test
    void oneOutOfVocabularyTokenDeepInAShardIsFoundBeforeTraining() throws IOException {
        TinyTokens.Run run = TinyTokens.write(dir, 200);
        Path shard = run.tokens().resolve("train-00000.tok");
        TokenShard.Header h = TokenShard.header(shard);
        long at = h.count() - 3;       // near the end, where a short training run would never look
        try (var ch = java.nio.channels.FileChannel.open(shard, java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(h.width()).order(ByteOrder.LITTLE_ENDIAN);
            if (h.width() == 2) b.putShort(0, (short) h.vocabSize());
            else b.putInt(0, h.vocabSize());
            ch.write(b, TokenShard.HEADER + at * h.width());
        }
        DataException e = assertThrows(DataException.class, () -> load(run));
        assertTrue(e.getMessage().contains(shard.toString()) && e.getMessage().contains("token " + at + " is " + h.vocabSize()), e.getMessage());
    }

    @Test
    void aHeaderVocabularyThatDisagreesWithTheManifestIsRefused() throws IOException {
        TinyTokens.Run run = TinyTokens.write(dir, 20);
        Path shard = run.tokens().resolve("val-00000.tok");
        rewriteHeader(shard, 16, 100);       // a smaller vocabulary, with a valid header checksum
        DataException e = assertThrows(DataException.class, () -> load(run));
        assertTrue(e.getMessage().contains(shard.toString()) && e.getMessage().contains("vocabulary of 100"), e.getMessage());
    }

    @Test
    void aManifestCountThatDisagreesWithTheShardIsRefused() throws IOException {
        TinyTokens.Run run = TinyTokens.write(dir, 20);
        Path mf = run.tokens().resolve("manifest.json");
        ObjectNode m = (ObjectNode) Json.MAPPER.readTree(mf.toFile());
        ((ObjectNode) m.withArray("shards").get(0)).put("tokens", 12345);
        Files.writeString(mf, Json.MAPPER.writeValueAsString(m));
        DataException e = assertThrows(DataException.class, () -> load(run));
        assertTrue(e.getMessage().contains("12345") && e.getMessage().contains("manifest.json"), e.getMessage());
    }

    @Test
    void manifestTotalsThatDisagreeWithTheShardsAreRefused() throws IOException {
        TinyTokens.Run run = TinyTokens.write(dir, 20);
        Path mf = run.tokens().resolve("manifest.json");
        ObjectNode m = (ObjectNode) Json.MAPPER.readTree(mf.toFile());
        ((ObjectNode) m.get("train")).put("tokens", 7);
        Files.writeString(mf, Json.MAPPER.writeValueAsString(m));
        DataException e = assertThrows(DataException.class, () -> load(run));
        assertTrue(e.getMessage().contains("train totals"), e.getMessage());
    }

    /**
     * The token-shard part of the hostile-input suite: 600 seeded mutations of a shard (header or body:
     * truncation, random bytes, bit flips, huge numbers) or of manifest.json (bytes, values of the wrong
     * type, edited numbers, removed keys), loaded as pretrain loads them. Each must end in a typed error
     * naming the file or the directory, or in a load whose every token is below the vocabulary and whose
     * token counts are the original's (a flip inside a shard's body can only change token values, which
     * nothing records).
     */
    @Test
    void mutatedShardsAndManifestsFailWithTypedErrorsOrLoadCheckedTokens() throws IOException {
        TinyTokens.Run run = TinyTokens.write(dir, 40);
        Path shard = run.tokens().resolve("train-00000.tok"), mf = run.tokens().resolve("manifest.json");
        byte[] goodShard = Files.readAllBytes(shard), goodManifest = Files.readAllBytes(mf);
        long trainTokens = load(run).trainTokens();
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        int[] outcomes = new int[2];
        for (int i = 0; i < 600; i++) {
            boolean onShard = i % 3 != 2;
            Files.write(shard, goodShard);
            Files.write(mf, goodManifest);
            Path f = onShard ? shard : mf;
            byte[] b = (onShard ? goodShard : goodManifest).clone();
            switch (r.nextInt(onShard ? 4 : 5)) {
                case 0 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
                case 1 -> { for (int k = 0; k < 1 + r.nextInt(6); k++) b[r.nextInt(onShard ? TokenShard.HEADER : b.length)] = (byte) r.nextInt(256); }
                case 2 -> { int p = r.nextInt(b.length); b[p] = (byte) (b[p] ^ (1 << r.nextInt(8))); }
                case 3 -> {
                    int p = r.nextInt(Math.min(b.length, onShard ? TokenShard.HEADER : b.length) - 8);
                    long v = r.nextBoolean() ? -1L : 1L << (8 + r.nextInt(50));
                    for (int k = 0; k < 8; k++) b[p + k] = (byte) (v >>> (8 * k));
                }
                default -> b = mutateManifest(goodManifest, r);
            }
            Files.write(f, b);
            try {
                TokenData d = load(run);
                outcomes[1]++;
                if (onShard) assertTrue(d.trainTokens() == trainTokens, "mutation " + i + ": " + d.trainTokens() + " tokens");
            } catch (dev.llmkit.core.LlmkitException e) {
                assertTrue(e.getMessage().contains(f.getFileName().toString()) || e.getMessage().contains(run.tokens().toString()), "mutation " + i + ": " + e.getMessage());
                outcomes[0]++;
            }
        }
        System.out.printf("hostile token directories: 600 mutations, %d typed errors, %d checked loads%n", outcomes[0], outcomes[1]);
        assertTrue(outcomes[0] > 300, java.util.Arrays.toString(outcomes));
    }

    private static byte[] mutateManifest(byte[] good, java.util.SplittableRandom r) throws IOException {
        ObjectNode m = (ObjectNode) Json.MAPPER.readTree(good);
        ObjectNode target = switch (r.nextInt(4)) {
            case 0 -> m;
            case 1 -> (ObjectNode) m.get("tokenizer");
            case 2 -> (ObjectNode) m.get("train");
            default -> (ObjectNode) m.withArray("shards").get(r.nextInt(m.withArray("shards").size()));
        };
        java.util.List<String> keys = new java.util.ArrayList<>();
        target.fieldNames().forEachRemaining(keys::add);
        String k = keys.get(r.nextInt(keys.size()));
        switch (r.nextInt(4)) {
            case 0 -> target.remove(k);
            case 1 -> target.put(k, "abc");
            case 2 -> target.put(k, target.get(k).isNumber() ? target.get(k).asLong() + 1 + r.nextInt(1000) : -1);
            default -> target.putNull(k);
        }
        return Json.MAPPER.writeValueAsBytes(m);
    }

    /** Sets the int at {@code offset} of a shard's header and recomputes the header checksum. */
    static void rewriteHeader(Path shard, int offset, int value) throws IOException {
        byte[] all = Files.readAllBytes(shard);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(offset, value);
        b.putInt(20, 0);
        CRC32 crc = new CRC32();
        crc.update(all, 0, TokenShard.HEADER);
        b.putInt(20, (int) crc.getValue());
        Files.write(shard, all);
    }
}
