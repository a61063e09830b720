package dev.llmkit.cli;

import dev.llmkit.core.config.SynthConfig;
import dev.llmkit.data.synth.Synth;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code llmkit data synth}: the built-in demo corpus of fictional biographies and Q&amp;A pairs. */
@Command(name = "synth", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate the built-in demo data: fictional biographies as RedPajama-style JSONL shards (OUT/corpus) and Q&A pairs about the same people (OUT/qa/train.jsonl for fine-tuning people, OUT/qa/heldout.jsonl for held-out people), after 'Physics of Language Models, Part 3.1'. Deterministic per seed.",
        footer = {"", "Example:", "  llmkit data synth --out runs/demo/raw --people 2000 --augment 5 --seed 7", "", ExitCodes.HELP})
public final class SynthCommand implements Callable<Integer> {
    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--people", paramLabel = "N", description = "Number of people (data.synth.people, default 1000).")
    Integer people;

    @Option(names = "--seed", paramLabel = "S", description = "Random seed (data.synth.seed, default 42).")
    Long seed;

    @Option(names = "--augment", paramLabel = "K",
            description = "Biographies per person; 1 = one fixed template and order (data.synth.augment, default 5).")
    Integer augment;

    @Option(names = "--force", description = "Replace the output directory if it exists.")
    boolean force;

    @Mixin
    ConfigOptions config;

    @Override
    public Integer call() {
        SynthConfig cfg = config.resolve(flags()).config().data().synth();
        Synth.Result r;
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            r = Synth.generate(cfg, out, force, progress);
        }
        print(r, out);
        return ExitCodes.OK;
    }

    static void print(Synth.Result r, Path out) {
        System.out.printf("synthesised %s: %d people (%d for fine-tuning, %d held out), %d biographies (%.1f MB), "
                        + "%d Q&A pairs for fine-tuning, %d held out%n", out, r.people(), r.finetunePeople(), r.heldoutPeople(),
                r.biographies(), r.corpusBytes() / 1048576.0, r.qaTrain(), r.qaHeldout());
    }

    private List<String> flags() {
        List<String> f = new ArrayList<>();
        if (people != null) f.add("data.synth.people=" + people);
        if (seed != null) f.add("data.synth.seed=" + seed);
        if (augment != null) f.add("data.synth.augment=" + augment);
        return f;
    }
}
