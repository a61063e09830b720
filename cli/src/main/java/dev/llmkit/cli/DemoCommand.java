package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
        Pipeline.run(out, resolved, null, null);
        JsonNode rep = Pipeline.read(out.resolve("06-eval/report.json"));
        if (rep != null) {
            for (JsonNode t : rep.get("tasks")) {
                StringBuilder line = new StringBuilder("exact match, " + t.get("name").asText() + ":");
                t.get("results").fields().forEachRemaining(f -> line.append(String.format(java.util.Locale.ROOT, "  %s %.1f%%", f.getKey(),
                        100 * f.getValue().at("/metrics/exact_match/value").asDouble())));
                System.out.println(line);
            }
        }
        System.out.println("report: " + out.resolve("06-eval/report.html"));
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
