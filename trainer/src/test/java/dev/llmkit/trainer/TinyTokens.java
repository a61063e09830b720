package dev.llmkit.trainer;

import dev.llmkit.core.Json;
import dev.llmkit.core.io.TokenManifest;
import dev.llmkit.core.io.TokenShard;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** A byte-level tokenizer and a 02-tokens directory of simple patterned text, for trainer tests. */
final class TinyTokens {
    private TinyTokens() {}

    record Run(Path tokens, Path tokenizer) {}

    static Run write(Path dir, int documents) {
        Path tokJson = dir.resolve("tokenizer.json");
        Tokenizer tok = TokenizerJson.write(TokenizerJson.build(new int[0][], List.of(Tokenizer.EOT), SplitPattern.GPT2), tokJson);
        tok = Tokenizer.load(tokJson);
        Path out = dir.resolve("02-tokens");
        SplittableRandom r = new SplittableRandom(3);
        String[] names = {"Ada", "Bo", "Cy", "Di"}, verbs = {"likes", "sees", "has"}, things = {"tea", "a cat", "red boats"};
        List<TokenManifest.Shard> shards = new ArrayList<>();
        for (String split : new String[] {"train", "val"}) {
            String file = split + "-00000.tok";
            long docs = split.equals("train") ? documents : Math.max(2, documents / 10), count;
            try (TokenShard.Writer w = new TokenShard.Writer(dir.resolve(file), tok.vocabSize(), tok.sha256())) {
                for (int d = 0; d < docs; d++) {
                    StringBuilder sb = new StringBuilder();
                    for (int s = 0; s < 6; s++) {
                        sb.append(names[r.nextInt(4)]).append(' ').append(verbs[r.nextInt(3)]).append(' ').append(things[r.nextInt(3)]).append(". ");
                    }
                    int[] ids = tok.encode(sb.toString());
                    w.write(ids, 0, ids.length);
                    w.write(new int[] {tok.eotId()}, 0, 1);
                }
                count = w.commit().count();
            }
            shards.add(new TokenManifest.Shard(file, "synthetic", split, docs, count, count));
        }
        try {
            java.nio.file.Files.createDirectories(out);
            for (TokenManifest.Shard s : shards) java.nio.file.Files.move(dir.resolve(s.file()), out.resolve(s.file()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        TokenManifest.Totals train = new TokenManifest.Totals(1, documents, shards.get(0).tokens(), shards.get(0).textBytes());
        TokenManifest.Totals val = new TokenManifest.Totals(1, shards.get(1).documents(), shards.get(1).tokens(), shards.get(1).textBytes());
        Json.write(out.resolve("manifest.json"), new TokenManifest("llmkit-tokens", 1,
                new TokenManifest.TokenizerRef(tokJson.toString(), tok.sha256(), tok.vocabSize(), tok.eotId()),
                new TokenManifest.CorpusRef("synthetic", "0"), TokenShard.widthFor(tok.vocabSize()), train, val, shards));
        return new Run(out, tokJson);
    }
}
