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
 * (01-tokenizer/), tokenize the corpus (02-tokens/), pre-train the tiny model (03-pretrain/) and
 * fine-tune it on the Q&amp;A pairs (04-finetune/), with exact match on held-out people's questions.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the pipeline on built-in demo data: generate fictional biographies and Q&A pairs (OUT/raw), prepare the corpus (OUT/00-corpus), train a BPE tokenizer (OUT/01-tokenizer), write token shards (OUT/02-tokens), pre-train a model on them (OUT/03-pretrain; configs/demo.yaml runs 150 steps of the tiny preset) and fine-tune it on the Q&A pairs of the fine-tuning people (OUT/04-finetune), then print exact match on questions about held-out people. Writes the resolved config to OUT/pipeline.yaml. Stages replace their own earlier output.",
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
        System.out.println("[1/7] data synth -> " + out.resolve("raw"));
        Synth.Result s;
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            s = Synth.generate(resolved.config().data().synth(), out.resolve("raw"), true, progress);
        }
        SynthCommand.print(s, out.resolve("raw"));
        System.out.println("[2/7] data prepare -> " + out.resolve("00-corpus"));
        long t0 = System.nanoTime();
        Corpus.Manifest m;
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            m = Corpus.prepare(resolved.config().data().prepare(),
                    InputFiles.resolve(List.of(out.resolve("raw/corpus").toString())), out.resolve("00-corpus"), true, progress);
        }
        PrepareCommand.printSummary(m.report(), out.resolve("00-corpus"), (System.nanoTime() - t0) / 1e9);
        System.out.println("[3/7] tokenizer train -> " + out.resolve("01-tokenizer"));
        TokenizerStage.Output tok = TokenizerTrainCommand.train(CorpusTexts.open(List.of(out.resolve("00-corpus")), List.of()),
                resolved.config().tokenizer(), out.resolve("01-tokenizer"), true);
        TokenizerTrainCommand.print(tok, out.resolve("01-tokenizer"));
        System.out.println("[4/7] data tokenize -> " + out.resolve("02-tokens"));
        Pretokenizer.Result tokens;
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            tokens = Pretokenizer.run(out.resolve("00-corpus"), out.resolve("01-tokenizer/tokenizer.json"),
                    resolved.config().data().tokenize(), out.resolve("02-tokens"), true, progress);
        }
        TokenizeCommand.print(tokens, out.resolve("02-tokens"));
        System.out.println("[5/7] pretrain -> " + out.resolve("03-pretrain"));
        replace(out.resolve("03-pretrain"));
        PretrainCommand.print(PretrainCommand.train(out.resolve("02-tokens"), out.resolve("01-tokenizer/tokenizer.json"), resolved.config(),
                out.resolve("03-pretrain"), false));
        System.out.println("[6/7] finetune -> " + out.resolve("04-finetune"));
        replace(out.resolve("04-finetune"));
        FinetuneCommand.print(FinetuneCommand.train(out.resolve("03-pretrain/final"), List.of(out.resolve("raw/qa/train.jsonl").toString()), java.util.Map.of(),
                resolved.config().finetune(), out.resolve("04-finetune"), false));
        var held = dev.llmkit.finetune.data.SftReader.read(List.of(out.resolve("raw/qa/heldout.jsonl").toString()),
                new dev.llmkit.finetune.data.SftReader.Options("auto", java.util.Map.of(), false, 0)).conversations();
        held = held.subList(0, Math.min(100, held.size()));
        var model = ModelCommand.load(out.resolve("04-finetune/final"));     // a checkpoint, or LoRA adapters merged on load
        var ft = resolved.config().finetune();
        var em = dev.llmkit.finetune.ExactMatch.score(model.weights(), model.tokenizer(), held, ft.systemPrompt(), ft.emMaxTokens(),
                Runtime.getRuntime().availableProcessors(), false);
        System.out.printf(java.util.Locale.ROOT, "exact match on %d questions about held-out people: %.1f%% (e.g. \"%s\" -> \"%s\", reference \"%s\")%n",
                em.n(), 100 * em.exactRate(), em.samples().get(0)[0], em.samples().get(0)[2], em.samples().get(0)[1]);
        System.out.println("[7/7] quantize -> " + out.resolve("05-quantize"));
        for (String type : List.of("q8_0", "q4_k_m")) {
            QuantizeCommand q = new QuantizeCommand();
            q.model = out.resolve("04-finetune/final");
            q.type = type;
            q.out = out.resolve("05-quantize/model-" + type + ".gguf");
            q.force = true;
            q.table = false;
            q.evalTokens = 8192;
            q.benchTokens = 64;
            q.call();
        }
        System.out.println("chat with it: ./llmkit chat --model " + out.resolve("04-finetune/final") + "   (or a quantized file: --model "
                + out.resolve("05-quantize/model-q4_k_m.gguf") + ")");
        System.out.println("demo done: " + out + " (config: " + out.resolve("pipeline.yaml") + ")");
        return ExitCodes.OK;
    }

    /** Removes a training stage's earlier output (the demo reruns stages from scratch). */
    private static void replace(Path dir) {
        try {
            if (java.nio.file.Files.exists(dir)) AtomicFiles.deleteRecursively(dir);
        } catch (java.io.IOException e) {
            throw new dev.llmkit.core.StorageException(dir + ": cannot replace: " + e.getMessage(), null, e);
        }
    }

    /** configs/demo.yaml of the llmkit checkout, when the launcher says where that is. */
    static Path defaultConfig() {
        String home = System.getProperty("llmkit.home");
        if (home == null) return null;
        Path p = Path.of(home, "configs", "demo.yaml");
        return p.toFile().isFile() ? p : null;
    }
}
