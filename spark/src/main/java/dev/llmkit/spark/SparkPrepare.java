package dev.llmkit.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.not;

import dev.llmkit.core.Json;
import dev.llmkit.core.LlmkitException;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.config.PrepareConfig;
import dev.llmkit.core.util.Lookahead;
import dev.llmkit.data.prepare.CorpusReport;
import dev.llmkit.data.prepare.FileRecords;
import dev.llmkit.data.prepare.FileStage;
import dev.llmkit.data.prepare.ShardWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code data prepare --engine spark}. Three steps, none of which gathers documents on the driver:
 * <ol>
 *   <li>Read: one task per input file runs {@link FileRecords} (the single-machine reader and record
 *       rules) and yields the file's good records with their position (file, member, record index),
 *       dedup key and split, then one row holding the file's tally. The rows are cached.</li>
 *   <li>Merge on the driver: only the tallies (one per file) are collected; {@link FileStage.Merge}
 *       applies --strict and the bad-file rules in input order and names the sources skipped whole.</li>
 *   <li>Dedup and write: the good records of the other sources are shuffled by key and sorted by (key,
 *       position) within each partition, and the first of each key is kept: the smallest position, the
 *       first occurrence in input order (the position travels with the record through the shuffle, so
 *       the order of arrival does not matter). Each kept record then goes to its output part:
 *       the parts cut each split into contiguous runs of input files of about equal bytes (known from the
 *       tallies, so no sampling pass is needed). A shuffle on the part and a sort within each partition by
 *       (part, position) put them in input order; each part is written as its own shards, which the driver
 *       renames into one sequence per split when the job commits.</li>
 * </ol>
 */
final class SparkPrepare {
    private SparkPrepare() {}

    static final StructType ROWS = new StructType()
            .add("file", DataTypes.IntegerType, false)
            .add("member", DataTypes.IntegerType, false)
            .add("seq", DataTypes.LongType, false)
            .add("hi", DataTypes.LongType, false)
            .add("lo", DataTypes.LongType, false)
            .add("val", DataTypes.BooleanType, false)
            .add("json", DataTypes.BinaryType, true)
            .add("text_bytes", DataTypes.IntegerType, false)
            .add("tally", DataTypes.BinaryType, true);

    static CorpusReport run(SparkSession spark, PrepareConfig cfg, List<String> args, String out, boolean overwrite, Consumer<String> log) {
        HadoopConf conf = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        List<SparkInput> inputs = SparkInput.resolve(args, conf.get());
        OutDir dir = OutDir.begin(out, overwrite, conf.get());
        Job job = new Job(spark, cfg, inputs, conf, dir, log);
        boolean ok = false;
        try {
            job.read();
            FileStage.Merge merge = job.merge();
            List<Written> written = job.dedupAndWrite(merge);
            CorpusReport report = job.commit(merge, written, out);
            ok = true;
            return report;
        } finally {
            if (job.parsed != null) job.parsed.unpersist();
            if (!ok) dir.abort();
        }
    }

    /** One run's steps, in order. */
    private static final class Job {
        final SparkSession spark;
        final JavaSparkContext jsc;
        final PrepareConfig cfg;
        final List<SparkInput> inputs;
        final HadoopConf conf;
        final OutDir dir;
        final Consumer<String> log;
        Dataset<Row> parsed;
        long t0, t1;

        Job(SparkSession spark, PrepareConfig cfg, List<SparkInput> inputs, HadoopConf conf, OutDir dir, Consumer<String> log) {
            this.spark = spark;
            this.jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            this.cfg = cfg;
            this.inputs = inputs;
            this.conf = conf;
            this.dir = dir;
            this.log = log;
        }

        /** 1. Every file in a task of its own: its good records, then its tally; cached. */
        void read() {
            t0 = System.nanoTime();
            long onDisk = inputs.stream().mapToLong(SparkInput::size).sum();
            log.accept(String.format(Locale.ROOT, "spark: reading %d input file(s), %.1f MB on disk, on %s", inputs.size(), onDisk / 1048576.0, spark.sparkContext().master()));
            JavaRDD<Row> rows = jsc.parallelize(IntStream.range(0, inputs.size()).boxed().toList(), Math.max(1, inputs.size()))
                    .mapPartitions(new ReadFiles(inputs, conf, json(cfg)));
            parsed = spark.createDataFrame(rows, ROWS).persist();
        }

