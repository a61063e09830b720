package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.config.ConfigLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code llmkit demo}: {@link Pipeline} on the built-in demo data (configs/demo.yaml): biographies,
 * corpus, tokenizer, token shards, pre-training, fine-tuning, quantization and evaluation, each stage
 * skipped when done and resumed when interrupted, ending with the evaluation report.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the pipeline (llmkit pipeline run configs/demo.yaml) on built-in demo data: generate fictional biographies and Q&A pairs (OUT/raw), prepare the corpus (OUT/00-corpus), train a BPE tokenizer (OUT/01-tokenizer), write token shards (OUT/02-tokens), pre-train the tiny model (OUT/03-pretrain), fine-tune it on the Q&A pairs of the fine-tuning people (OUT/04-finetune), quantize it to Q8_0 and Q4_K_M (OUT/05-quantize) and evaluate the four models on the biography questions (OUT/06-eval/report.html). A finished stage is skipped when run again; an interrupted one resumes. Writes the resolved config to OUT/pipeline.yaml.",
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
                String metric = Pipeline.headlineMetric(t);
                boolean ppl = metric.equals("bits_per_byte");
                StringBuilder line = new StringBuilder(metric.replace('_', ' ') + ", " + t.get("name").asText());
                if (t.at("/chance/exact_match").isNumber()) line.append(String.format(java.util.Locale.ROOT, " (chance %.1f%%)", 100 * t.at("/chance/exact_match").asDouble()));
                line.append(":");
                t.get("results").fields().forEachRemaining(f -> {
                    double v = f.getValue().at("/metrics/" + metric + "/value").asDouble();
                    line.append(ppl ? String.format(java.util.Locale.ROOT, "  %s %.3f", f.getKey(), v) : String.format(java.util.Locale.ROOT, "  %s %.1f%%", f.getKey(), 100 * v));
                });
                System.out.println(line);
            }
        }
        System.out.println("report: " + out.resolve("06-eval/report.html"));
        System.out.println("chat with it: ./llmkit chat --model " + out.resolve("04-finetune/final") + "   (or a quantized file: --model "
                + out.resolve("05-quantize/model-q4_k_m.gguf") + ")");
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
