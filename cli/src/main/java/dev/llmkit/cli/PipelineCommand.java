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
            Path run = out != null ? out : Path.of("runs", file.getFileName().toString().replaceFirst("\\.ya?ml$", ""));
            Arms arms = Arms.read(file);
            if (arms == null) {
                Pipeline.run(run, ConfigLoader.load(file, sets), from, until);
                return ExitCodes.OK;
            }
            // an experiment: the same pipeline once per arm, each in RUN/ARM, then the arms' exact match side by side
            for (Arms.Arm a : arms.arms()) {
                List<String> all = new java.util.ArrayList<>(sets);
                all.addAll(a.sets());
                System.out.println("== arm " + a.name() + " (" + String.join(", ", a.sets()) + ")");
                Pipeline.run(run.resolve(a.name()), ConfigLoader.load(arms.base(), all), from, until);
            }
            String table = Arms.table(run, arms.arms());
            dev.llmkit.core.AtomicFiles.write(run.resolve("arms.md"), table.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            System.out.print(table);
            System.out.println("table: " + run.resolve("arms.md"));
            return ExitCodes.OK;
        }
    }

    /**
     * A pipeline config with an {@code arms:} list (each {@code name} and {@code set: [KEY=VALUE...]}):
     * the rest of the file is the pipeline every arm runs with its own overrides.
     */
    record Arms(Path base, List<Arm> arms) {
        record Arm(String name, List<String> sets) {}

        /** The arms of {@code file}, or null when it has none; {@code base} is the file without them. */
        static Arms read(Path file) {
            JsonNode tree;
            try {
                tree = dev.llmkit.core.Json.YAML.readTree(file.toFile());
            } catch (java.io.IOException e) {
                return null;     // ConfigLoader reports what is wrong with the file
            }
            if (tree == null || !tree.isObject() || !tree.has("arms")) return null;
            JsonNode list = tree.get("arms");
            if (!list.isArray() || list.isEmpty()) throw new ConfigException(file + ": arms must be a list of {name, set}", null);
            List<Arm> arms = new java.util.ArrayList<>();
            for (JsonNode a : list) {
                String name = a.path("name").asText("");
                if (!name.matches("[A-Za-z0-9._-]+")) throw new ConfigException(file + ": every arm needs a name of letters, digits, '.', '_' or '-'", null);
                List<String> sets = new java.util.ArrayList<>();
                a.path("set").forEach(v -> sets.add(v.asText()));
                arms.add(new Arm(name, sets));
            }
            ((com.fasterxml.jackson.databind.node.ObjectNode) tree).remove("arms");
            try {
                Path base = Files.createTempFile("llmkit-pipeline-", ".yaml");
                base.toFile().deleteOnExit();
                Files.writeString(base, dev.llmkit.core.Json.YAML.writeValueAsString(tree));
                return new Arms(base, arms);
            } catch (java.io.IOException e) {
                throw new dev.llmkit.core.StorageException("cannot write a temporary file: " + e.getMessage(), null, e);
            }
        }

        /** Exact match per arm (fine-tuned F32) on each biography task, from each arm's 06-eval/report.json. */
        static String table(Path run, List<Arm> arms) {
            StringBuilder b = new StringBuilder("| arm | overrides | " );
            List<String> tasks = new java.util.ArrayList<>();
            for (Arm a : arms) {
                JsonNode rep = Pipeline.read(run.resolve(a.name()).resolve("06-eval/report.json"));
                if (rep != null) rep.get("tasks").forEach(t -> {
                    if (t.path("type").asText().equals("generate") && !tasks.contains(t.get("name").asText())) tasks.add(t.get("name").asText());
                });
            }
            for (String t : tasks) b.append("exact match, ").append(t).append(" | ");
            b.append("time |\n|---|---|").append("---|".repeat(tasks.size() + 1)).append("\n");
            for (Arm a : arms) {
                JsonNode rep = Pipeline.read(run.resolve(a.name()).resolve("06-eval/report.json"));
                b.append("| ").append(a.name()).append(" | ").append(String.join(", ", a.sets())).append(" | ");
                for (String t : tasks) {
                    JsonNode v = null, chance = null;
                    if (rep != null) {
                        for (JsonNode task : rep.get("tasks")) {
                            if (!task.get("name").asText().equals(t)) continue;
                            v = task.at("/results/fine-tuned/metrics/exact_match");
                            chance = task.at("/chance/exact_match");
                        }
                    }
                    b.append(v == null || v.isMissingNode() ? "-" : String.format(Locale.ROOT, "%.1f%% ± %.1f", 100 * v.path("value").asDouble(), 100 * v.path("stderr").asDouble()))
                            .append(chance != null && chance.isNumber() ? String.format(Locale.ROOT, " (chance %.1f%%)", 100 * chance.asDouble()) : "").append(" | ");
                }
                double seconds = 0;
                for (Pipeline.Stage st : Pipeline.STAGES) {
                    JsonNode d = Pipeline.read(Pipeline.done(run.resolve(a.name()), st));
                    if (d != null) seconds += d.path("seconds").asDouble();
                }
                b.append(String.format(Locale.ROOT, "%.0f min |", seconds / 60));
                b.append("\n");
            }
            return b.toString();
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
            Map<String, String> keys = Pipeline.keys(resolved);
            for (Pipeline.Stage s : Pipeline.STAGES) {
                String[] why = new String[1];
                String state = Pipeline.state(run, s, keys, resolved, why);
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
