package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code llmkit pipeline}: every stage from data to evaluation in one run directory, incremental and resumable. */
@Command(name = "pipeline", mixinStandardHelpOptions = true, subcommands = {PipelineCommand.Run.class, PipelineCommand.Status.class},
        description = "Run the whole pipeline (synth -> prepare -> tokenizer -> tokenize -> pretrain -> finetune -> quantize -> eval) into one run directory, "
                + "or show where a run stands.", footer = {"", ExitCodes.HELP})
public final class PipelineCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new ConfigException("name a subcommand", "llmkit pipeline run PIPELINE.yaml, or llmkit pipeline status RUN_DIR");
    }

    @Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Run the stages of a pipeline config into OUT. A stage that is done with the same config sections and inputs is skipped; "
                    + "a changed key re-runs that stage and every stage after it, and says why; pre-training and fine-tuning interrupted "
                    + "(Ctrl-C, kill -9) resume from their last checkpoint with the same final weights. The resolved config goes to OUT/pipeline.yaml.",
            footer = {"", "Examples:", "  llmkit pipeline run configs/demo.yaml", "  llmkit pipeline run configs/demo.yaml --set pretrain.steps=600 --out runs/demo-600",
                    "  llmkit pipeline run configs/demo.yaml --from finetune", "", ExitCodes.HELP})
    static final class Run implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "PIPELINE.yaml", description = "The pipeline config (see configs/).")
        Path file;

        @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Run directory (default: runs/ and the config's name).")
        Path out;

        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one config key (repeatable).")
        List<String> sets = new java.util.ArrayList<>();

        @Option(names = "--from", paramLabel = "STAGE", description = "Re-run from this stage on, even if done.")
        String from;

        @Option(names = "--until", paramLabel = "STAGE", description = "Stop after this stage.")
        String until;

        @Override
        public Integer call() {
            if (!Files.isRegularFile(file)) throw new ConfigException(file + ": no such pipeline config", "see configs/ for presets");
            ConfigLoader.Resolved resolved = ConfigLoader.load(file, sets);
            Path run = out != null ? out : Path.of("runs", file.getFileName().toString().replaceFirst("\\.ya?ml$", ""));
            Pipeline.run(run, resolved, from, until);
            return ExitCodes.OK;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Each stage of a run directory: done, stale (and why), interrupted or not started, with its time and key figures.",
            footer = {"", "Example:", "  llmkit pipeline status runs/demo", "", ExitCodes.HELP})
    static final class Status implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "RUN_DIR", description = "A run directory (it holds pipeline.yaml).")
        Path run;

        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Judge staleness against this override too (repeatable).")
        List<String> sets = new java.util.ArrayList<>();

        @Override
        public Integer call() {
            Path yaml = run.resolve("pipeline.yaml");
            if (!Files.isRegularFile(yaml)) throw new ConfigException(run + " is not a pipeline run directory (no pipeline.yaml)", "run llmkit pipeline run first");
            ConfigLoader.Resolved resolved = ConfigLoader.load(yaml, sets);
            Map<String, String> keys = Pipeline.keys(resolved.tree());
            for (Pipeline.Stage s : Pipeline.STAGES) {
                String[] why = new String[1];
                String state = Pipeline.state(run, s, keys, resolved.tree(), why);
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-10s %-12s %-12s", s.name(), s.dir(), state));
                JsonNode done = Pipeline.read(Pipeline.done(run, s));
                if (done != null) {
                    line.append(String.format(Locale.ROOT, " %7.1f s", done.path("seconds").asDouble()));
                    JsonNode sum = done.path("summary");
                    if (sum.size() > 0) line.append("  ").append(sum);
                }
                if (why[0] != null) line.append("  (").append(why[0]).append(")");
                System.out.println(line);
            }
            return ExitCodes.OK;
        }
    }
}
