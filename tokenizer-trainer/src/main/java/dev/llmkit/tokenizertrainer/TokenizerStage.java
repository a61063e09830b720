package dev.llmkit.tokenizertrainer;

import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.TokenizerConfig;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import dev.llmkit.core.util.ProcessInfo;
import dev.llmkit.core.util.Text;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer stage (01-tokenizer): trains, measures tokens per byte on the validation texts, and
 * writes tokenizer.json, report.json and provenance.json into a directory that appears complete or
 * not at all.
 */
public final class TokenizerStage {
    private TokenizerStage() {}

    /** At most this many validation bytes are encoded for the report. */
    public static final long VALIDATION_BYTES = 32L << 20;

    public record Report(String format, int version, int vocabSize, int merges, String pattern, Map<String, Integer> specialTokens,
                         Training training, Validation validation, List<LongToken> longestTokens) {}

    public record Training(long documents, long bytes, boolean sampled, long distinctWords, long pretokens, String stopReason,
                           int threads, double secondsCount, double secondsMerge, double secondsTotal, long peakRssMib) {}

    public record Validation(long documents, long bytes, long tokens, double tokensPerByte, double bytesPerToken) {}

    public record LongToken(int id, int bytes, String text) {}

    public record Output(Tokenizer tokenizer, Report report) {}

    public static Output run(Iterator<String> train, long trainBytes, Iterator<String> val, long valBytes, TokenizerConfig cfg,
                             List<Provenance.InputRef> inputs, Path out, boolean overwrite, Progress progress) {
        Path staging = AtomicFiles.beginDir(out, overwrite);
        try {
            long t0 = System.nanoTime();
            BpeTrainer.Result r;
            try {
                r = BpeTrainer.train(train, cfg, trainBytes, progress);
            } catch (dev.llmkit.core.DataException e) {
                String names = String.join(", ", inputs.stream().map(Provenance.InputRef::path).limit(3).toList()) + (inputs.size() > 3 ? ", ..." : "");
                throw new dev.llmkit.core.DataException(names + ": " + e.getMessage(), e.hint(), e);
            }
            Tokenizer tok = TokenizerJson.write(r.tokenizer(), staging.resolve("tokenizer.json"));
            double total = (System.nanoTime() - t0) / 1e9;
            Validation v = validate(tok, val, valBytes, progress);
            BpeTrainer.Stats s = r.stats();
            Map<String, Integer> special = new LinkedHashMap<>();
            for (Tokenizer.AddedToken a : tok.addedTokens()) special.put(a.content(), a.id());
            Report report = new Report("llmkit-tokenizer-report", 1, tok.vocabSize(), tok.mergeCount(), tok.pattern().id(), special,
                    new Training(s.documents(), s.bytes(), s.truncated(), s.distinctWords(), s.pretokens(), s.stopReason(), s.threads(),
                            round(s.secondsCount()), round(s.secondsMerge()), round(total), ProcessInfo.peakRssMib()),
                    v, longest(tok, 20));
            Json.write(staging.resolve("report.json"), report);
            Json.write(staging.resolve("provenance.json"), new Provenance("tokenizer.train", Provenance.versions(Map.of()), inputs, cfg,
                    ConfigLoader.sha256(Json.MAPPER.valueToTree(cfg))));
            AtomicFiles.commitDir(staging, out);
            return new Output(tok, report);
        } catch (RuntimeException | Error e) {
            AtomicFiles.abortDir(staging);
            throw e;
        }
    }

    /** Tokens per byte over up to {@link #VALIDATION_BYTES} of validation text; null without any. */
    static Validation validate(Tokenizer tok, Iterator<String> val, long valBytes, Progress progress) {
        if (val == null || !val.hasNext()) return null;
        progress.start("validate", valBytes > 0 ? Math.min(valBytes, VALIDATION_BYTES) : VALIDATION_BYTES, "B");
        long docs = 0, bytes = 0, tokens = 0;
        List<String> batch = new ArrayList<>();
        long batchBytes = 0;
        while (val.hasNext() && bytes < VALIDATION_BYTES) {
            String s = val.next();
            batch.add(s);
            long n = Text.utf8Length(s);
            batchBytes += n;
            bytes += n;
            docs++;
            if (batchBytes > (4 << 20) || !val.hasNext() || bytes >= VALIDATION_BYTES) {
                for (int[] ids : tok.encodeBatch(batch, false, 0)) tokens += ids.length;
                batch.clear();
                batchBytes = 0;
                progress.update(bytes);
            }
        }
        return new Validation(docs, bytes, tokens, bytes == 0 ? 0 : round4((double) tokens / bytes),
                tokens == 0 ? 0 : round4((double) bytes / tokens));
    }

    static List<LongToken> longest(Tokenizer tok, int k) {
        List<LongToken> all = new ArrayList<>();
        int firstAdded = tok.addedTokens().isEmpty() ? tok.vocabSize() : tok.addedTokens().get(0).id();
        for (int id = 256; id < firstAdded; id++) {
            byte[] b = tok.tokenBytes(id);
            all.add(new LongToken(id, b.length, new String(b, StandardCharsets.UTF_8)));
        }
        all.sort(Comparator.comparingInt(LongToken::bytes).reversed().thenComparingInt(LongToken::id));
        return all.subList(0, Math.min(k, all.size()));
    }

    private static double round(double s) {
        return Math.round(s * 1000) / 1000.0;
    }

    private static double round4(double s) {
        return Math.round(s * 10000) / 10000.0;
    }
}
