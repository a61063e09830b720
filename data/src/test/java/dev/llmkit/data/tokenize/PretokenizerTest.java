package dev.llmkit.data.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.ZstdInputStream;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.PrepareConfig;
import dev.llmkit.core.config.SynthConfig;
import dev.llmkit.core.config.TokenizeConfig;
import dev.llmkit.core.io.TokenShard;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import dev.llmkit.data.prepare.Corpus;
import dev.llmkit.data.prepare.InputFiles;
import dev.llmkit.data.synth.Synth;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretokenizerTest {
    @TempDir
    Path dir;

    Path corpus, tokFile;
    Tokenizer tok;

    @BeforeEach
    void corpusAndTokenizer() {
        Synth.generate(new SynthConfig(300, 7, 2, 0.5, 100), dir.resolve("raw"), false, Progress.NONE);
        PrepareConfig pc = new PrepareConfig("text", "NFC", 1 << 20, 0.1, 30_000, 3, 2, false, false, 5);
        corpus = dir.resolve("00-corpus");
        Corpus.prepare(pc, InputFiles.resolve(List.of(dir.resolve("raw/corpus").toString())), corpus, false, Progress.NONE);
        int[][] merges = {{'t', 'h'}, {256, 'e'}, {' ', 257}, {'i', 'n'}, {' ', 'w'}, {'e', 'r'}};
        tokFile = dir.resolve("tokenizer.json");
        tok = TokenizerJson.write(TokenizerJson.build(merges, List.of(Tokenizer.EOT, "<|pad|>"), SplitPattern.GPT2), tokFile);
    }

    @Test
    void shardsVerifyAndDecodeBackToTheCorpus() throws Exception {
        Path out = dir.resolve("02-tokens");
        Pretokenizer.Result r = Pretokenizer.run(corpus, tokFile, new TokenizeConfig(2), out, false, Progress.NONE);
        dev.llmkit.core.io.TokenManifest m = r.manifest();
        assertTrue(m.train().shards() >= 3, "several shards: " + m.train().shards());
        assertTrue(m.val().shards() >= 1);
        assertEquals(tok.sha256(), m.tokenizer().sha256());
        assertEquals(2, m.tokenWidth());
        long docs = 0;
        for (dev.llmkit.core.io.TokenManifest.Shard s : m.shards()) {
            Path f = out.resolve(s.file());
            TokenShard.Header h = TokenShard.header(f);
            assertEquals(s.tokens(), h.count());
            assertEquals(tok.sha256(), h.tokenizerSha256());
            assertEquals(h.fileSize(), Files.size(f));
            int[] ids = TokenShard.readAll(f);
            assertEquals(tok.eotId(), ids[ids.length - 1], "every document ends with <|endoftext|>");
            List<String> decoded = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] == tok.eotId()) {
                    decoded.add(tok.decode(Arrays.copyOfRange(ids, start, i)));
                    start = i + 1;
                }
            }
            assertEquals(texts(corpus.resolve(s.source())), decoded, s.file());
            assertEquals(s.documents(), decoded.size());
            docs += decoded.size();
        }
        assertEquals(m.train().documents() + m.val().documents(), docs);
        assertFalse(Files.exists(out.resolve(Pretokenizer.STATE)));
        assertEquals(m, Pretokenizer.readManifest(out));
        assertThrows(ConfigException.class, () -> Pretokenizer.run(corpus, tokFile, new TokenizeConfig(2), out, false, Progress.NONE));
    }

    @Test
    void aKilledRunResumesAndGivesTheSameShards() throws Exception {
        Path clean = dir.resolve("clean"), out = dir.resolve("resumed");
        Pretokenizer.run(corpus, tokFile, new TokenizeConfig(1), clean, false, Progress.NONE);
        Progress dies = new Progress() {
            int updates;
            @Override public void start(String task, long total, String unit) {}
            @Override public void update(long done) {
                if (++updates == 4) throw new IllegalStateException("killed");
            }
            @Override public void close() {}
        };
        assertThrows(IllegalStateException.class, () -> Pretokenizer.run(corpus, tokFile, new TokenizeConfig(2), out, false, dies));
        assertTrue(Files.exists(out.resolve(Pretokenizer.STATE)));
        assertFalse(Files.exists(out.resolve("manifest.json")));

        // Another tokenizer may not continue this directory.
        Path other = dir.resolve("other.json");
        TokenizerJson.write(TokenizerJson.build(new int[][] {{'a', 'b'}}, List.of(Tokenizer.EOT), SplitPattern.GPT2), other);
        assertThrows(ConfigException.class, () -> Pretokenizer.run(corpus, other, new TokenizeConfig(2), out, false, Progress.NONE));

        Pretokenizer.Result r = Pretokenizer.run(corpus, tokFile, new TokenizeConfig(2), out, false, Progress.NONE);
        assertTrue(r.shardsResumed() >= 1, "resumed " + r.shardsResumed());
        for (dev.llmkit.core.io.TokenManifest.Shard s : r.manifest().shards()) {
            assertArrayEquals(Files.readAllBytes(clean.resolve(s.file())), Files.readAllBytes(out.resolve(s.file())), s.file());
        }
        assertEquals(Json.MAPPER.readTree(clean.resolve("manifest.json").toFile()).path("train"),
                Json.MAPPER.readTree(out.resolve("manifest.json").toFile()).path("train"));
    }

    @Test
    void forceReplacesOnlyTokenDirectories() throws Exception {
        Path notTokens = dir.resolve("precious");
        Files.createDirectories(notTokens);
        Files.writeString(notTokens.resolve("keep.txt"), "x");
        assertThrows(ConfigException.class, () -> Pretokenizer.run(corpus, tokFile, new TokenizeConfig(1), notTokens, true, Progress.NONE));
        assertTrue(Files.exists(notTokens.resolve("keep.txt")));
        Path out = dir.resolve("t");
        Pretokenizer.run(corpus, tokFile, new TokenizeConfig(1), out, false, Progress.NONE);
        Pretokenizer.run(corpus, tokFile, new TokenizeConfig(1), out, true, Progress.NONE);
    }

    @Test
    void documentsBeyondJacksonsDefaultStringLimitAreRead() throws Exception {
        Path big = dir.resolve("big");
        Files.createDirectories(big);
        String text = "word ".repeat(4_300_000);      // 21.5 MB, over Jackson's 20M-character default
        try (var out = new com.github.luben.zstd.ZstdOutputStream(Files.newOutputStream(big.resolve("train-00000.jsonl.zst")))) {
            out.write(("{\"text\":\"" + text + "\"}\n").getBytes(StandardCharsets.UTF_8));
        }
        Files.writeString(big.resolve("report.json"), "{}");
        var it = dev.llmkit.data.corpus.CorpusTexts.open(List.of(big), List.of()).train().iterator();
        assertEquals(text, it.next());
        assertFalse(it.hasNext());
    }

    @Test
    void aTokenizerWithoutEndOfTextIsRefused() {
        Path f = dir.resolve("noeot.json");
        TokenizerJson.write(TokenizerJson.build(new int[0][], List.of("<|pad|>"), SplitPattern.GPT2), f);
        ConfigException e = assertThrows(ConfigException.class,
                () -> Pretokenizer.run(corpus, f, new TokenizeConfig(1), dir.resolve("x"), false, Progress.NONE));
        assertTrue(e.getMessage().contains("<|endoftext|>"));
    }

    private static List<String> texts(Path shard) throws Exception {
        List<String> out = new ArrayList<>();
        try (InputStream in = new ZstdInputStream(Files.newInputStream(shard))) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isEmpty()) out.add(Json.MAPPER.readTree(line).get("text").asText());
            }
        }
        return out;
    }
}
