package dev.llmkit.cli;

import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.data.prepare.Corpus;
import dev.llmkit.data.prepare.InputFiles;
import dev.llmkit.data.synth.Synth;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code llmkit demo}: the whole pipeline, as far as it exists, on the built-in demo data.
 * Today: synthesise the biographies (raw/) and prepare them into 00-corpus/.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the pipeline on built-in demo data: generate fictional biographies and Q&A pairs (OUT/raw), then prepare the corpus (OUT/00-corpus). Writes the resolved config to OUT/pipeline.yaml. Stages replace their own earlier output.",
        footer = {"", "Example:", "  llmkit demo --out runs/demo", "", ExitCodes.HELP})
public final class DemoCommand implements Callable<Integer> {
    @Option(names = {"-o", "--out"}, paramLabel = "DIR", defaultValue = "runs/demo", description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--people", paramLabel = "N", description = "Number of fictional people (data.synth.people).")
    Integer people;

    @Mixin
    ConfigOptions config;

    @Override
    public Integer call() {
        if (config.config == null) config.config = DemoCommand.defaultConfig();
        List<String> flags = new ArrayList<>();
        if (people != null) flags.add("data.synth.people=" + people);
        ConfigLoader.Resolved resolved = config.resolve(flags);
        AtomicFiles.write(out.resolve("pipeline.yaml"), resolved.toYaml().getBytes(StandardCharsets.UTF_8));
        System.out.println("[1/2] data synth -> " + out.resolve("raw"));
        Synth.Result s;
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            s = Synth.generate(resolved.config().data().synth(), out.resolve("raw"), true, progress);
        }
        SynthCommand.print(s, out.resolve("raw"));
        System.out.println("[2/2] data prepare -> " + out.resolve("00-corpus"));
        long t0 = System.nanoTime();
        Corpus.Manifest m;
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            m = Corpus.prepare(resolved.config().data().prepare(),
                    InputFiles.resolve(List.of(out.resolve("raw/corpus").toString())), out.resolve("00-corpus"), true, progress);
        }
        PrepareCommand.printSummary(m.report(), out.resolve("00-corpus"), (System.nanoTime() - t0) / 1e9);
        System.out.println("demo done: " + out + " (config: " + out.resolve("pipeline.yaml") + ")");
        return ExitCodes.OK;
    }

    /** configs/demo.yaml of the llmkit checkout, when the launcher says where that is. */
    static Path defaultConfig() {
        String home = System.getProperty("llmkit.home");
        if (home == null) return null;
        Path p = Path.of(home, "configs", "demo.yaml");
        return p.toFile().isFile() ? p : null;
    }
}
