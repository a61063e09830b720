package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.util.Text;
import dev.llmkit.data.corpus.CorpusTexts;
import dev.llmkit.data.prepare.Corpus;
import dev.llmkit.data.prepare.InputFiles;
import dev.llmkit.data.synth.Synth;
import dev.llmkit.data.tokenize.Pretokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The run directory's stages in order, each skipped when it is done with the same inputs:
 * <pre>
 * raw/ (data synth) -> 00-corpus -> 01-tokenizer -> 02-tokens -> 03-pretrain -> 04-finetune -> 05-quantize -> 06-eval
 * </pre>
 * A stage's key is the sha256 of its config sections and of the keys of the stages it reads, so a
 * changed key re-runs that stage and everything after it. {@code RUN/.pipeline/STAGE.json} records a
 * finished stage (key, config, inputs, time, key figures); {@code RUN/.pipeline/STAGE.started} records
 * the key a stage began with: pre-training and fine-tuning interrupted with the same key resume from
 * their last checkpoint, other stages start over. (The markers sit outside the stage directories,
 * which each stage owns and checks as its own.)
 */
final class Pipeline {
    private Pipeline() {}

    /** The finished-stage record and the started marker of a stage. */
    static Path done(Path run, Stage s) {
        return run.resolve(".pipeline").resolve(s.name + ".json");
    }

    static Path started(Path run, Stage s) {
        return run.resolve(".pipeline").resolve(s.name + ".started");
    }

    /** One stage: its name, directory, config sections, the stages it reads, and its work. */
    record Stage(String name, String dir, List<String> sections, List<String> reads) {}

    static final List<Stage> STAGES = List.of(
            new Stage("synth", "raw", List.of("data.synth"), List.of()),
            new Stage("prepare", "00-corpus", List.of("data.prepare"), List.of("synth")),
            new Stage("tokenizer", "01-tokenizer", List.of("tokenizer"), List.of("prepare")),
            new Stage("tokenize", "02-tokens", List.of("data.tokenize"), List.of("prepare", "tokenizer")),
            new Stage("pretrain", "03-pretrain", List.of("model", "pretrain"), List.of("tokenize", "tokenizer")),
            new Stage("finetune", "04-finetune", List.of("finetune"), List.of("pretrain", "synth")),
            new Stage("quantize", "05-quantize", List.of(), List.of("finetune")),
            new Stage("eval", "06-eval", List.of(), List.of("pretrain", "finetune", "quantize", "synth")));

    /** What the quantize and eval stages do (no config section yet): part of their keys. */
    static final List<String> QUANT_TYPES = List.of("q8_0", "q4_k_m");
    static final int EVAL_LIMIT = 200;

    static Stage stage(String name) {
        for (Stage s : STAGES) if (s.name.equals(name)) return s;
        List<String> names = STAGES.stream().map(Stage::name).toList();
        throw new ConfigException("unknown stage \"" + name + "\"", "stages: " + String.join(", ", names));
    }

    /** The stages' keys for a resolved config, in order. */
    static Map<String, String> keys(JsonNode tree) {
        Map<String, String> keys = new LinkedHashMap<>();
        for (Stage s : STAGES) keys.put(s.name, Text.sha256(identity(s, tree, keys).toString().getBytes(StandardCharsets.UTF_8)));
        return keys;
    }

    /** The JSON a stage's key hashes: its config sections and its inputs' keys. */
    static ObjectNode identity(Stage s, JsonNode tree, Map<String, String> keys) {
        ObjectNode id = Json.MAPPER.createObjectNode();
        ObjectNode cfg = id.putObject("config");
        for (String sec : s.sections) cfg.set(sec, section(tree, sec));
        if (s.name.equals("quantize")) QUANT_TYPES.forEach(cfg.putArray("types")::add);
        if (s.name.equals("eval")) cfg.put("limit", EVAL_LIMIT);
        ObjectNode in = id.putObject("inputs");
        for (String r : s.reads) in.put(r, keys.get(r));
        return id;
    }

    private static JsonNode section(JsonNode tree, String path) {
        JsonNode n = tree;
        for (String p : path.split("\\.")) n = n.path(p);
        return n;
    }

    /** A stage's state in a run directory: done, stale (and why), interrupted, or not started. */
    static String state(Path run, Stage s, Map<String, String> keys, JsonNode tree, String[] why) {
        JsonNode done = read(done(run, s));
        String key = keys.get(s.name);
        if (done != null) {
            if (key.equals(done.path("key").asText())) return "done";
            why[0] = difference(s, done, tree, keys);
            return "stale";
        }
        if (Files.exists(started(run, s))) return "interrupted";
        return "not started";
    }

