package dev.llmkit.cli;

import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.data.corpus.CorpusTexts;
import dev.llmkit.data.prepare.Corpus;
import dev.llmkit.data.prepare.InputFiles;
import dev.llmkit.data.synth.Synth;
import dev.llmkit.data.tokenize.Pretokenizer;
import dev.llmkit.tokenizertrainer.TokenizerStage;
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
 * Today: synthesise the biographies (raw/), prepare them (00-corpus/), train a tokenizer
 * (01-tokenizer/), tokenize the corpus (02-tokens/) and pre-train the tiny model (03-pretrain/).
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the pipeline on built-in demo data: generate fictional biographies and Q&A pairs (OUT/raw), prepare the corpus (OUT/00-corpus), train a BPE tokenizer (OUT/01-tokenizer), write token shards (OUT/02-tokens) and pre-train a model on them (OUT/03-pretrain; configs/demo.yaml runs 150 steps of the tiny preset). Writes the resolved config to OUT/pipeline.yaml. Stages replace their own earlier output.",
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
        System.out.println("[1/5] data synth -> " + out.resolve("raw"));
        Synth.Result s;
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            s = Synth.generate(resolved.config().data().synth(), out.resolve("raw"), true, progress);
        }
        SynthCommand.print(s, out.resolve("raw"));
        System.out.println("[2/5] data prepare -> " + out.resolve("00-corpus"));
        long t0 = System.nanoTime();
        Corpus.Manifest m;
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            m = Corpus.prepare(resolved.config().data().prepare(),
                    InputFiles.resolve(List.of(out.resolve("raw/corpus").toString())), out.resolve("00-corpus"), true, progress);
        }
        PrepareCommand.printSummary(m.report(), out.resolve("00-corpus"), (System.nanoTime() - t0) / 1e9);
        System.out.println("[3/5] tokenizer train -> " + out.resolve("01-tokenizer"));
        TokenizerStage.Output tok = TokenizerTrainCommand.train(CorpusTexts.open(List.of(out.resolve("00-corpus")), List.of()),
                resolved.config().tokenizer(), out.resolve("01-tokenizer"), true);
        TokenizerTrainCommand.print(tok, out.resolve("01-tokenizer"));
        System.out.println("[4/5] data tokenize -> " + out.resolve("02-tokens"));
        Pretokenizer.Result tokens;
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            tokens = Pretokenizer.run(out.resolve("00-corpus"), out.resolve("01-tokenizer/tokenizer.json"),
                    resolved.config().data().tokenize(), out.resolve("02-tokens"), true, progress);
        }
        TokenizeCommand.print(tokens, out.resolve("02-tokens"));
        System.out.println("[5/5] pretrain -> " + out.resolve("03-pretrain"));
        try {
            if (java.nio.file.Files.exists(out.resolve("03-pretrain"))) AtomicFiles.deleteRecursively(out.resolve("03-pretrain"));
        } catch (java.io.IOException e) {
            throw new dev.llmkit.core.StorageException(out.resolve("03-pretrain") + ": cannot replace: " + e.getMessage(), null, e);
        }
        PretrainCommand.print(PretrainCommand.train(out.resolve("02-tokens"), out.resolve("01-tokenizer/tokenizer.json"), resolved.config(),
                out.resolve("03-pretrain"), false));
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
