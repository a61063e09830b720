package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.QuantTensor;
import dev.llmkit.eval.Evaluator;
import dev.llmkit.eval.TaskSpec;
import dev.llmkit.eval.engine.LanguageModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llmkit eval}: benchmark tasks on one or more models, side by side. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate models on benchmark tasks with lm-evaluation-harness's definitions, every model on the same examples: "
                + "multiple choice (acc, acc_norm), perplexity (word and byte perplexity, bits per byte) and generation (exact match, F1).",
            "Writes OUT/report.json (every metric with its standard error), OUT/report.md, OUT/report.html (tables and charts, with the "
                + "training loss curves of checkpoint directories) and OUT/samples.jsonl (every prompt, score or generation, target and verdict).",
            "Tasks: a task .yaml file, or a preset (" + "piqa, mmlu, hellaswag, arc, gsm8k, wikitext2, bios" + "), optionally NAME:PATH for another file or "
                + "directory in the preset's format. Presets without a path read ../shared/data (or $LLMKIT_SHARED_DATA); bios reads runs/demo/raw/qa/heldout.jsonl."},
        footer = {"", "Examples:", "  llmkit eval --model runs/demo/03-pretrain/final --tasks piqa --tasks mmlu --limit 100 --out runs/demo/06-eval",
                "  llmkit eval --model m-f32.gguf --model m-q8_0.gguf --model m-q4_k_m.gguf --tasks wikitext2 --tasks bios:qa/heldout.jsonl --out eval-quant",
                "  llmkit eval --model runs/demo/04-finetune/final --tasks my-task.yaml --fewshot 5 --out eval-mine", "", ExitCodes.HELP})
