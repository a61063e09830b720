package dev.llmkit.data.tokenize;

import dev.llmkit.core.io.TokenManifest;
import dev.llmkit.core.io.TokenManifest.CorpusRef;
import dev.llmkit.core.io.TokenManifest.Shard;
import dev.llmkit.core.io.TokenManifest.TokenizerRef;
import dev.llmkit.core.io.TokenManifest.Totals;

import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.TokenizeConfig;
import dev.llmkit.core.io.TokenShard;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.util.Text;
import dev.llmkit.data.corpus.CorpusTexts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The tokenize stage (02-tokens): every corpus shard {@code train-NNNNN.jsonl.zst} / {@code val-...}
 * becomes a token shard {@code train-NNNNN.tok} / {@code val-...}, each document followed by one
 * {@code <|endoftext|>}. Documents are encoded in parallel batches and written in order. Each shard is
 * committed atomically and recorded in {@code .tokenize-state.json}, so a killed run resumes at the
 * first unfinished shard; manifest.json, written last, marks the directory complete.
 */
public final class Pretokenizer {
    private Pretokenizer() {}

    public static final String STATE = ".tokenize-state.json";
    private static final long BATCH_BYTES = 4L << 20;


    /** The resume record: which inputs the shards come from and which shards are done. */
    record State(String tokenizerSha256, String corpusReportSha256, Map<String, Shard> done) {}

    public record Result(TokenManifest manifest, int shardsResumed, double seconds) {}