    /** Which config section or input changed since the stage ran. */
    private static String difference(Stage s, JsonNode done, JsonNode tree, Map<String, String> keys) {
        List<String> changed = new ArrayList<>();
        ObjectNode now = identity(s, tree, keys);
        now.get("config").fieldNames().forEachRemaining(f -> {
            if (!now.get("config").get(f).equals(done.path("config").path(f))) changed.add(f + " changed");
        });
        now.get("inputs").fieldNames().forEachRemaining(f -> {
            if (!now.get("inputs").get(f).asText().equals(done.path("inputs").path(f).asText())) changed.add(f + " was re-run");
        });
        return changed.isEmpty() ? "a different llmkit recorded it" : String.join(", ", changed);
    }

    static JsonNode read(Path f) {
        if (!Files.isRegularFile(f)) return null;
        try {
            return Json.MAPPER.readTree(f.toFile());
        } catch (IOException e) {
            return null;     // a damaged marker: the stage counts as not done
        }
    }

    /**
     * Runs stages [from, until] of {@code run} under {@code resolved}, skipping every stage that is done
     * with the same key (unless it is {@code from} or after it, when {@code from} is given).
     */
    static void run(Path run, ConfigLoader.Resolved resolved, String from, String until) {
        int first = from == null ? 0 : STAGES.indexOf(stage(from)), last = until == null ? STAGES.size() - 1 : STAGES.indexOf(stage(until));
        AtomicFiles.write(run.resolve("pipeline.yaml"), resolved.toYaml().getBytes(StandardCharsets.UTF_8));
        Map<String, String> keys = keys(resolved.tree());
        long start = System.nanoTime();
        for (int i = 0; i <= last; i++) {
            Stage s = STAGES.get(i);
            String[] why = new String[1];
            String state = state(run, s, keys, resolved.tree(), why);
            String head = String.format(Locale.ROOT, "[%d/%d] %s -> %s", i + 1, STAGES.size(), s.name, run.resolve(s.dir));
            if (state.equals("done") && (from == null || i < first)) {
                System.out.println(head + ": done (same config and inputs), skipped");
                continue;
            }
            if (i < first) {
                throw new ConfigException("stage " + s.name + " is " + state + (why[0] != null ? " (" + why[0] + ")" : "") + ", so --from " + from + " cannot start after it",
                        "run without --from, or --from " + s.name);
            }
            Path dir = run.resolve(s.dir);
            JsonNode started = read(started(run, s));
            boolean resume = state.equals("interrupted") && started != null && keys.get(s.name).equals(started.path("key").asText())
                    && (s.name.equals("pretrain") || s.name.equals("finetune")) && Files.isDirectory(dir.resolve("checkpoints"))
                    && (from == null || i > first);
            System.out.println(head + (resume ? ": interrupted, resuming from its last checkpoint"
                    : state.equals("stale") ? ": re-running (" + why[0] + ")" : state.equals("done") ? ": re-running (--from)" : ""));
            if (!resume) clear(dir);
            AtomicFiles.write(started(run, s), Json.bytes(Json.MAPPER.createObjectNode().put("key", keys.get(s.name))));
            long t0 = System.nanoTime();
            ObjectNode summary = Json.MAPPER.createObjectNode();
            work(s, run, resolved, resume, summary);
            ObjectNode done = identity(s, resolved.tree(), keys);
            done.put("stage", s.name);
            done.put("key", keys.get(s.name));
            done.put("seconds", (System.nanoTime() - t0) / 1e9);
            done.set("summary", summary);
            AtomicFiles.write(done(run, s), Json.bytes(done));
            try {
                Files.deleteIfExists(started(run, s));
            } catch (IOException e) {
                throw new dev.llmkit.core.StorageException(started(run, s) + ": cannot remove: " + e.getMessage(), null, e);
            }
        }
        System.out.printf(Locale.ROOT, "pipeline done in %.1f s: %s%n", (System.nanoTime() - start) / 1e9, run);
    }

    private static void clear(Path dir) {
        try {
            if (Files.exists(dir)) AtomicFiles.deleteRecursively(dir);
        } catch (IOException e) {
            throw new dev.llmkit.core.StorageException(dir + ": cannot replace: " + e.getMessage(), null, e);
        }
    }