public final class EvalCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|FILE", description = "A checkpoint directory, LoRA adapter directory or GGUF file (any type); repeatable.")
    List<Path> models = new ArrayList<>();

    @Option(names = "--name", paramLabel = "NAME", description = "The models' names in the report, in --model order (default: the file's or directory's name).")
    List<String> names = new ArrayList<>();

    @Option(names = {"-t", "--tasks"}, required = true, paramLabel = "TASK", split = ",", description = "Task .yaml files or presets (comma-separated or repeated).")
    List<String> tasks = new ArrayList<>();

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Report directory.")
    Path out;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0", description = "The first N documents of each task (default: all).")
    int limit;

    @Option(names = "--fewshot", paramLabel = "K", defaultValue = "-1", description = "Few-shot examples per document (default: each task's own, 0 for the presets).")
    int fewshot;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1234", description = "Seed of the few-shot draw (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", paramLabel = "N", description = "Engine threads (default: all cores).")
    Integer threads;

    /** Tasks built in code (the pipeline's), after those of --tasks. */
    final List<TaskSpec> builtSpecs = new ArrayList<>();

    /** The pipeline's stages, put into the report as it is written (null: none). */
    com.fasterxml.jackson.databind.JsonNode pipeline;

    /** report.json's content once {@link #call} has run. */
    com.fasterxml.jackson.databind.node.ObjectNode report;

    @Override
    public Integer call() {
        if (limit < 0) throw new ConfigException("--limit must be >= 0", null);
        if (!names.isEmpty() && names.size() != models.size()) throw new ConfigException("--name is given " + names.size() + " times for " + models.size() + " models", "name every model or none");
        List<TaskSpec> specs = new ArrayList<>();
        Path shared = sharedData();
        for (String t : tasks) specs.add(TaskSpec.resolve(t.strip(), shared));
        specs.addAll(builtSpecs);
        for (TaskSpec s : specs) s.files();     // every task's data exists before any model is loaded
        List<Evaluator.Model> ms = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < models.size(); i++) {
            Path p = models.get(i);
            Checkpoint.Loaded m = ModelCommand.loadForInference(p);
            String name = names.isEmpty() ? defaultName(p) : names.get(i);
            for (int k = 2; !seen.add(name); k++) name = (names.isEmpty() ? defaultName(p) : names.get(i)) + "-" + k;
            ms.add(new Evaluator.Model(name, p, LanguageModel.of(m), storage(m), m.weights().config().parameters(), size(p), metrics(p)));
        }
        int t = ModelCommand.engineThreads(threads);
        ConsoleProgress progress = ConsoleProgress.create();
        long t0 = System.nanoTime();
        report = Evaluator.run(ms, specs, new Evaluator.Options(limit, fewshot, seed, t, progress), out, pipeline);
        progress.close();
        // the table a person reads first
        for (var task : report.get("tasks")) {
            System.out.printf(Locale.ROOT, "%s (%s, %d examples)%n", task.get("name").asText(), task.get("type").asText(), task.get("examples").asInt());
            for (var metric : task.get("metrics")) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-24s", metric.asText()));
                for (Evaluator.Model m : ms) {
                    var v = task.get("results").path(m.name()).path("metrics").path(metric.asText());
                    line.append(String.format(Locale.ROOT, "  %s %s", m.name(), v.isMissingNode() ? "-" : format(v)));
                }
                System.out.println(line);
            }
        }
        System.out.printf(Locale.ROOT, "report: %s (%.1f s)%n", out.resolve("report.html"), (System.nanoTime() - t0) / 1e9);
        return ExitCodes.OK;
    }

    private static String format(com.fasterxml.jackson.databind.JsonNode v) {
        String s = String.format(Locale.ROOT, "%.4f", v.get("value").asDouble());
        return v.path("stderr").isNumber() ? s + String.format(Locale.ROOT, " ± %.4f", v.get("stderr").asDouble()) : s;
    }

    /** $LLMKIT_SHARED_DATA, else ../shared/data beside the llmkit checkout, else ../shared/data from here; null when none exists. */
    static Path sharedData() {
        String env = System.getenv("LLMKIT_SHARED_DATA");
        if (env != null && !env.isBlank()) return Path.of(env);
        String home = System.getProperty("llmkit.home");
        for (Path p : new Path[] {home == null ? null : Path.of(home).resolve("../shared/data").normalize(), Path.of("../shared/data")}) {
            if (p != null && Files.isDirectory(p)) return p;
        }
        return null;
    }

    private static String defaultName(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        String n = abs.getFileName().toString().replaceFirst("\\.gguf$", "");
        if ((n.equals("final") || n.startsWith("step-")) && abs.getParent() != null) {
            Path run = n.equals("final") ? abs.getParent() : abs.getParent().getParent();
            if (run != null && run.getFileName() != null) return run.getFileName() + "/" + n;
        }
        return n;
    }

    /** "F32", or the block types of a quantized file by how many weights each holds ("Q4_K 86% + Q6_K 14%"). */
    private static String storage(Checkpoint.Loaded m) {
        if (m.weights().quantized().isEmpty()) return "F32";
        Map<String, Long> by = new TreeMap<>();
        long total = 0;
        for (QuantTensor q : m.weights().quantized().values()) {
            long n = (long) q.rows() * q.cols();
            by.merge(q.type().name(), n, Long::sum);
            total += n;
        }
        List<Map.Entry<String, Long>> es = new ArrayList<>(by.entrySet());
        es.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Long> e : es) b.append(b.isEmpty() ? "" : " + ").append(e.getKey()).append(es.size() > 1 ? String.format(Locale.ROOT, " %.0f%%", 100.0 * e.getValue() / total) : "");
        return b.toString();
    }

    private static long size(Path p) {
        try {
            if (Files.isRegularFile(p)) return Files.size(p);
            Path st = p.resolve("model.safetensors");
            return Files.isRegularFile(st) ? Files.size(st) : 0;
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    /** The metrics.jsonl of the run a checkpoint directory belongs to, when there is one. */
    private static Path metrics(Path p) {
        if (!Files.isDirectory(p)) return null;
        Path abs = p.toAbsolutePath().normalize();
        for (Path d = abs; d != null && d.getNameCount() > abs.getNameCount() - 3; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("metrics.jsonl"))) return d.resolve("metrics.jsonl");
        }
        try {
            Path real = p.toRealPath();     // final -> checkpoints/step-N: the run is two levels up
            for (Path d = real; d != null && d.getNameCount() > real.getNameCount() - 3; d = d.getParent()) {
                if (Files.isRegularFile(d.resolve("metrics.jsonl"))) return d.resolve("metrics.jsonl");
            }
        } catch (java.io.IOException e) {
            return null;
        }
        return null;
    }
}
