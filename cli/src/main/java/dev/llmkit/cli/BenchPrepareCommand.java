package dev.llmkit.cli;

import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.PrepareConfig;
import dev.llmkit.data.prepare.Corpus;
import dev.llmkit.data.prepare.InputFiles;
import dev.llmkit.data.prepare.PrepareBenchmark;
import dev.llmkit.data.prepare.PrepareBenchmark.Figure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code llmkit data bench}: throughput of {@code data prepare}, with the decompression floor as anchor. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure data prepare throughput (MB/s of uncompressed input) on the given inputs and on a "
                + "generated .jsonl.zst of --size-mb, beside single-thread zstd decompression of the same file "
                + "measured in the same run. Goal: >= 100 MB/s on 2 cores for .jsonl.zst input.",
        footer = {"", "Example:", "  llmkit data bench --input '../shared/data/pretrain_*' --size-mb 1024", "", ExitCodes.HELP})
public final class BenchPrepareCommand implements Callable<Integer> {
    static final double GOAL_MB_S = 100;

    @Option(names = {"-i", "--input"}, arity = "1..*", paramLabel = "PATH",
            description = "Real inputs to measure and to build the big file from (default: ../shared/data/pretrain_* if present, else the demo corpus).")
    List<String> inputs;

    @Option(names = "--size-mb", paramLabel = "MB", defaultValue = "1024", description = "Uncompressed size of the generated .jsonl.zst (default ${DEFAULT-VALUE}).")
    long sizeMb;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "runs/bench-prepare", description = "Scratch directory; the big input is kept there for reuse (default ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--engine", paramLabel = "NAME", defaultValue = "local",
            description = "spark: also measure data prepare --engine spark on local[1] and local[2] against the single-machine path, "
                    + "on the big input cut into 8 files (instead of the other formats).")
    String engine;

    @Mixin
    ConfigOptions config;

    @Override
    public Integer call() throws IOException {
        List<String> flags = new ArrayList<>();
        if (threads != null) flags.add("data.prepare.threads=" + threads);
        PrepareConfig cfg = config.resolve(flags).config().data().prepare();
        Files.createDirectories(work);
        List<String> in = inputs != null ? inputs : defaultInputs();
        List<InputFiles.Input> files = InputFiles.resolve(in);
        System.out.printf(Locale.ROOT, "llmkit data bench: %d worker threads, %d cores, inputs %s%n",
                cfg.effectiveThreads(), Runtime.getRuntime().availableProcessors(), in);

        Figure real = PrepareBenchmark.prepare("inputs", cfg, files, work, 3);
        print("prepare, given inputs (best of 3)", real, null);

        Path corpus = work.resolve("corpus");
        Corpus.prepare(cfg, files, corpus, true, Progress.NONE);
        Path big;
        try (ConsoleProgress p = ConsoleProgress.create()) {
            big = PrepareBenchmark.bigInput(corpus, work, sizeMb << 20, p);
        }
        AtomicFiles.deleteRecursively(corpus);
        System.out.printf(Locale.ROOT, "big input: %s (%.0f MB compressed)%n", big, Files.size(big) / 1048576.0);
        Figure floor = PrepareBenchmark.decompressOnly(big);
        print("anchor: " + floor.name(), floor, null);
        Figure bigFig = PrepareBenchmark.prepare("big", cfg, InputFiles.resolve(List.of(big.toString())), work, 1);
        print("prepare, " + (sizeMb) + " MB .jsonl.zst", bigFig, floor);
        if (engine.equals("spark")) {
            spark(cfg, big);
            return ExitCodes.OK;
        }
        // the other formats on the first 32 MB of the same text (bzip2 and xz are slow to write)
        long slice = Math.min(sizeMb, 32) << 20;
        for (String suffix : List.of(".jsonl.bz2", ".jsonl.xz", ".txt", ".tar.zst")) {
            Path f;
            try (ConsoleProgress p = ConsoleProgress.create()) {
                p.start("bench input " + suffix, 1, "file");
                f = PrepareBenchmark.recompress(big, work, slice, suffix);
                p.update(1);
            }
            Figure anchor = suffix.equals(".txt") || suffix.startsWith(".tar") ? null : PrepareBenchmark.decompressOnly(f);
            if (anchor != null) print("anchor: " + anchor.name(), anchor, null);
            Figure fig = PrepareBenchmark.prepare("fmt", cfg, InputFiles.resolve(List.of(f.toString())), work, 1);
            print("prepare, " + (slice >> 20) + " MB " + suffix + (suffix.equals(".txt") ? " (paragraphs)" : suffix.startsWith(".tar") ? " (8 MB .jsonl members)" : ""), fig, anchor);
        }
        return ExitCodes.OK;
    }

    /**
     * The Spark engine on the big input cut into 8 files, each configuration a fresh session as a user's
     * run starts one (its start-up included), against the single-machine path on the same files.
     */
    private void spark(PrepareConfig cfg, Path big) throws IOException {
        Path parts = PrepareBenchmark.split(big, work, 8);
        List<String> in = List.of(parts.toString());
        Figure local = PrepareBenchmark.prepare("parts", cfg, InputFiles.resolve(in), work, 1);
        System.out.printf(Locale.ROOT, "%-58s %8.1f MB in %7.2f s = %7.1f MB/s%n", "prepare, the same cut into 8 files (single machine)",
                local.bytes() / 1048576.0, local.seconds(), local.mbPerSecond());
        dev.llmkit.data.engine.DataEngine spark = dev.llmkit.data.engine.DataEngine.find("spark");
        // two alternating rounds: the first run of the process also loads Spark's classes and compiles its code
        for (int round = 1; round <= 2; round++) {
            for (String master : List.of("local[2]", "local[1]")) {
                List<String> stages = new ArrayList<>();
                long t0 = System.nanoTime();
                var report = spark.prepare(cfg, in, work.resolve("spark-out").toString(), true,
                        new dev.llmkit.data.engine.DataEngine.Run(master, line -> { if (line.startsWith("spark: read ") || line.startsWith("spark: dedup")) stages.add(line); }));
                Figure f = new Figure(master, report.totals().bytesIn(), (System.nanoTime() - t0) / 1e9);
                System.out.printf(Locale.ROOT, "%-58s %8.1f MB in %7.2f s = %7.1f MB/s  (%.2fx the single machine)%n",
                        "spark --master " + master + ", round " + round + (round == 1 && master.equals("local[2]") ? " (cold JVM)" : ""),
                        f.bytes() / 1048576.0, f.seconds(), f.mbPerSecond(), f.mbPerSecond() / local.mbPerSecond());
                for (String st : stages) System.out.println("    " + st.replaceFirst("; deduplicating.*", ""));
            }
        }
        AtomicFiles.deleteRecursively(work.resolve("spark-out"));
    }

    private static void print(String what, Figure f, Figure anchor) {
        System.out.printf(Locale.ROOT, "%-58s %8.1f MB in %7.2f s = %7.1f MB/s  (%.2fx goal %.0f MB/s%s)%n", what,
                f.bytes() / 1048576.0, f.seconds(), f.mbPerSecond(), f.mbPerSecond() / GOAL_MB_S, GOAL_MB_S,
                anchor == null ? "" : String.format(Locale.ROOT, ", %.2fx decompress-only", f.mbPerSecond() / anchor.mbPerSecond()));
    }

    static List<String> defaultInputs() {
        String home = System.getProperty("llmkit.home", ".");
        Path shared = Path.of(home).resolve("../shared/data").normalize();
        List<String> out = new ArrayList<>();
        if (Files.isDirectory(shared)) {
            try (var s = Files.list(shared)) {
                s.filter(p -> p.getFileName().toString().startsWith("pretrain_")).sorted().forEach(p -> out.add(p.toString()));
            } catch (IOException ignored) {
                // fall through to the demo corpus
            }
        }
        if (out.isEmpty()) throw new dev.llmkit.core.ConfigException("no --input given and no ../shared/data/pretrain_* found",
                "pass --input, e.g. the corpus of a demo run: --input runs/demo/raw/corpus");
        return out;
    }
}