        /** 2. The tallies, one per file, in input order: --strict, bad files, what is skipped whole. */
        FileStage.Merge merge() {
            FileStage.FileTally[] tallies = new FileStage.FileTally[inputs.size()];
            jsc.setCallSite("llmkit prepare: read input files");          // the stages' names in progress lines and the UI
            for (Row r : parsed.where(col("tally").isNotNull()).select("file", "tally").collectAsList()) {
                tallies[r.getInt(0)] = (FileStage.FileTally) deserialize(r.getAs(1));
            }
            return new FileStage.Merge(cfg, List.of(tallies));
        }

        /** 3. The first occurrence of every key, in input order per split, written as shards part by part. */
        List<Written> dedupAndWrite(FileStage.Merge merge) {
            Dataset<Row> good = parsed.where(col("tally").isNull());
            if (!merge.skippedSources().isEmpty()) {
                Column key = col("file").cast("long").multiply(1L << 32).plus(col("member"));
                good = good.where(not(key.isin(merge.skippedSources().stream().map(s -> (s[0] << 32) + s[1]).toArray())));
            }
            Dataset<Row> firsts = good.select("hi", "lo", "file", "member", "seq", "val", "json", "text_bytes")
                    .repartition(col("hi"), col("lo"))
                    .sortWithinPartitions("hi", "lo", "file", "member", "seq")
                    .mapPartitions(new FirstOfEachKey(), org.apache.spark.sql.Encoders.row(KEPT));
            // output parts: contiguous runs of input files by uncompressed bytes, per split (about one per shard_bytes)
            long[] fileBytes = merge.bytesInPerFile();
            int trainParts = (int) Math.max(jsc.defaultParallelism(), Math.min(100_000, merge.bytesIn() / cfg.shardBytes() + 1));
            int valParts = (int) Math.max(1, Math.ceil(trainParts * cfg.valFraction()));
            int[] trainPart = ranges(fileBytes, trainParts, 0);
            int[] valPart = ranges(fileBytes, valParts, trainParts);
            UserDefinedFunction partOf = functions.udf((UDF2<Integer, Boolean, Integer>) (f, v) -> v ? valPart[f] : trainPart[f], DataTypes.IntegerType);
            t1 = System.nanoTime();
            log.accept(String.format(Locale.ROOT, "spark: read %d documents (%.1f MB) in %.2f s; deduplicating and writing %d part(s)",
                    merge.documentsIn(), merge.bytesIn() / 1048576.0, (t1 - t0) / 1e9, trainParts + valParts));
            jsc.setCallSite("llmkit prepare: deduplicate and write shards");
            try {
                return firsts.withColumn("part", partOf.apply(col("file"), col("val")))
                        .repartition(trainParts + valParts, col("part"))
                        .sortWithinPartitions("part", "file", "member", "seq")
                        .javaRDD()
                        .mapPartitions(new WriteShards(dir.staging.toUri().toString(), conf, cfg.shardBytes(), cfg.zstdLevel()), true)
                        .collect();
            } finally {
                jsc.clearCallSite();
            }
        }

