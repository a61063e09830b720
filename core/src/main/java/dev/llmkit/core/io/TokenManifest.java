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

    public record Shard(String file, String source, String split, long documents, long tokens, long textBytes) {}

    /** Reads manifest.json of a token directory. */
    public static TokenManifest read(Path dir) {
        Path f = dir.resolve("manifest.json");
        if (!Files.isRegularFile(f)) {
            throw new ConfigException(dir + ": no manifest.json (not a token directory, or tokenization did not finish)",
                    "run `llmkit data tokenize` (it resumes an unfinished run)");
        }
        try {
            return Json.MAPPER.readValue(f.toFile(), TokenManifest.class);
        } catch (IOException e) {
            throw new DataException(f + ": unreadable manifest: " + e.getMessage(), "re-run `llmkit data tokenize --force`", e);
        }
    }
}