    /** One stage's work, through the same code as its own command; key figures into {@code summary}. */
    private static void work(Stage s, Path run, ConfigLoader.Resolved resolved, boolean resume, ObjectNode summary) {
        var cfg = resolved.config();
        Path dir = run.resolve(s.dir), tokJson = run.resolve("01-tokenizer/tokenizer.json");
        switch (s.name) {
            case "synth" -> {
                Synth.Result r;
                try (ConsoleProgress progress = ConsoleProgress.create()) {
                    r = Synth.generate(cfg.data().synth(), dir, true, progress);
                }
                SynthCommand.print(r, dir);
                summary.put("people", cfg.data().synth().people());
            }
            case "prepare" -> {
                long t0 = System.nanoTime();
                Corpus.Manifest m;
                try (ConsoleProgress progress = ConsoleProgress.create()) {
                    m = Corpus.prepare(cfg.data().prepare(), InputFiles.resolve(List.of(run.resolve("raw/corpus").toString())), dir, true, progress);
                }
                PrepareCommand.printSummary(m.report(), dir, (System.nanoTime() - t0) / 1e9);
            }
            case "tokenizer" -> TokenizerTrainCommand.print(TokenizerTrainCommand.train(CorpusTexts.open(List.of(run.resolve("00-corpus")), List.of()),
                    cfg.tokenizer(), dir, true), dir);
            case "tokenize" -> {
                Pretokenizer.Result t;
                try (ConsoleProgress progress = ConsoleProgress.create()) {
                    t = Pretokenizer.run(run.resolve("00-corpus"), tokJson, cfg.data().tokenize(), dir, true, progress);
                }
                TokenizeCommand.print(t, dir);
            }
            case "pretrain" -> {
                var r = PretrainCommand.train(run.resolve("02-tokens"), tokJson, cfg, dir, resume);
                PretrainCommand.print(r);
                summary.put("final", dir.resolve("final").toString());
            }
            case "finetune" -> {
                var r = FinetuneCommand.train(run.resolve("03-pretrain/final"), List.of(run.resolve("raw/qa/train.jsonl").toString()), Map.of(),
                        cfg.finetune(), dir, resume);
                FinetuneCommand.print(r);
                summary.put("final", dir.resolve("final").toString());
            }
            case "quantize" -> {
                for (String type : QUANT_TYPES) {
                    QuantizeCommand q = new QuantizeCommand();
                    q.model = run.resolve("04-finetune/final");
                    q.type = type;
                    q.out = dir.resolve("model-" + type + ".gguf");
                    q.force = true;
                    q.table = false;
                    q.evalTokens = 8192;
                    q.benchTokens = 64;
                    q.call();
                    JsonNode rep = read(dir.resolve("model-" + type + ".report.json"));
                    if (rep != null) summary.set(type, Json.MAPPER.createObjectNode().put("bytes", rep.path("file_bytes").asLong())
                            .put("bits_per_byte", rep.at("/quality/bits_per_byte").asDouble()).put("decode_tokens_per_second", rep.at("/decode/tokens_per_second").asDouble()));
                }
            }
            case "eval" -> {
                EvalCommand e = new EvalCommand();
                e.models = List.of(run.resolve("03-pretrain/final"), run.resolve("04-finetune/final"), run.resolve("05-quantize/model-q8_0.gguf"),
                        run.resolve("05-quantize/model-q4_k_m.gguf"));
                e.names = List.of("pretrained", "fine-tuned", "fine-tuned Q8_0", "fine-tuned Q4_K_M");
                e.tasks = List.of("bios:" + run.resolve("raw/qa/train.jsonl"), "bios:" + run.resolve("raw/qa/heldout.jsonl"));
                e.out = dir;
                e.limit = EVAL_LIMIT;
                e.fewshot = -1;
                e.seed = 1234;
                e.call();
                JsonNode rep = read(dir.resolve("report.json"));
                if (rep != null) {
                    // the run's stages (times, key figures) into the report, rendered again with them
                    com.fasterxml.jackson.databind.node.ArrayNode stages = ((ObjectNode) rep).putObject("pipeline").putArray("stages");
                    for (Stage st : STAGES) {
                        JsonNode d = read(done(run, st));
                        if (d != null) stages.addObject().put("stage", st.name).put("seconds", d.path("seconds").asDouble()).set("summary", d.path("summary"));
                    }
                    Json.write(dir.resolve("report.json"), rep);
                    dev.llmkit.eval.EvalReport.write(rep, dir);
                    for (JsonNode t : rep.get("tasks")) {
                        ObjectNode em = summary.putObject(t.get("name").asText());
                        t.get("results").fields().forEachRemaining(f -> em.put(f.getKey(), f.getValue().at("/metrics/exact_match/value").asDouble()));
                    }
                }
            }
            default -> throw new IllegalStateException(s.name);
        }
    }
}
