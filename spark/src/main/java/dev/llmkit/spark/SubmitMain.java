package dev.llmkit.spark;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.LlmkitException;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.data.engine.DataEngine;
import dev.llmkit.data.prepare.CorpusReport;
import dev.llmkit.data.tokenize.Pretokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The entry point of {@code llmkit-spark-submit.jar} on a cluster:
 * {@code spark-submit --class dev.llmkit.spark.SubmitMain llmkit-spark-submit.jar prepare|tokenize ...}
 * with the options of {@code llmkit data prepare} and {@code llmkit data tokenize}. It runs in the session
 * spark-submit started; errors print as llmkit prints them, with llmkit's exit codes (2 usage or
 * configuration, 3 bad input data, 4 I/O).
 */
@Command(name = "llmkit-spark", mixinStandardHelpOptions = true, subcommands = {SubmitMain.Prepare.class, SubmitMain.Tokenize.class},
        description = "The llmkit data stage on a Spark cluster (spark-submit).")
public final class SubmitMain {
    public static void main(String[] args) {
        int code = run(new PrintWriter(System.err, true), args);
        if (code != 0) System.exit(code);
    }

    static int run(PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new SubmitMain());
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            int code = e instanceof ConfigException ? 2 : e instanceof DataException ? 3 : e instanceof StorageException ? 4 : 1;
            err.println("llmkit: error: " + e.getMessage());
            err.println("hint: " + (e instanceof LlmkitException le && le.hint() != null ? le.hint() : "see the Spark driver log"));
            if (code == 1) e.printStackTrace(err);
            return code;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("llmkit: error: " + ex.getMessage());
            err.println("hint: see " + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help");
            return 2;
        });
        return cl.execute(args);
    }

    /** --config and --set, as the CLI has them. */
    static final class Config {
        @Option(names = "--config", paramLabel = "FILE", description = "YAML config file (read on the driver).")
        Path config;

        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one config key (repeatable).")
        List<String> sets = new ArrayList<>();

        ConfigLoader.Resolved resolve(List<String> flags) {
            List<String> all = new ArrayList<>(sets);
            all.addAll(flags);
            return ConfigLoader.load(config, all);
        }
    }

    static DataEngine.Run run() {
        return new DataEngine.Run(null, line -> System.err.println(line));
    }

    @Command(name = "prepare", mixinStandardHelpOptions = true, description = "data prepare: raw shards to a corpus directory.")
    static final class Prepare implements Callable<Integer> {
        @Option(names = {"-i", "--input"}, required = true, arity = "1..*", paramLabel = "URI", description = "Input files, directories or globs (any Hadoop file system).")
        List<String> inputs;

        @Option(names = {"-o", "--out"}, required = true, paramLabel = "URI", description = "Output corpus directory.")
        String out;

        @Option(names = "--text-field", paramLabel = "NAME", description = "JSON field (or Parquet column) with the text.")
        String textField;

        @Option(names = "--strict", description = "Any bad record or file is an error (exit 3).")
        boolean strict;

        @Option(names = "--skip-bad-files", description = "Skip a truncated or corrupt compressed file whole.")
        boolean skipBadFiles;

        @Option(names = "--force", description = "Replace the output directory if it exists.")
        boolean force;

        @CommandLine.Mixin
        Config config;

        @Override
        public Integer call() {
            List<String> f = new ArrayList<>();
            if (textField != null) f.add("data.prepare.text_field=" + textField);
            if (strict) f.add("data.prepare.strict=true");
            if (skipBadFiles) f.add("data.prepare.skip_bad_files=true");
            long t0 = System.nanoTime();
            CorpusReport r = new SparkEngine().prepare(config.resolve(f).config().data().prepare(), inputs, out, force, run());
            CorpusReport.Totals t = r.totals();
            System.out.printf(Locale.ROOT, "prepared %s: %d documents in -> %d out (train %d, val %d), %d duplicates, %d skipped, %d file(s) skipped whole; %.1f s%n",
                    out, t.documentsIn(), t.documentsOut(), t.train().documents(), t.val().documents(), t.duplicates(),
                    t.skipped().values().stream().mapToLong(Long::longValue).sum(), t.filesSkipped(), (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }

    @Command(name = "tokenize", mixinStandardHelpOptions = true, description = "data tokenize: a corpus directory to token shards.")
    static final class Tokenize implements Callable<Integer> {
        @Option(names = {"-c", "--corpus"}, required = true, paramLabel = "URI", description = "Corpus directory from prepare.")
        String corpus;

        @Option(names = {"-t", "--tokenizer"}, required = true, paramLabel = "URI", description = "tokenizer.json (with <|endoftext|>).")
        String tokenizer;

        @Option(names = {"-o", "--out"}, required = true, paramLabel = "URI", description = "Output directory.")
        String out;

        @Option(names = "--force", description = "Replace the output directory (complete or not) instead of resuming.")
        boolean force;

        @CommandLine.Mixin
        Config config;

        @Override
        public Integer call() {
            Pretokenizer.Result r = new SparkEngine().tokenize(corpus, tokenizer, config.resolve(List.of()).config().data().tokenize(), out, force, run());
            System.out.printf(Locale.ROOT, "tokenized %s: train %d tokens in %d shard(s), val %d tokens in %d shard(s); %.1f s%n", out,
                    r.manifest().train().tokens(), r.manifest().train().shards(), r.manifest().val().tokens(), r.manifest().val().shards(), r.seconds());
            return 0;
        }
    }
}
