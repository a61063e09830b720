package dev.llmkit.cli;

import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.PrepareConfig;
import dev.llmkit.data.prepare.Corpus;
import dev.llmkit.data.prepare.CorpusReport;
import dev.llmkit.data.prepare.InputFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code llmkit data prepare}: raw shards in, a clean corpus directory (00-corpus) out. */
@Command(name = "prepare", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Turn RedPajama-style shards (JSON Lines or plain text, plain or compressed with gzip, zstd, bzip2 or xz, and tar archives of them; Parquet with --engine spark) into a clean corpus directory: normalised, exactly deduplicated, split into train/val zstd JSONL shards, with report.json (counts per source and per skip reason) and provenance.json. The output directory appears complete or not at all; the same inputs and config give byte-identical output.",
        footer = {"", "Examples:", "  llmkit data prepare --input ../shared/data/pretrain_sotu --out runs/sotu/00-corpus",
                "  llmkit data prepare --engine spark --master 'local[2]' --input 'shards/*.parquet' --out runs/web/00-corpus", "", ExitCodes.HELP})
public final class PrepareCommand implements Callable<Integer> {
    @Option(names = {"-i", "--input"}, required = true, arity = "1..*", paramLabel = "PATH",
            description = "Input files, directories (walked recursively) or globs (quote them); with --engine spark also URIs of any Hadoop file system and .parquet files.")
    List<String> inputs;

    @Mixin
    EngineOptions engine;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Output corpus directory (with --engine spark also a URI: hdfs://..., s3a://...).")
    String out;

    @Option(names = "--text-field", paramLabel = "NAME", description = "JSON field with the text (data.prepare.text_field; raw_content for RedPajama-V2).")
    String textField;

    @Option(names = "--strict", description = "Any bad record or file is an error (exit 3) instead of being skipped and counted.")
    boolean strict;

    @Option(names = "--skip-bad-files", description = "Skip a truncated or corrupt compressed file whole instead of failing.")
    boolean skipBadFiles;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (data.prepare.threads; 0 = all cores).")
    Integer threads;

    @Option(names = "--force", description = "Replace the output directory if it exists.")
    boolean force;

    @Mixin
    ConfigOptions config;

    @Override
    public Integer call() {
        ConfigLoader.Resolved resolved = config.resolve(flags());
        PrepareConfig cfg = resolved.config().data().prepare();
        long t0 = System.nanoTime();
        CorpusReport report;
        if (engine.spark()) {
            report = engine.find().prepare(cfg, inputs, out, force, engine.run());
        } else {
            List<InputFiles.Input> files = InputFiles.resolve(inputs);
            try (ConsoleProgress progress = ConsoleProgress.create()) {
                report = Corpus.prepare(cfg, files, Path.of(out), force, progress).report();
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        printSummary(report, out, secs);
        return ExitCodes.OK;
    }

    private List<String> flags() {
        List<String> f = new ArrayList<>();
        if (textField != null) f.add("data.prepare.text_field=" + textField);
        if (strict) f.add("data.prepare.strict=true");
        if (skipBadFiles) f.add("data.prepare.skip_bad_files=true");
        if (threads != null) f.add("data.prepare.threads=" + threads);
        return f;
    }

    static void printSummary(CorpusReport r, Object out, double secs) {
        CorpusReport.Totals t = r.totals();
        System.out.printf(Locale.ROOT, "prepared %s: %d documents in (%.1f MB) -> %d out (train %d, val %d), %d duplicates, %d skipped%s%n",
                out, t.documentsIn(), t.bytesIn() / 1048576.0, t.documentsOut(), t.train().documents(), t.val().documents(),
                t.duplicates(), t.skipped().values().stream().mapToLong(Long::longValue).sum(),
                t.filesSkipped() > 0 ? ", " + t.filesSkipped() + " file(s) skipped whole" : "");
        for (Map.Entry<String, Long> e : t.skipped().entrySet()) {
            if (e.getValue() > 0) System.out.printf("  skipped %-16s %d%n", e.getKey(), e.getValue());
        }
        for (CorpusReport.Source s : r.sources()) {
            if (!s.status().equals("ok")) System.out.printf("  file skipped: %s (%s)%n", s.path(), s.error());
        }
        System.out.printf(Locale.ROOT, "%.1f MB/s uncompressed input, %.2f s; report: %s%n",
                t.bytesIn() / 1048576.0 / secs, secs, out + "/report.json");
    }
}
