package dev.llmkit.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.PrepareConfig;
import dev.llmkit.core.config.TokenizeConfig;
import dev.llmkit.core.io.TokenShard;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import dev.llmkit.data.engine.DataEngine;
import dev.llmkit.data.prepare.Corpus;
import dev.llmkit.data.prepare.CorpusReport;
import dev.llmkit.data.prepare.InputFiles;
import dev.llmkit.data.tokenize.Pretokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark engine against the single-machine path, which is the reference: the same documents in the
 * same order per split, the same report (but for where the shards are cut), the same provenance, the
 * same errors, the same tokens. One local session for the class, small inputs.
 */
class SparkEngineTest {
    static SparkSession spark;
    static final DataEngine ENGINE = new SparkEngine();
    static final DataEngine.Run RUN = new DataEngine.Run(null, line -> {});

    @TempDir
    Path dir;

    @BeforeAll
    static void session() {
        spark = SparkSession.builder().master("local[2]").appName("llmkit-test")
                .config("spark.ui.enabled", false)
                .config("spark.sql.shuffle.partitions", 2)
                .config("spark.default.parallelism", 2)
                .config("spark.sql.codegen.wholeStage", false)     // adaptive execution stays on, as users run it
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    static PrepareConfig cfg(boolean strict, boolean skipBadFiles) {
        PrepareConfig d = PrepareConfig.defaults();
        // a fifth to validation, small shards (several per partition), two examples per reason (some are left out)
        return new PrepareConfig(d.textField(), d.normalization(), 4096, 0.2, 64 << 10, 3, 2, strict, skipBadFiles, 2, "paragraphs", 1024);
    }

    @Test
    void sharedCorporaGiveTheSameCorpus() throws IOException {
        Path shared = Path.of(System.getProperty("llmkit.shared.dir", "../../shared"), "data");
        assumeTrue(Files.isDirectory(shared), "no ../shared/data");
        List<String> inputs = new ArrayList<>();
        try (Stream<Path> s = Files.list(shared)) {
            s.filter(p -> p.getFileName().toString().startsWith("pretrain_")).sorted().forEach(p -> inputs.add(p.toString()));
        }
        assumeTrue(!inputs.isEmpty());
        PrepareConfig d = PrepareConfig.defaults();
        PrepareConfig c = new PrepareConfig(d.textField(), d.normalization(), d.maxDocBytes(), 0.1, 1 << 20, 3, 2, false, false, 20, "paragraphs", 8192);
        CorpusReport spark = assertSame(c, inputs);
        assertTrue(spark.totals().documentsOut() > 1000, "documents: " + spark.totals().documentsOut());
        assertTrue(spark.totals().train().shards() > 2 && spark.totals().val().documents() > 0);
    }

    @Test
    void hostileCorpusGivesTheSameCorpusReportAndErrors() throws IOException {
        List<String> inputs = hostile(dir.resolve("in"));
        // without --skip-bad-files the truncated file stops both, with the same message
        DataException local = assertThrows(DataException.class,
                () -> Corpus.prepare(cfg(false, false), InputFiles.resolve(inputs), dir.resolve("l0"), false, Progress.NONE));
        DataException remote = assertThrows(DataException.class, () -> ENGINE.prepare(cfg(false, false), inputs, dir.resolve("s0").toString(), false, RUN));
        assertEquals(local.getMessage(), remote.getMessage());
        assertFalse(Files.exists(dir.resolve("s0")), "no output after an error");
        // --strict: the first bad record in input order
        local = assertThrows(DataException.class, () -> Corpus.prepare(cfg(true, false), InputFiles.resolve(inputs), dir.resolve("l1"), false, Progress.NONE));
        remote = assertThrows(DataException.class, () -> ENGINE.prepare(cfg(true, false), inputs, dir.resolve("s1").toString(), false, RUN));
        assertEquals(local.getMessage(), remote.getMessage());
        // skipped and counted
        CorpusReport r = assertSame(cfg(false, true), inputs);
        assertEquals(2, r.totals().filesSkipped(), "the truncated file and the README member: " + r.totals());
        assertTrue(r.totals().duplicates() >= 4 && r.totals().droppedWithFile() > 0, r.totals().toString());
        for (String reason : List.of("invalid_json", "missing_text", "text_not_string", "invalid_utf8", "empty_text", "too_large")) {
            assertTrue(r.totals().skipped().get(reason) > 0, reason);
        }
        assertTrue(r.badRecordsTruncated());
    }

    @Test
    void tokenizeGivesTheSameTokens() throws IOException {
        List<String> inputs = hostile(dir.resolve("in"));
        Path local = dir.resolve("corpus-local");
        Corpus.prepare(cfg(false, true), InputFiles.resolve(inputs), local, false, Progress.NONE);
        Path remote = dir.resolve("corpus-spark");
        ENGINE.prepare(cfg(false, true), inputs, remote.toString(), false, RUN);
        Path tokFile = dir.resolve("tokenizer.json");
        TokenizerJson.write(TokenizerJson.build(new int[][] {{'t', 'h'}, {'e', ' '}, {'a', 'n'}}, List.of(Tokenizer.EOT), SplitPattern.GPT2), tokFile);
        TokenizeConfig tc = new TokenizeConfig(2);
        Pretokenizer.Result a = Pretokenizer.run(local, tokFile, tc, dir.resolve("tok-local"), false, Progress.NONE);
        Pretokenizer.Result b = ENGINE.tokenize(local.toString(), tokFile.toString(), tc, dir.resolve("tok-spark").toString(), false, RUN);
        assertEquals(a.manifest().train(), b.manifest().train());
        assertEquals(a.manifest().val(), b.manifest().val());
        for (var s : a.manifest().shards()) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("tok-local").resolve(s.file())), Files.readAllBytes(dir.resolve("tok-spark").resolve(s.file())), s.file());
        }
        // the Spark corpus (cut into other shards) gives the same tokens in the same order
        Pretokenizer.Result c = ENGINE.tokenize(remote.toString(), tokFile.toString(), tc, dir.resolve("tok-spark2").toString(), false, RUN);
        for (String split : List.of("train", "val")) {
            assertArrayEquals(tokens(dir.resolve("tok-local"), a, split), tokens(dir.resolve("tok-spark2"), c, split), split);
        }
    }

    @Test
    void failedTokenizeResumesWithTheShardsItFinished() throws IOException {
        PrepareConfig d = cfg(false, true);
        PrepareConfig small = new PrepareConfig(d.textField(), d.normalization(), d.maxDocBytes(), d.valFraction(), 8 << 10, 3, 2, false, true, 2, "paragraphs", 1024);
        Path corpus = dir.resolve("corpus");
        Corpus.prepare(small, InputFiles.resolve(hostile(dir.resolve("in"))), corpus, false, Progress.NONE);
        Path tokFile = dir.resolve("tokenizer.json");
        TokenizerJson.write(TokenizerJson.build(new int[][] {{'t', 'h'}}, List.of(Tokenizer.EOT), SplitPattern.GPT2), tokFile);
        TokenizeConfig tc = new TokenizeConfig(1);
        Pretokenizer.Result reference = Pretokenizer.run(corpus, tokFile, tc, dir.resolve("tok-local"), false, Progress.NONE);
        assertTrue(reference.manifest().shards().size() >= 3);
        // the last shard (val) is damaged: the run fails after the train shards are done
        Path last = corpus.resolve("val-00000.jsonl.zst");
        byte[] good = Files.readAllBytes(last);
        Files.write(last, Arrays.copyOf(good, good.length / 2));
        String out = dir.resolve("tok").toString();
        assertThrows(dev.llmkit.core.LlmkitException.class, () -> ENGINE.tokenize(corpus.toString(), tokFile.toString(), tc, out, false, RUN));
        assertFalse(Files.exists(dir.resolve("tok")));
        Files.write(last, good);
        Pretokenizer.Result r = ENGINE.tokenize(corpus.toString(), tokFile.toString(), tc, out, false, RUN);
        assertTrue(r.shardsResumed() >= 1, "resumed " + r.shardsResumed());
        assertEquals(reference.manifest().shards(), r.manifest().shards());
        for (var s : reference.manifest().shards()) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("tok-local").resolve(s.file())), Files.readAllBytes(dir.resolve("tok").resolve(s.file())), s.file());
        }
        try (Stream<Path> s = Files.list(dir.resolve("tok"))) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList(), "no resume records left");
        }
    }

    @Test
    void parquetRowsAreRecords() throws IOException {
        StructType schema = new StructType().add("id", DataTypes.StringType).add("text", DataTypes.StringType).add("score", DataTypes.DoubleType);
        List<org.apache.spark.sql.Row> rows = List.of(
                RowFactory.create("a", "The first Parquet document.", 0.5),
                RowFactory.create("b", null, 0.1),
                RowFactory.create("c", "The first Parquet document.", 0.7),
                RowFactory.create("d", "  ", 0.2),
                RowFactory.create("e", "Caf\u00e9 and more text.", 0.9));
        Path pq = dir.resolve("pq");
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(pq.toString());
        Path out = dir.resolve("out");
        CorpusReport r = ENGINE.prepare(cfg(false, false), List.of(pq.toUri().toString()), out.toString(), false, RUN);
        assertEquals(5, r.totals().documentsIn());
        assertEquals(2, r.totals().documentsOut());
        assertEquals(1, r.totals().duplicates());
        assertEquals(1L, r.totals().skipped().get("missing_text"));
        assertEquals(1L, r.totals().skipped().get("empty_text"));
        assertEquals("parquet", r.sources().get(0).format());
        List<JsonNode> docs = new ArrayList<>();
        for (String split : List.of("train", "val")) {
            for (String line : new String(documents(out, split), StandardCharsets.UTF_8).split("\n")) if (!line.isEmpty()) docs.add(Json.MAPPER.readTree(line));
        }
        docs.sort(java.util.Comparator.comparing(n -> n.path("meta").path("id").asText()));
        assertEquals("a", docs.get(0).path("meta").path("id").asText());
        assertEquals(0.5, docs.get(0).path("meta").path("score").asDouble());
        assertEquals("Caf\u00e9 and more text.", docs.get(1).path("text").asText());
        // the single-machine path names the engine that reads Parquet, and leaves Parquet files out of a directory
        Path file;
        try (Stream<Path> s = Files.list(pq)) {
            file = s.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
        }
        var e = assertThrows(dev.llmkit.core.ConfigException.class, () -> InputFiles.resolve(List.of(file.toString())));
        assertTrue(e.hint().contains("--engine spark"), e.hint());
        Files.writeString(pq.resolve("more.jsonl"), doc("A JSON Lines document beside the Parquet file.") + "\n");
        assertEquals(List.of("more.jsonl"), InputFiles.resolve(List.of(pq.toString())).stream().map(i -> i.path().getFileName().toString()).toList());
        // a damaged Parquet file is a bad file: an error naming it, or skipped whole with --skip-bad-files
        byte[] all = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(all, all.length - 40));
        DataException bad = assertThrows(DataException.class, () -> ENGINE.prepare(cfg(false, false), List.of(pq.toString()), dir.resolve("o2").toString(), false, RUN));
        assertTrue(bad.getMessage().contains(file.getFileName().toString()) && bad.getMessage().contains("Parquet"), bad.getMessage());
        CorpusReport skipped = ENGINE.prepare(cfg(false, true), List.of(pq.toString()), dir.resolve("o3").toString(), false, RUN);
        assertEquals(1, skipped.totals().filesSkipped());
        assertEquals(1, skipped.totals().documentsOut());
        assertEquals(64, skipped.sources().stream().filter(x -> x.format().equals("parquet")).findFirst().orElseThrow().sha256().length());
    }

    @Test
    void submitMainRunsPrepareAndTokenizeWithLlmkitsExitCodes() throws IOException {
        List<String> inputs = hostile(dir.resolve("in"));
        java.io.StringWriter err = new java.io.StringWriter();
        String corpus = dir.resolve("corpus").toUri().toString();
        assertEquals(0, SubmitMain.run(new java.io.PrintWriter(err, true), "prepare", "--input", inputs.get(0), "--out", corpus,
                "--skip-bad-files", "--set", "data.prepare.val_fraction=0.2"), err.toString());
        assertTrue(Files.isRegularFile(dir.resolve("corpus/report.json")));
        Path tokFile = dir.resolve("tokenizer.json");
        TokenizerJson.write(TokenizerJson.build(new int[][] {{'t', 'h'}}, List.of(Tokenizer.EOT), SplitPattern.GPT2), tokFile);
        assertEquals(0, SubmitMain.run(new java.io.PrintWriter(err, true), "tokenize", "--corpus", corpus, "--tokenizer", tokFile.toString(),
                "--out", dir.resolve("tokens").toString()), err.toString());
        assertTrue(Files.isRegularFile(dir.resolve("tokens/manifest.json")));
        // the truncated file without --skip-bad-files: bad data, 3; an input that is not there: usage, 2
        err.getBuffer().setLength(0);
        assertEquals(3, SubmitMain.run(new java.io.PrintWriter(err, true), "prepare", "--input", inputs.get(0), "--out", dir.resolve("c2").toString()));
        assertTrue(err.toString().contains("d.jsonl.zst: truncated") && err.toString().contains("hint: "), err.toString());
        assertEquals(2, SubmitMain.run(new java.io.PrintWriter(err, true), "prepare", "--input", dir.resolve("nothing").toString(), "--out", dir.resolve("c3").toString()));
        assertEquals(2, SubmitMain.run(new java.io.PrintWriter(err, true), "prepare", "--no-such-option"));
        // a URI scheme that no file system on the class path serves, unknown to Hadoop or known (s3a without hadoop-aws)
        for (String uri : List.of("nosuchfs://bucket/x.jsonl", "s3a://bucket/x.jsonl")) {
            err.getBuffer().setLength(0);
            assertEquals(2, SubmitMain.run(new java.io.PrintWriter(err, true), "prepare", "--input", uri, "--out", dir.resolve("c4").toString()));
            assertTrue(err.toString().contains(uri.substring(0, uri.indexOf(':'))) && err.toString().contains("hadoop-aws"), err.toString());
        }
        // tokenize --force replaces a token directory only
        err.getBuffer().setLength(0);
        assertEquals(2, SubmitMain.run(new java.io.PrintWriter(err, true), "tokenize", "--corpus", corpus, "--tokenizer", tokFile.toString(),
                "--out", dir.resolve("in").toString(), "--force"));
        assertTrue(err.toString().contains("is not a token directory"), err.toString());
        assertEquals(2, SubmitMain.run(new java.io.PrintWriter(err, true), "tokenize", "--corpus", corpus, "--tokenizer", tokFile.toString(),
                "--out", dir.resolve("tokens").toString()));
        assertTrue(err.toString().contains("already holds complete token shards"), err.toString());
        assertEquals(0, SubmitMain.run(new java.io.PrintWriter(err, true), "tokenize", "--corpus", corpus, "--tokenizer", tokFile.toString(),
                "--out", dir.resolve("tokens").toString(), "--force"), err.toString());
    }

    /** Prepares {@code inputs} both ways and checks that they agree; returns the Spark run's report. */
    private CorpusReport assertSame(PrepareConfig c, List<String> inputs) throws IOException {
        Path local = dir.resolve("local-" + System.nanoTime());
        Path remote = dir.resolve("spark-" + System.nanoTime());
        CorpusReport a = Corpus.prepare(c, InputFiles.resolve(inputs), local, false, Progress.NONE).report();
        CorpusReport b = ENGINE.prepare(c, inputs, remote.toString(), false, RUN);
        for (String split : List.of("train", "val")) {
            byte[] x = documents(local, split);
            byte[] y = documents(remote, split);
            assertEquals(new String(x, StandardCharsets.UTF_8).lines().count(), new String(y, StandardCharsets.UTF_8).lines().count(), split);
            assertArrayEquals(x, y, split + ": the same documents in the same order");
        }
        assertEquals(withoutShards(local), withoutShards(remote));
        assertEquals(Json.MAPPER.readTree(local.resolve("provenance.json").toFile()), Json.MAPPER.readTree(remote.resolve("provenance.json").toFile()));
        assertEquals(a.totals().documentsOut(), b.totals().documentsOut());
        try (Stream<Path> s = Files.list(remote)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".") || n.contains("-p0")).toList(), "no side files");
        }
        return b;
    }

    /** report.json without where the shards are cut (the list of shards and their count per split). */
    private static JsonNode withoutShards(Path corpus) throws IOException {
        ObjectNode r = (ObjectNode) Json.MAPPER.readTree(corpus.resolve("report.json").toFile());
        r.remove("shards");
        ((ObjectNode) r.path("totals").path("train")).remove("shards");
        ((ObjectNode) r.path("totals").path("val")).remove("shards");
        return r;
    }

    /** The split's documents: its shards decompressed, in order. */
    static byte[] documents(Path corpus, String split) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        List<Path> shards;
        try (Stream<Path> s = Files.list(corpus)) {
            shards = s.filter(p -> p.getFileName().toString().startsWith(split + "-")).sorted().toList();
        }
        for (Path p : shards) {
            try (InputStream in = new ZstdInputStream(Files.newInputStream(p))) {
                in.transferTo(all);
            }
        }
        return all.toByteArray();
    }

    private static int[] tokens(Path dir, Pretokenizer.Result r, String split) {
        List<int[]> parts = new ArrayList<>();
        for (var s : r.manifest().shards()) if (s.split().equals(split)) parts.add(TokenShard.readAll(dir.resolve(s.file())));
        return parts.stream().flatMapToInt(Arrays::stream).toArray();
    }

    /**
     * A corpus with every kind of trouble: bad JSON, a missing or non-string text, invalid UTF-8, empty
     * text, an oversized line, blank lines, duplicates within and across files and formats, a truncated
     * .zst, a .txt file, and a tar.gz archive with a member of a type llmkit does not read.
     */
    static List<String> hostile(Path in) throws IOException {
        Files.createDirectories(in);
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < 400; i++) docs.add(doc("Document number " + i + " tells of " + "word".repeat(1 + i % 7) + " things."));
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        for (int i = 0; i < 200; i++) line(a, docs.get(i));
        line(a, "{\"text\": \"unclosed");
        line(a, "{\"meta\": {}}");
        line(a, "{\"text\": 42}");
        a.writeBytes("{\"text\":\"bad \u00ff".getBytes(StandardCharsets.ISO_8859_1));
        line(a, "\"}");
        line(a, "{\"text\": \"   \"}");
        line(a, "");
        line(a, doc("x".repeat(5000)));
        line(a, "[1, 2]");
        line(a, "not JSON at all");                   // a third invalid_json: more than max_bad_examples
        line(a, docs.get(3));                          // a duplicate within the file
        Files.write(in.resolve("a.jsonl"), a.toByteArray());
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 150; i < 300; i++) line(b, docs.get(i));          // 50 duplicates of a.jsonl
        write(in.resolve("b.jsonl.zst"), b.toByteArray());
        ByteArrayOutputStream c = new ByteArrayOutputStream();
        for (int i = 280; i < 400; i++) line(c, docs.get(i));
        write(in.resolve("c.jsonl.gz"), c.toByteArray());
        ByteArrayOutputStream d = new ByteArrayOutputStream();
        // over one 4 MiB batch, so that records are read before the damage and dropped with the file
        for (int i = 0; i < 60_000; i++) line(d, doc("Truncated file line " + i + " with some filler text to make it long enough."));
        Path dz = write(in.resolve("d.jsonl.zst"), d.toByteArray());
        byte[] dzb = Files.readAllBytes(dz);
        Files.write(dz, Arrays.copyOf(dzb, dzb.length - 200));
        Files.writeString(in.resolve("e.txt"), "A plain text paragraph.\nIts second line.\n\nAnother paragraph, long enough to matter.\n\n\n" + "Line ".repeat(400) + "\n");
        try (OutputStream raw = Files.newOutputStream(in.resolve("f.tar.gz"));
             TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(raw))) {
            member(tar, "part/one.jsonl", (docs.get(10) + "\n" + doc("Only in the archive.") + "\n").getBytes(StandardCharsets.UTF_8));
            member(tar, "part/README", "not data".getBytes(StandardCharsets.UTF_8));
            member(tar, "part/two.txt", "Text inside an archive.\n".getBytes(StandardCharsets.UTF_8));
        }
        return List.of(in.toString());
    }

    private static void member(TarArchiveOutputStream tar, String name, byte[] body) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(body.length);
        tar.putArchiveEntry(e);
        tar.write(body);
        tar.closeArchiveEntry();
    }

    private static String doc(String text) {
        return "{\"text\":" + Json.MAPPER.valueToTree(text).toString() + ",\"meta\":{\"n\":1}}";
    }

    private static void line(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        out.write('\n');
    }

    private static Path write(Path file, byte[] body) throws IOException {
        String n = file.getFileName().toString();
        try (OutputStream raw = Files.newOutputStream(file);
             OutputStream out = n.endsWith(".zst") ? new ZstdOutputStream(raw, 3) : n.endsWith(".gz") ? new GZIPOutputStream(raw) : raw) {
            out.write(body);
        }
        return file;
    }
}