        /** 4. Counts, the shards named in order (part, then shard within the part), the report, and the commit. */
        CorpusReport commit(FileStage.Merge merge, List<Written> written, String out) {
            List<ShardWriter.Shard> staged = new ArrayList<>();
            for (Written w : written) {
                w.counts.forEach((k, v) -> merge.kept((int) (k >>> 32), (int) (long) k, v[0], v[1]));
                staged.addAll(w.shards);
            }
            staged.sort(Comparator.comparing(s -> s.file().substring(s.file().indexOf('/') + 1)));     // by part, then shard
            List<ShardWriter.Shard> train = new ArrayList<>();
            List<ShardWriter.Shard> val = new ArrayList<>();
            for (ShardWriter.Shard s : staged) {
                List<ShardWriter.Shard> split = s.split().equals("val") ? val : train;
                String name = String.format(Locale.ROOT, "%s-%05d.jsonl.zst", s.split(), split.size());
                dir.rename(s.file(), name);         // from the directory of the task attempt that succeeded
                split.add(new ShardWriter.Shard(name, s.split(), s.documents(), s.textBytes(), s.bytes(), s.fileBytes(), s.sha256()));
            }
            CorpusReport report = merge.report(train, val);
            log.accept(String.format(Locale.ROOT, "spark: deduplicated and wrote %d documents in %d shard(s) in %.2f s",
                    report.totals().documentsOut(), train.size() + val.size(), (System.nanoTime() - t1) / 1e9));
            if (report.totals().documentsOut() == 0) throw merge.nothingKept(inputs.size(), report, out);
            dir.deleteHidden();                     // what other attempts of the same tasks wrote
            dir.writeJson("report.json", report);
            dir.writeJson("provenance.json", merge.provenance(inputs.stream().map(i -> i.source(conf, cfg.textField())).toList()));
            dir.commit();
            return report;
        }
    }

    /** {@code e} with {@code from} replaced by {@code to} in its message (a local copy named as the file it copies). */
    static dev.llmkit.core.LlmkitException renamed(dev.llmkit.core.LlmkitException e, String from, String to) {
        String m = e.getMessage().replace(from, to);
        if (e instanceof dev.llmkit.core.DataException) return new dev.llmkit.core.DataException(m, e.hint(), e);
        if (e instanceof StorageException) return new StorageException(m, e.hint(), e);
        if (e instanceof dev.llmkit.core.ConfigException) return new dev.llmkit.core.ConfigException(m, e.hint(), e);
        return e;
    }

    /** For each file, the part ({@code first}..{@code first + parts - 1}) its bytes fall in when cut into {@code parts} even runs. */
    static int[] ranges(long[] fileBytes, int parts, int first) {
        long total = 0;
        for (long b : fileBytes) total += b;
        int[] part = new int[fileBytes.length];
        long before = 0;
        for (int f = 0; f < fileBytes.length; f++) {
            long mid = before + fileBytes[f] / 2;
            part[f] = first + (total == 0 ? 0 : (int) Math.min(parts - 1, (long) ((double) mid / total * parts)));
            before += fileBytes[f];
        }
        return part;
    }

    /** The columns of a kept record, in the order the writer reads them. */
    static final StructType KEPT = new StructType(java.util.stream.Stream.of("file", "member", "seq", "val", "json", "text_bytes")
            .map(n -> ROWS.apply(n)).toArray(org.apache.spark.sql.types.StructField[]::new));

