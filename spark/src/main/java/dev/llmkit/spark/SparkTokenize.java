package dev.llmkit.spark;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.config.TokenizeConfig;
import dev.llmkit.core.io.TokenManifest;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.data.tokenize.Pretokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * {@code data tokenize --engine spark}: one task per corpus shard encodes it with
 * {@link Pretokenizer#tokenizeShard} (the single-machine code) into the token shard of the same name,
 * so the tokens are the single-machine ones; the driver writes manifest.json and provenance.json and
 * commits the directory. Each task copies its corpus shard to local disk, encodes it, and copies the
 * token shard to the output's staging directory ({@code .NAME.partial}). A run that was killed or failed
 * leaves its finished shards there, and the next run with the same tokenizer and corpus keeps them.
 */
final class SparkTokenize {
    private SparkTokenize() {}

    static Pretokenizer.Result run(SparkSession spark, String corpus, String tokenizer, TokenizeConfig cfg, String out, boolean overwrite,
                                   Consumer<String> log) {
        long t0 = System.nanoTime();
        HadoopConf conf = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        byte[] tokJson = readAll(tokenizer, conf);
        Tokenizer tok = load(tokJson);
        if (tok.eotId() < 0) {
            throw new ConfigException(tokenizer + ": the tokenizer has no " + Tokenizer.EOT + " token to separate documents",
                    "train one with `llmkit tokenizer train` (it always adds " + Tokenizer.EOT + ")");
        }
        Path dir = new Path(corpus);
        List<String> shards = new ArrayList<>();
        byte[] report;
        try {
            FileSystem fs = conf.fs(dir);
            Path reportPath = new Path(dir, "report.json");
            if (!fs.exists(reportPath)) {
                throw new ConfigException(corpus + ": not a corpus directory (no report.json)", "pass the output directory of `llmkit data prepare`");
            }
            report = readAll(reportPath.toString(), conf);
            List<FileStatus> list = new ArrayList<>(List.of(fs.listStatus(dir)));
            list.sort(Comparator.comparing(f -> f.getPath().getName()));
            for (String prefix : List.of("train-", "val-")) {
                for (FileStatus f : list) {
                    String n = f.getPath().getName();
                    if (n.startsWith(prefix) && n.endsWith(".jsonl.zst")) shards.add(f.getPath().toUri().toString());
                }
            }
        } catch (IOException e) {
            throw new StorageException("cannot list " + corpus + ": " + e.getMessage(), "check the URI and permissions", e);
        }
        String reportSha = dev.llmkit.core.util.Text.sha256(report);
        // a killed run's finished shards are kept when the tokenizer and the corpus are the same
        String state = "{\"tokenizer_sha256\":\"" + tok.sha256() + "\",\"corpus_report_sha256\":\"" + reportSha + "\"}\n";
        checkOut(out, overwrite, conf);
        OutDir outDir = OutDir.begin(out, true, conf.get(), new String[] {Pretokenizer.STATE, state}, !overwrite);
        // no clean-up on failure: the finished shards stay in the staging directory for the next run
        log.accept("spark: tokenizing " + shards.size() + " corpus shard(s) on " + spark.sparkContext().master());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String staging = outDir.staging.toUri().toString();
        int threads = cfg.threads() > 0 ? cfg.threads() : 1;
        jsc.setCallSite("llmkit tokenize: encode corpus shards");
        List<Encoded> encoded = jsc.parallelize(shards, Math.max(1, shards.size()))
                .map(uri -> encode(uri, staging, tokJson, conf, threads))
                .collect();
        jsc.clearCallSite();
        List<TokenManifest.Shard> done = encoded.stream().map(Encoded::shard).toList();
        int resumed = (int) encoded.stream().filter(Encoded::resumed).count();
        if (resumed > 0) log.accept("spark: " + resumed + " shard(s) kept from an earlier run");
        outDir.deleteHidden();
        TokenManifest m = Pretokenizer.manifest(tokenizer, tok, corpus, reportSha, done);
        outDir.writeJson("provenance.json", Pretokenizer.provenance(new Provenance.InputRef(new Path(dir, "report.json").toString(), report.length, reportSha),
                new Provenance.InputRef(tokenizer, tokJson.length, tok.sha256()), cfg));
        outDir.writeJson("manifest.json", m);
        outDir.commit();
        return new Pretokenizer.Result(m, resumed, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The rules of the single-machine path for an existing --out: complete token shards are replaced only
     * with --force, and --force replaces only a token directory (or an empty one).
     */
    private static void checkOut(String out, boolean force, HadoopConf conf) {
        Path p = new Path(out);
        try {
            FileSystem fs = conf.fs(p);
            if (!fs.exists(p)) return;
            boolean empty = fs.getFileStatus(p).isDirectory() && fs.listStatus(p).length == 0;
            if (fs.exists(new Path(p, "manifest.json"))) {
                if (!force) throw new ConfigException(out + " already holds complete token shards", "pass --force to replace it, or use another --out");
            } else if (!empty) {
                throw new ConfigException(out + " exists and is not a token directory", force ? "remove it yourself or use another --out" : "use another --out");
            }
        } catch (IOException e) {
            throw new StorageException("cannot read " + out + ": " + e.getMessage(), "check the path and permissions", e);
        }
    }

    /** A token shard and whether an earlier run had finished it. */
    record Encoded(TokenManifest.Shard shard, boolean resumed) implements java.io.Serializable {}

    /**
     * On an executor: one corpus shard to its token shard in the staging directory, then a hidden record
     * of it ({@code .NAME.json}), written last: a shard with its record was finished by an earlier run.
     */
    private static Encoded encode(String uri, String staging, byte[] tokJson, HadoopConf conf, int threads) throws IOException {
        Path src = new Path(java.net.URI.create(uri));
        String name = src.getName().replace(".jsonl.zst", ".tok");
        Path dst = new Path(new Path(java.net.URI.create(staging)), name);
        Path record = new Path(dst.getParent(), "." + name + ".json");
        FileSystem fs = conf.fs(dst);
        if (fs.exists(record) && fs.exists(dst)) {
            try (InputStream in = fs.open(record)) {
                TokenManifest.Shard s = dev.llmkit.core.Json.MAPPER.readValue(in, TokenManifest.Shard.class);
                Tokenizer tok = TOKENIZERS.get(tokJson);
                var header = new dev.llmkit.core.io.TokenShard.Header(dev.llmkit.core.io.TokenShard.widthFor(tok.vocabSize()), tok.vocabSize(), s.tokens(), tok.sha256());
                if (fs.getFileStatus(dst).getLen() == header.fileSize()) {
                    return new Encoded(s, true);
                }
            }
        }
        java.nio.file.Path local = Files.createTempDirectory("llmkit-tokenize-");
        try {
            java.nio.file.Path in = local.resolve(src.getName());
            try (InputStream s = conf.fs(src).open(src)) {
                Files.copy(s, in);
            }
            Tokenizer tok = TOKENIZERS.get(tokJson);
            TokenManifest.Shard shard;
            try {
                shard = Pretokenizer.tokenizeShard(in, local.resolve(name), tok, threads);
            } catch (dev.llmkit.core.LlmkitException e) {
                throw SparkPrepare.renamed(e, in.toString(), uri);       // name the corpus shard, not the local copy
            }
            // into the attempt's own directory, then renamed into place whole: a speculative or retried attempt
            // never leaves a shard half written under its final name; the record is written after the shard
            Path attempt = new Path(dst.getParent(), "_attempt-" + (org.apache.spark.TaskContext.get() == null ? 0 : org.apache.spark.TaskContext.get().taskAttemptId()));
            Path tmp = new Path(attempt, name);
            fs.copyFromLocalFile(true, true, new Path(local.resolve(name).toUri()), tmp);
            place(fs, tmp, dst);
            Path tmpRecord = new Path(attempt, "." + name + ".json");
            try (java.io.OutputStream o = fs.create(tmpRecord, true)) {
                o.write(dev.llmkit.core.Json.bytes(shard));
            }
            place(fs, tmpRecord, record);
            fs.delete(attempt, true);
            return new Encoded(shard, false);
        } finally {
            dev.llmkit.core.AtomicFiles.deleteRecursively(local);
        }
    }

    /** Renames {@code from} to {@code to}; when another attempt put the same file there first, keeps that one. */
    private static void place(FileSystem fs, Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            if (!fs.exists(to)) throw new IOException("cannot rename " + from + " to " + to);
            fs.delete(from, false);
        }
    }

    /** One tokenizer per executor JVM and tokenizer.json (loading one takes a while). */
    private static final class TOKENIZERS {
        private static byte[] key;
        private static Tokenizer value;

        static synchronized Tokenizer get(byte[] json) {
            if (value == null || !java.util.Arrays.equals(key, json)) {
                value = load(json);
                key = json;
            }
            return value;
        }
    }

    private static Tokenizer load(byte[] json) {
        try {
            java.nio.file.Path tmp = Files.createTempFile("llmkit-tokenizer-", ".json");
            try {
                Files.write(tmp, json);
                return Tokenizer.load(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new StorageException("cannot write a temporary file: " + e.getMessage(), "check the temporary directory", e);
        }
    }

    private static byte[] readAll(String file, HadoopConf conf) {
        Path p = new Path(file);
        try (InputStream in = conf.fs(p).open(p)) {
            return in.readAllBytes();
        } catch (java.io.FileNotFoundException e) {
            throw new ConfigException(file + ": no such file", "check the path");
        } catch (IOException e) {
            throw new StorageException("cannot read " + file + ": " + e.getMessage(), "check the URI and permissions", e);
        }
    }
}