    public static Result run(Path corpusDir, Path tokenizerFile, TokenizeConfig cfg, Path out, boolean force, Progress progress) {
        long t0 = System.nanoTime();
        Tokenizer tok = Tokenizer.load(tokenizerFile);
        int eot = tok.eotId();
        if (eot < 0) {
            throw new ConfigException(tokenizerFile + ": the tokenizer has no " + Tokenizer.EOT + " token to separate documents",
                    "train one with `llmkit tokenizer train` (it always adds " + Tokenizer.EOT + ")");
        }
        if (!Files.isRegularFile(corpusDir.resolve("report.json"))) {
            throw new ConfigException(corpusDir + ": not a corpus directory (no report.json)", "pass the output directory of `llmkit data prepare`");
        }
        String reportSha = Text.sha256(corpusDir.resolve("report.json"));
        CorpusTexts corpus = CorpusTexts.open(List.of(corpusDir), List.of());
        State state = prepareOut(out, force, tok.sha256(), reportSha);

        // 1. Tokenize shard by shard, skipping those a previous run finished.
        List<Path> sources = new ArrayList<>(corpus.train().files());
        sources.addAll(corpus.val().files());
        long totalBytes = Math.max(0, corpus.train().textBytes()) + Math.max(0, corpus.val().textBytes());
        progress.start("tokenize", totalBytes, "B");
        int threads = cfg.threads() > 0 ? cfg.threads() : Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tokenize");
            t.setDaemon(true);
            return t;
        });
        int resumed = 0;
        long doneBytes = 0;
        List<Shard> shards = new ArrayList<>();
        try {
            for (Path src : sources) {
                String name = src.getFileName().toString().replace(".jsonl.zst", ".tok");
                Shard s = state.done().get(name);
                if (s != null && Files.isRegularFile(out.resolve(name)) && headerMatches(out.resolve(name), tok, s)) {
                    resumed++;
                } else {
                    s = tokenizeShard(src, out.resolve(name), tok, eot, threads, pool, progress, doneBytes);
                    state.done().put(name, s);
                    Json.write(out.resolve(STATE), state);
                }
                shards.add(s);
                doneBytes += s.textBytes();
                progress.update(doneBytes);
            }
        } finally {
            pool.shutdownNow();
        }

        // 2. The manifest marks the directory complete.
        TokenManifest m = manifest(tokenizerFile.toString(), tok, corpusDir.toString(), reportSha, shards);
        Json.write(out.resolve("provenance.json"), provenance(Provenance.InputRef.of(corpusDir.resolve("report.json"), reportSha),
                Provenance.InputRef.of(tokenizerFile, tok.sha256()), cfg));
        Json.write(out.resolve("manifest.json"), m);
        try {
            Files.deleteIfExists(out.resolve(STATE));
        } catch (IOException e) {
            throw new StorageException(out.resolve(STATE) + ": cannot delete: " + e.getMessage(), null, e);
        }
        return new Result(m, resumed, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Encodes one corpus shard into the token shard {@code target} (committed atomically), each document
     * followed by {@code <|endoftext|>}: the unit of work the Spark engine spreads over its executors.
     * {@code src} keeps its corpus name ({@code train-NNNNN.jsonl.zst} or {@code val-...}): it names the split.
     */
    public static Shard tokenizeShard(Path src, Path target, Tokenizer tok, int threads) {
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tokenize");
            t.setDaemon(true);
            return t;
        });
        try {
            return tokenizeShard(src, target, tok, tok.eotId(), threads, pool, Progress.NONE, 0);
        } finally {
            pool.shutdownNow();
        }
    }

    /** manifest.json of a token directory whose shards, in order, are {@code shards}. */
    public static TokenManifest manifest(String tokenizerName, Tokenizer tok, String corpusName, String reportSha, List<Shard> shards) {
        return new TokenManifest("llmkit-tokens", 1,
                new TokenizerRef(tokenizerName, tok.sha256(), tok.vocabSize(), tok.eotId()),
                new CorpusRef(corpusName, reportSha), TokenShard.widthFor(tok.vocabSize()),
                totals(shards, "train"), totals(shards, "val"), shards);
    }

    /** provenance.json of a token directory. */
    public static Provenance provenance(Provenance.InputRef report, Provenance.InputRef tokenizer, TokenizeConfig cfg) {
        return new Provenance("data.tokenize", Provenance.versions(Map.of()), List.of(report, tokenizer),
                cfg, ConfigLoader.sha256(Json.MAPPER.valueToTree(cfg)));
    }

    private static Shard tokenizeShard(Path src, Path target, Tokenizer tok, int eot, int threads, ExecutorService pool,
                                       Progress progress, long doneBefore) {
        String split = src.getFileName().toString().startsWith("val-") ? "val" : "train";
        Iterator<String> docs = new CorpusTexts.Split(List.of(src), -1, true).iterator();
        long documents = 0, textBytes = 0;
        int[] eotArray = {eot};
        try (TokenShard.Writer w = new TokenShard.Writer(target, tok.vocabSize(), tok.sha256())) {
            Future<int[][]> pending = null;
            while (true) {
                // Read the next batch while the previous one is being encoded.
                List<String> batch = new ArrayList<>();
                long bytes = 0;
                while (bytes < BATCH_BYTES && docs.hasNext()) {
                    String s = docs.next();
                    batch.add(s);
                    bytes += s.length();
                }
                if (pending != null) {
                    for (int[] ids : get(pending)) {
                        w.write(ids, 0, ids.length);
                        w.write(eotArray, 0, 1);
                    }
                }
                if (batch.isEmpty()) break;
                documents += batch.size();
                for (String s : batch) textBytes += Text.utf8Length(s);
                pending = pool.submit(() -> tok.encodeBatch(batch, false, threads));
                progress.update(doneBefore + textBytes);
            }
            TokenShard.Header h = w.commit();
            return new Shard(target.getFileName().toString(), src.getFileName().toString(), split, documents, h.count(), textBytes);
        }
    }

    private static int[][] get(Future<int[][]> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Creates the output directory, or checks that a partial one belongs to the same inputs. */
    private static State prepareOut(Path out, boolean force, String tokSha, String reportSha) {
        try {
            if (Files.exists(out) && force) {
                if (!Files.exists(out.resolve("manifest.json")) && !Files.exists(out.resolve(STATE)) && !isEmpty(out)) {
                    throw new ConfigException(out + " exists and is not a token directory; --force replaces only token directories",
                            "remove it yourself or use another --out");
                }
                AtomicFiles.deleteRecursively(out);
            }
            if (Files.exists(out.resolve("manifest.json"))) {
                throw new ConfigException(out + " already holds complete token shards", "pass --force to replace it, or use another --out");
            }
            if (Files.isRegularFile(out.resolve(STATE))) {
                State s = Json.MAPPER.readValue(out.resolve(STATE).toFile(), State.class);
                if (!s.tokenizerSha256().equals(tokSha) || !s.corpusReportSha256().equals(reportSha)) {
                    throw new ConfigException(out + " holds an unfinished run with another tokenizer or corpus",
                            "pass --force to start over, or use another --out");
                }
                return new State(tokSha, reportSha, new TreeMap<>(s.done()));
            }
            if (Files.exists(out) && !isEmpty(out)) {
                throw new ConfigException(out + " exists and is not a token directory", "use another --out");
            }
            Files.createDirectories(out);
            State s = new State(tokSha, reportSha, new TreeMap<>());
            Json.write(out.resolve(STATE), s);
            return s;
        } catch (IOException e) {
            throw new StorageException(out + ": " + e.getMessage(), "check the output path", e);
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return false;
        try (var list = Files.list(dir)) {
            return list.findAny().isEmpty();
        }
    }

    private static boolean headerMatches(Path file, Tokenizer tok, Shard s) {
        try {
            TokenShard.Header h = TokenShard.header(file);
            return h.tokenizerSha256().equals(tok.sha256()) && h.count() == s.tokens() && h.vocabSize() == tok.vocabSize();
        } catch (DataException | StorageException e) {
            return false;
        }
    }

    private static Totals totals(List<Shard> shards, String split) {
        int n = 0;
        long d = 0, t = 0, b = 0;
        for (Shard s : shards) {
            if (!s.split().equals(split)) continue;
            n++;
            d += s.documents();
            t += s.tokens();
            b += s.textBytes();
        }
        return new Totals(n, d, t, b);
    }

    /** Reads manifest.json of a token directory. */
    public static TokenManifest readManifest(Path dir) {
        return TokenManifest.read(dir);
    }



}