    /** Of rows sorted by (key, position), the first of each key: the first occurrence in input order. */
    private static final class FirstOfEachKey implements org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row> {
        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return new Lookahead<>() {
                private long hi, lo;
                private boolean any;

                @Override
                protected Row advance() {
                    while (rows.hasNext()) {
                        Row r = rows.next();
                        if (any && r.getLong(0) == hi && r.getLong(1) == lo) continue;
                        any = true;
                        hi = r.getLong(0);
                        lo = r.getLong(1);
                        return RowFactory.create(r.getInt(2), r.getInt(3), r.getLong(4), r.getBoolean(5), r.get(6), r.getInt(7));
                    }
                    return null;
                }
            };
        }
    }

    static String json(Object o) {
        try {
            return Json.MAPPER.writeValueAsString(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] serialize(Serializable o) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(b)) {
            out.writeObject(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    static Object deserialize(byte[] b) {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b))) {
            return in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot read a file's tally", e);
        }
    }

    /** Step 1 on an executor: the files of one partition (one file each), their good records and then their tally. */
    private record ReadFiles(List<SparkInput> inputs, HadoopConf conf, String cfgJson)
            implements org.apache.spark.api.java.function.FlatMapFunction<Iterator<Integer>, Row> {
        @Override
        public Iterator<Row> call(Iterator<Integer> files) throws IOException {
            PrepareConfig cfg = Json.MAPPER.readValue(cfgJson, PrepareConfig.class);
            return new Lookahead<>() {
                private int file = -1;
                private FileRecords records;

                @Override
                protected Row advance() {
                    if (records == null) {
                        if (!files.hasNext()) return null;
                        file = files.next();
                        records = FileRecords.open(cfg, inputs.get(file).source(conf, cfg.textField()));
                        FileRecords r = records;
                        TaskContext tc = TaskContext.get();
                        if (tc != null) tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) c -> r.close());
                    }
                    LlmkitException error = null;
                    try {
                        if (records.hasNext()) {
                            FileRecords.Doc d = records.next();
                            return RowFactory.create(file, d.member(), d.seq(), d.hashHi(), d.hashLo(), d.val(), d.json(), d.textBytes(), null);
                        }
                    } catch (LlmkitException e) {
                        error = e;              // raised by the merge in input order
                    }
                    Row tally = RowFactory.create(file, 0, 0L, 0L, 0L, false, null, 0, serialize(new FileStage.FileTally(records, error)));
                    records.close();
                    records = null;
                    return tally;
                }
            };
        }
    }

    /** What one partition wrote: its shards (staging names) and the documents and text bytes kept per source. */
    record Written(List<ShardWriter.Shard> shards, Map<Long, long[]> counts) implements Serializable {}

    /**
     * Step 3 on an executor: one partition's records, sorted by (part, position), into shards named after
     * their part ({@code train-pPPPPPP-KKKKK.jsonl.zst}) in the attempt's own directory; a partition may hold
     * several parts.
     */
    private record WriteShards(String staging, HadoopConf conf, long shardBytes, int level)
            implements org.apache.spark.api.java.function.FlatMapFunction<Iterator<Row>, Written> {
        @Override
        public Iterator<Written> call(Iterator<Row> rows) throws IOException {
            java.nio.file.Path local = Files.createTempDirectory("llmkit-shards-");
            Map<Long, long[]> counts = new HashMap<>();
            List<ShardWriter.Shard> shards = new ArrayList<>();        // names within the staging directory
            ShardWriter w = null;
            int part = -1;
            try {
                try {
                    while (rows.hasNext()) {
                        Row r = rows.next();          // file, member, seq, val, json, text_bytes, part
                        if (r.getInt(6) != part) {
                            if (w != null) shards.addAll(w.finish());
                            part = r.getInt(6);
                            String split = r.getBoolean(3) ? "val" : "train";
                            w = new ShardWriter(local, split, String.format(Locale.ROOT, "%s-p%06d", split, part), shardBytes, level);
                        }
                        byte[] json = r.getAs(4);
                        int text = r.getInt(5);
                        w.write(json, 0, json.length, text);
                        long[] c = counts.computeIfAbsent(((long) r.getInt(0) << 32) | r.getInt(1), k -> new long[2]);
                        c[0]++;
                        c[1] += text;
                    }
                    if (w != null) shards.addAll(w.finish());
                } finally {
                    if (w != null) w.close();
                }
                // each attempt of the task writes in a directory of its own: a speculative or retried attempt
                // never writes over the files of the one whose result the driver takes
                String attempt = "_attempt-" + (TaskContext.get() == null ? 0 : TaskContext.get().taskAttemptId());
                Path dir = new Path(new Path(java.net.URI.create(staging)), attempt);
                var fs = conf.fs(dir);
                List<ShardWriter.Shard> named = new ArrayList<>();
                for (ShardWriter.Shard s : shards) {
                    fs.copyFromLocalFile(true, true, new Path(local.resolve(s.file()).toUri()), new Path(dir, s.file()));
                    named.add(new ShardWriter.Shard(attempt + "/" + s.file(), s.split(), s.documents(), s.textBytes(), s.bytes(), s.fileBytes(), s.sha256()));
                }
                shards = named;
            } catch (IOException e) {
                throw new StorageException("cannot write shards to " + staging + ": " + e.getMessage(), "check free space and permissions", e);
            } finally {
                try {
                    dev.llmkit.core.AtomicFiles.deleteRecursively(local);
                } catch (IOException ignored) {
                    // a temporary directory: the executor's disk is cleaned with it
                }
            }
            return List.of(new Written(shards, counts)).iterator();
        }
    }
}
