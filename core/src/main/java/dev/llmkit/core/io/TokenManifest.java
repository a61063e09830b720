package dev.llmkit.core.io;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * manifest.json of a token directory (02-tokens): the tokenizer and corpus the shards come from,
 * totals per split and one entry per shard. Written last by {@code llmkit data tokenize}, so its
 * presence marks the directory complete.
 */
public record TokenManifest(String format, int version, TokenizerRef tokenizer, CorpusRef corpus, int tokenWidth,
                            Totals train, Totals val, List<Shard> shards) {
    public record TokenizerRef(String path, String sha256, int vocabSize, int eotId) {}

    public record CorpusRef(String path, String reportSha256) {}

    public record Totals(int shards, long documents, long tokens, long textBytes) {}

    public record Shard(String file, String source, String split, long documents, long tokens, long textBytes) implements java.io.Serializable {}

    /** Reads manifest.json of a token directory. */
    public static TokenManifest read(Path dir) {
        Path f = dir.resolve("manifest.json");
        if (!Files.isRegularFile(f)) {
            throw new ConfigException(dir + ": no manifest.json (not a token directory, or tokenization did not finish)",
                    "run `llmkit data tokenize` (it resumes an unfinished run)");
        }
        TokenManifest m;
        try {
            m = Json.MAPPER.readValue(f.toFile(), TokenManifest.class);
        } catch (IOException e) {
            throw new DataException(f + ": unreadable manifest: " + e.getMessage(), "re-run `llmkit data tokenize --force`", e);
        }
        m.check(f);
        return m;
    }

    /** Every field the readers rely on is present and in range; a damaged manifest is an error naming the field. */
    private void check(Path f) {
        if (tokenizer == null) throw bad(f, "tokenizer", "missing");
        if (tokenizer.sha256() == null || !tokenizer.sha256().matches("[0-9a-f]{64}")) throw bad(f, "tokenizer.sha256", "not a sha256 hex string");
        if (tokenizer.vocabSize() <= 0) throw bad(f, "tokenizer.vocab_size", "must be positive, got " + tokenizer.vocabSize());
        if (tokenWidth != 2 && tokenWidth != 4) throw bad(f, "token_width", "must be 2 or 4, got " + tokenWidth);
        if (shards == null) throw bad(f, "shards", "missing");
        for (int i = 0; i < shards.size(); i++) {
            Shard s = shards.get(i);
            String at = "shards[" + i + "]";
            if (s == null) throw bad(f, at, "missing");
            if (s.file() == null || s.file().isEmpty() || s.file().contains("/") || s.file().contains("\\") || s.file().startsWith(".")) {
                throw bad(f, at + ".file", "must be a file name in this directory, got " + s.file());
            }
            if (!"train".equals(s.split()) && !"val".equals(s.split())) throw bad(f, at + ".split", "must be train or val, got " + s.split());
            if (s.tokens() < 0 || s.documents() < 0 || s.textBytes() < 0) throw bad(f, at, "negative counts");
        }
        for (Totals t : new Totals[] {train, val}) {
            if (t != null && (t.shards() < 0 || t.tokens() < 0 || t.documents() < 0 || t.textBytes() < 0)) throw bad(f, "totals", "negative counts");
        }
    }

    private static DataException bad(Path f, String field, String problem) {
        return new DataException(f + ": " + field + ": " + problem, "the token directory is damaged; re-run `llmkit data tokenize --force`");
    }
}
