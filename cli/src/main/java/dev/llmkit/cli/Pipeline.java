package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.PipelineConfig;
import dev.llmkit.core.util.Text;
import dev.llmkit.data.corpus.CorpusTexts;
import dev.llmkit.data.prepare.Corpus;
import dev.llmkit.data.prepare.InputFiles;
import dev.llmkit.data.synth.Synth;
import dev.llmkit.data.tokenize.Pretokenizer;
import dev.llmkit.eval.TaskSpec;
import dev.llmkit.finetune.SftExamples;
import dev.llmkit.finetune.data.Conversation;
import dev.llmkit.finetune.data.SftReader;
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
 * A stage's key is the sha256 of its config sections, the keys of the stages it reads and the
 * fingerprint (path, size, modification time) of the user files it reads, so a changed key re-runs
 * that stage and everything after it. {@code RUN/.pipeline/STAGE.json} records a finished stage (key,
 * config, inputs, time, key figures); {@code RUN/.pipeline/STAGE.started} records the key a stage
 * began with: pre-training and fine-tuning interrupted with the same key resume from their last
 * checkpoint, other stages start over. (The markers sit outside the stage directories, which each
 * stage owns and checks as its own.)
 *
 * <p>Stages hand each other typed results ({@link Outputs}), each read back from its directory when the
 * stage is skipped, so a finished stage whose artefacts were deleted runs again. Which stages run
 * depends on {@code pipeline}: no synthesis when {@code pipeline.inputs} names shards, no fine-tuning
 * without Q&amp;A, no quantization without types.
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

    /** One stage: its name, directory and config sections. */
    record Stage(String name, String dir, List<String> sections) {}

    static final List<Stage> STAGES = List.of(
            new Stage("synth", "raw", List.of("data.synth")),
            new Stage("prepare", "00-corpus", List.of("data.prepare", "pipeline.inputs")),
            new Stage("tokenizer", "01-tokenizer", List.of("tokenizer")),
            new Stage("tokenize", "02-tokens", List.of("data.tokenize")),
            new Stage("pretrain", "03-pretrain", List.of("model", "pretrain")),
            new Stage("finetune", "04-finetune", List.of("finetune", "pipeline.finetune_data")),
            new Stage("quantize", "05-quantize", List.of("pipeline.quantize")),
            new Stage("eval", "06-eval", List.of("pipeline.eval_tasks", "pipeline.eval_limit")));

    static Stage stage(String name) {
        for (Stage s : STAGES) if (s.name.equals(name)) return s;
        List<String> names = STAGES.stream().map(Stage::name).toList();
        throw new ConfigException("unknown stage \"" + name + "\"", "stages: " + String.join(", ", names));
    }

    /** Why a stage does not run under {@code p}, or null when it does. */
    static String inactive(Stage s, PipelineConfig p) {
        return switch (s.name) {
            case "synth" -> p.synthetic() ? null : "pipeline.inputs names the corpus";
            case "finetune" -> p.synthetic() || !p.finetuneData().isEmpty() ? null : "no pipeline.finetune_data";
            case "quantize" -> p.quantize().isEmpty() ? "pipeline.quantize is empty" : null;
            default -> null;
        };
    }

    /** The earlier stages a stage reads under {@code p} (active ones only). */
    static List<String> reads(Stage s, PipelineConfig p) {
        List<String> r = new ArrayList<>(switch (s.name) {
            case "synth" -> List.<String>of();
            case "prepare" -> List.of("synth");
            case "tokenizer" -> List.of("prepare");
            case "tokenize" -> List.of("prepare", "tokenizer");
            case "pretrain" -> List.of("tokenize", "tokenizer");
            case "finetune" -> List.of("pretrain", "synth");
            case "quantize" -> List.of("pretrain", "finetune", "tokenize");
            case "eval" -> List.of("tokenize", "pretrain", "finetune", "quantize", "synth");
            default -> throw new IllegalStateException(s.name);
        });
        r.removeIf(n -> inactive(stage(n), p) != null);
        return r;
    }

    /** The user files a stage reads (pipeline.inputs, pipeline.finetune_data). */
    static List<String> files(Stage s, PipelineConfig p) {
        return switch (s.name) {
            case "prepare" -> p.inputs();
            case "finetune" -> p.finetuneData();
            default -> List.of();
        };
    }

    /** The stages' keys for a resolved config, in order (inactive stages have none). */
    static Map<String, String> keys(ConfigLoader.Resolved resolved) {
        Map<String, String> keys = new LinkedHashMap<>();
        for (Stage s : STAGES) {
            if (inactive(s, resolved.config().pipeline()) != null) continue;
            keys.put(s.name, Text.sha256(identity(s, resolved, keys).toString().getBytes(StandardCharsets.UTF_8)));
        }
        return keys;
    }

    /** The JSON a stage's key hashes: its config sections, its inputs' keys and its user files. */
    static ObjectNode identity(Stage s, ConfigLoader.Resolved resolved, Map<String, String> keys) {
        ObjectNode id = Json.MAPPER.createObjectNode();
        ObjectNode cfg = id.putObject("config");
        for (String sec : s.sections) cfg.set(sec, section(resolved.tree(), sec));
        ObjectNode in = id.putObject("inputs");
        PipelineConfig p = resolved.config().pipeline();
        for (String r : reads(s, p)) in.put(r, keys.get(r));
        List<String> files = files(s, p);
        if (!files.isEmpty()) in.put("files", fingerprint(files));
        return id;
    }

    private static JsonNode section(JsonNode tree, String path) {
        JsonNode n = tree;
        for (String p : path.split("\\.")) n = n.path(p);
        return n;
    }

    /**
     * The sha256 of every file under {@code paths} (directories walked, sorted) with its size and
     * modification time: a user file replaced or touched re-runs the stage that reads it, without
     * reading gigabytes of shards to find out.
     */
    static String fingerprint(List<String> paths) {
        StringBuilder b = new StringBuilder();
        for (String a : paths) {
            Path p = Path.of(a);
            List<Path> files;
            try (var walk = Files.isDirectory(p) ? Files.walk(p) : java.util.stream.Stream.of(p)) {
                files = walk.filter(Files::isRegularFile).sorted().toList();
            } catch (IOException | java.io.UncheckedIOException e) {
                files = List.of();
            }
            b.append(a).append('\n');
            if (files.isEmpty()) b.append("missing\n");
            for (Path f : files) {
                try {
                    b.append(f).append(' ').append(Files.size(f)).append(' ').append(Files.getLastModifiedTime(f).toMillis()).append('\n');
                } catch (IOException e) {
                    b.append(f).append(" unreadable\n");
                }
            }
        }
        return Text.sha256(b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** A stage's state in a run directory: done, stale (and why), incomplete, interrupted, not started, or skipped. */
    static String state(Path run, Stage s, Map<String, String> keys, ConfigLoader.Resolved resolved, String[] why) {
        String off = inactive(s, resolved.config().pipeline());
        if (off != null) {
            why[0] = off;
            return "skipped";
        }
        JsonNode done = read(done(run, s));
        String key = keys.get(s.name);
        if (done != null) {
            if (!key.equals(done.path("key").asText())) {
                why[0] = difference(s, done, resolved, keys);
                return "stale";
            }
            String missing = Outputs.missing(s, run, resolved.config().pipeline());
            if (missing == null) return "done";
            why[0] = missing + " is missing";
            return "incomplete";
        }
        if (Files.exists(started(run, s))) return "interrupted";
        return "not started";
    }

    /** Which config section or input changed since the stage ran. */
    private static String difference(Stage s, JsonNode done, ConfigLoader.Resolved resolved, Map<String, String> keys) {
        List<String> changed = new ArrayList<>();
        ObjectNode now = identity(s, resolved, keys);
        now.get("config").fieldNames().forEachRemaining(f -> {
            // compared as JSON text: a long read back from the record is an int node, equal in value
            if (!now.get("config").get(f).toString().equals(done.path("config").path(f).toString())) changed.add(f + " changed");
        });
        now.get("inputs").fieldNames().forEachRemaining(f -> {
            if (!now.get("inputs").get(f).asText().equals(done.path("inputs").path(f).asText())) {
                changed.add(f.equals("files") ? "its input files changed" : f + " was re-run");
            }
        });
        done.path("inputs").fieldNames().forEachRemaining(f -> {
            if (!now.get("inputs").has(f)) changed.add(f + " is no longer an input");
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
        PipelineConfig pc = resolved.config().pipeline();
        if (from != null && inactive(stage(from), pc) != null) throw new ConfigException("--from " + from + ": that stage does not run here (" + inactive(stage(from), pc) + ")", null);
        for (String f : pc.inputs()) if (!Files.exists(Path.of(f))) throw new ConfigException("pipeline.inputs: " + f + " does not exist", "give your shards with --set 'pipeline.inputs=[DIR_OR_FILE, ...]'");
        for (String f : pc.finetuneData()) if (!Files.isRegularFile(Path.of(f))) throw new ConfigException("pipeline.finetune_data: " + f + " is not a file", "give your Q&A files with --set 'pipeline.finetune_data=[FILE, ...]'");
        AtomicFiles.write(run.resolve("pipeline.yaml"), resolved.toYaml().getBytes(StandardCharsets.UTF_8));
        Map<String, String> keys = keys(resolved);
        Outputs out = new Outputs(run);
        long start = System.nanoTime();
        for (int i = 0; i <= last; i++) {
            Stage s = STAGES.get(i);
            String[] why = new String[1];
            String state = state(run, s, keys, resolved, why);
            String head = String.format(Locale.ROOT, "[%d/%d] %s -> %s", i + 1, STAGES.size(), s.name, run.resolve(s.dir));
            if (state.equals("skipped")) {
                System.out.println(head + ": not run (" + why[0] + ")");
                continue;
            }
            if (state.equals("done") && (from == null || i < first)) {
                System.out.println(head + ": done (same config and inputs), skipped");
                out.open(s, pc);
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
                    : state.equals("stale") || state.equals("incomplete") ? ": re-running (" + why[0] + ")" : state.equals("done") ? ": re-running (--from)" : ""));
            if (!resume) clear(dir);
            AtomicFiles.write(started(run, s), Json.bytes(Json.MAPPER.createObjectNode().put("key", keys.get(s.name))));
            long t0 = System.nanoTime();
            ObjectNode summary = Json.MAPPER.createObjectNode();
            work(s, out, resolved, resume, summary);
            ObjectNode done = identity(s, resolved, keys);
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

    /**
     * The lines of a Q&amp;A file split as fine-tuning split them ({@link SftExamples#isValidation}):
     * {@code DIR/finetune-seen.jsonl} (trained on) and {@code DIR/finetune-unseen.jsonl} (held out).
     */
    static List<Path> splitBySeen(Path qa, double valFraction, Path dir) {
        SftReader.Result read = SftReader.read(List.of(qa.toString()), SftReader.Options.DEFAULTS);
        java.util.Set<Integer> unseen = new java.util.HashSet<>();
        for (Conversation c : read.conversations()) {
            if (SftExamples.isValidation(c.messages(), valFraction)) unseen.add(Integer.parseInt(c.source().substring(c.source().lastIndexOf(':') + 1)));
        }
        StringBuilder seen = new StringBuilder(), held = new StringBuilder();
        try {
            List<String> lines = Files.readAllLines(qa, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) continue;
                (unseen.contains(i + 1) ? held : seen).append(lines.get(i)).append('\n');
            }
        } catch (IOException e) {
            throw new dev.llmkit.core.StorageException(qa + ": cannot read: " + e.getMessage(), null, e);
        }
        Path a = dir.resolve("finetune-seen.jsonl"), b = dir.resolve("finetune-unseen.jsonl");
        AtomicFiles.write(a, seen.toString().getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(b, held.toString().getBytes(StandardCharsets.UTF_8));
        return List.of(a, b);
    }

    /** The metric a task's summary gives: bits per byte for perplexity, exact match for generation, accuracy for multiple choice. */
    static String headlineMetric(JsonNode task) {
        return switch (task.path("type").asText()) {
            case TaskSpec.PERPLEXITY -> "bits_per_byte";
            case TaskSpec.GENERATE -> "exact_match";
            default -> "acc";
        };
    }

    /** The last value of {@code field} in a metrics.jsonl, or null. */
    static JsonNode lastValue(Path metrics, String field) {
        JsonNode last = null;
        try (var lines = Files.lines(metrics)) {
            for (String l : (Iterable<String>) lines::iterator) {
                if (!l.contains(field)) continue;
                JsonNode v = Json.MAPPER.readTree(l).path(field);
                if (v.isNumber()) last = v;
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            return null;
        }
        return last;
    }

    private static void clear(Path dir) {
        try {
            if (Files.exists(dir)) AtomicFiles.deleteRecursively(dir);
        } catch (IOException e) {
            throw new dev.llmkit.core.StorageException(dir + ": cannot replace: " + e.getMessage(), null, e);
        }
    }

    /**
     * What the stages hand on, set by each stage's work or, for a skipped stage, read back from its
     * directory ({@link #open}). Later stages take their inputs from here, never from paths of their own.
     */
    static final class Outputs {
        /** raw/ or pipeline.inputs: documents to prepare, and the Q&amp;A of the fine-tuning and held-out people (null without synth). */
        record Documents(List<String> inputs, Path finetuneQa, Path heldoutQa) {}

        /** 00-corpus: prepared shards. */
        record Corpus(Path dir) {}

        /** 01-tokenizer: tokenizer.json. */
        record Tokenizer(Path json) {}

        /** 02-tokens: token shards and the validation shards among them. */
        record Tokens(Path dir, List<Path> validation) {}

        /** 03-pretrain, 04-finetune: a final checkpoint and the name eval gives it. */
        record Model(Path checkpoint, String name) {}

        /** 05-quantize: GGUF files and their names. */
        record Quantized(List<Path> files, List<String> names) {}

        final Path run;
        Documents documents;
        Corpus corpus;
        Tokenizer tokenizer;
        Tokens tokens;
        Model pretrained, finetuned;
        Quantized quantized;

        Outputs(Path run) {
            this.run = run;
        }

        /** The model the later stages start from: fine-tuned when there is fine-tuning, else pre-trained. */
        Model last() {
            return finetuned != null ? finetuned : pretrained;
        }

        /** The first artefact of a finished stage that is not there, or null. */
        static String missing(Stage s, Path run, PipelineConfig p) {
            for (Path f : artefacts(s, run, p)) if (!Files.exists(f)) return run.relativize(f).toString();
            return null;
        }

        private static List<Path> artefacts(Stage s, Path run, PipelineConfig p) {
            Path d = run.resolve(s.dir);
            return switch (s.name) {
                case "synth" -> List.of(d.resolve("corpus"), d.resolve("qa/train.jsonl"), d.resolve("qa/heldout.jsonl"));
                case "prepare" -> List.of(d.resolve("report.json"));
                case "tokenizer" -> List.of(d.resolve("tokenizer.json"));
                case "tokenize" -> List.of(d.resolve("manifest.json"));
                case "pretrain", "finetune" -> List.of(d.resolve("final/config.json"), d.resolve("final/model.safetensors"));
                case "quantize" -> p.quantize().stream().map(t -> gguf(d, t)).toList();
                case "eval" -> List.of(d.resolve("report.json"), d.resolve("report.html"));
                default -> throw new IllegalStateException(s.name);
            };
        }

        /** Sets a skipped stage's result from its directory (its artefacts were checked by {@link #missing}). */
        void open(Stage s, PipelineConfig p) {
            Path d = run.resolve(s.dir);
            switch (s.name) {
                case "synth" -> documents = new Documents(List.of(d.resolve("corpus").toString()), d.resolve("qa/train.jsonl"), d.resolve("qa/heldout.jsonl"));
                case "prepare" -> corpus = new Corpus(d);
                case "tokenizer" -> tokenizer = new Tokenizer(d.resolve("tokenizer.json"));
                case "tokenize" -> tokens = new Tokens(d, validationShards(d));
                case "pretrain" -> pretrained = new Model(d.resolve("final"), "pretrained");
                case "finetune" -> finetuned = new Model(d.resolve("final"), "fine-tuned");
                case "quantize" -> quantized = quantizedFiles(d, p);
                case "eval" -> { }
                default -> throw new IllegalStateException(s.name);
            }
        }

        Quantized quantizedFiles(Path d, PipelineConfig p) {
            List<Path> files = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (String t : p.quantize()) {
                files.add(gguf(d, t));
                names.add(last().name() + " " + t.toUpperCase(Locale.ROOT));
            }
            return new Quantized(files, names);
        }

        /** 05-quantize's file of one type, e.g. model-q4_k_m.gguf. */
        static Path gguf(Path quantizeDir, String type) {
            return quantizeDir.resolve("model-" + type.toLowerCase(Locale.ROOT) + ".gguf");
        }

        static List<Path> validationShards(Path tokens) {
            try (var list = Files.list(tokens)) {
                return list.filter(f -> f.getFileName().toString().matches("val-\\d+\\.tok")).sorted().toList();
            } catch (IOException e) {
                throw new dev.llmkit.core.StorageException(tokens + ": cannot list: " + e.getMessage(), null, e);
            }
        }
    }

    /** One stage's work, through the same code as its own command; its result into {@code out}, key figures into {@code summary}. */
    private static void work(Stage s, Outputs out, ConfigLoader.Resolved resolved, boolean resume, ObjectNode summary) {
        var cfg = resolved.config();
        PipelineConfig pc = cfg.pipeline();
        Path dir = out.run.resolve(s.dir);
        switch (s.name) {
            case "synth" -> {
                Synth.Result r;
                try (ConsoleProgress progress = ConsoleProgress.create()) {
                    r = Synth.generate(cfg.data().synth(), dir, true, progress);
                }
                SynthCommand.print(r, dir);
                summary.put("people", r.people()).put("biographies", r.biographies()).put("qa_finetune", r.qaTrain()).put("qa_heldout", r.qaHeldout());
                out.open(s, pc);
            }
            case "prepare" -> {
                long t0 = System.nanoTime();
                List<String> inputs = pc.synthetic() ? out.documents.inputs() : pc.inputs();
                List<InputFiles.Input> files;
                try {
                    files = InputFiles.resolve(inputs);
                } catch (ConfigException e) {
                    throw new ConfigException((pc.synthetic() ? "" : "pipeline.inputs: ") + e.getMessage(), e.hint());
                }
                Corpus.Manifest m;
                try (ConsoleProgress progress = ConsoleProgress.create()) {
                    m = Corpus.prepare(cfg.data().prepare(), files, dir, true, progress);
                }
                PrepareCommand.printSummary(m.report(), dir, (System.nanoTime() - t0) / 1e9);
                summary.put("documents", m.report().totals().documentsOut()).put("text_bytes", m.report().totals().textBytesOut());
                out.corpus = new Outputs.Corpus(dir);
            }
            case "tokenizer" -> {
                var o = TokenizerTrainCommand.train(CorpusTexts.open(List.of(out.corpus.dir()), List.of()), cfg.tokenizer(), dir, true);
                TokenizerTrainCommand.print(o, dir);
                summary.put("vocab_size", o.report().vocabSize());
                if (o.report().validation() != null) summary.put("tokens_per_byte", o.report().validation().tokensPerByte());
                out.tokenizer = new Outputs.Tokenizer(dir.resolve("tokenizer.json"));
            }
            case "tokenize" -> {
                Pretokenizer.Result t;
                try (ConsoleProgress progress = ConsoleProgress.create()) {
                    t = Pretokenizer.run(out.corpus.dir(), out.tokenizer.json(), cfg.data().tokenize(), dir, true, progress);
                }
                TokenizeCommand.print(t, dir);
                summary.put("train_tokens", t.manifest().train().tokens()).put("val_tokens", t.manifest().val().tokens());
                out.tokens = new Outputs.Tokens(dir, Outputs.validationShards(dir));
            }
            case "pretrain" -> {
                var r = PretrainCommand.train(out.tokens.dir(), out.tokenizer.json(), cfg, dir, resume);
                PretrainCommand.print(r);
                summary.put("steps", r.steps()).put("train_loss", r.trainLoss()).put("val_loss", r.valLoss()).put("val_bits_per_byte", r.valBitsPerByte());
                out.pretrained = new Outputs.Model(dir.resolve("final"), "pretrained");
            }
            case "finetune" -> {
                List<String> data = pc.finetuneData().isEmpty() ? List.of(out.documents.finetuneQa().toString()) : pc.finetuneData();
                var r = FinetuneCommand.train(out.pretrained.checkpoint(), data, Map.of(), cfg.finetune(), dir, resume);
                FinetuneCommand.print(r);
                summary.put("steps", r.train().steps()).put("train_loss", r.train().trainLoss()).put("val_loss", r.train().valLoss());
                JsonNode em = lastValue(dir.resolve("metrics.jsonl"), "val_exact_match");
                if (em != null) summary.put("val_exact_match", em.asDouble());
                out.finetuned = new Outputs.Model(dir.resolve("final"), "fine-tuned");
            }
            case "quantize" -> {
                Outputs.Quantized q = out.quantizedFiles(dir, pc);
                for (int i = 0; i < pc.quantize().size(); i++) {
                    String type = pc.quantize().get(i);
                    QuantizeCommand c = new QuantizeCommand();
                    c.model = out.last().checkpoint();
                    c.type = type;
                    c.out = q.files().get(i);
                    c.force = true;
                    c.table = false;
                    c.evalTokens = 8192;
                    c.benchTokens = 64;
                    c.call();
                    JsonNode rep = read(QuantizeCommand.defaultReport(c.out));
                    if (rep != null) summary.set(type, Json.MAPPER.createObjectNode().put("bytes", rep.path("file_bytes").asLong())
                            .put("bits_per_byte", rep.at("/quality/bits_per_byte").asDouble()).put("decode_tokens_per_second", rep.at("/decode/tokens_per_second").asDouble()));
                }
                out.quantized = q;
            }
            case "eval" -> {
                EvalCommand e = new EvalCommand();
                List<Path> models = new ArrayList<>(List.of(out.pretrained.checkpoint()));
                List<String> names = new ArrayList<>(List.of(out.pretrained.name()));
                if (out.finetuned != null) {
                    models.add(out.finetuned.checkpoint());
                    names.add(out.finetuned.name());
                }
                if (out.quantized != null) {
                    models.addAll(out.quantized.files());
                    names.addAll(out.quantized.names());
                }
                e.models = models;
                e.names = names;
                e.tasks = new ArrayList<>(pc.evalTasks());
                if (pc.evalTasks().isEmpty()) {
                    if (out.documents != null && out.documents.finetuneQa() != null) {
                        if (out.finetuned != null && pc.finetuneData().isEmpty()) {
                            // the fine-tuning people's questions that fine-tuning trained on, and those it held out
                            List<Path> parts = splitBySeen(out.documents.finetuneQa(), cfg.finetune().valFraction(), dir.resolve("qa"));
                            parts.forEach(f -> e.tasks.add("bios:" + f));
                        } else {
                            e.tasks.add("bios:" + out.documents.finetuneQa());
                        }
                        e.tasks.add("bios:" + out.documents.heldoutQa());
                    }
                    // the run's own validation tokens, which every model here can score
                    if (!out.tokens.validation().isEmpty()) e.builtSpecs.add(new TaskSpec("validation", TaskSpec.PERPLEXITY, "", out.tokens.validation(), null, null, null, null, null, " ", "\n\n", 0, null,
                            List.of(), 1, null, null, false, null, "auto", "text", 0));
                }
                e.out = dir;
                e.limit = pc.evalLimit();
                e.fewshot = -1;
                e.seed = 1234;
                // the run's stages so far (times, key figures) go into the report as it is written
                ObjectNode pipeline = Json.MAPPER.createObjectNode();
                com.fasterxml.jackson.databind.node.ArrayNode stages = pipeline.putArray("stages");
                for (Stage st : STAGES) {
                    JsonNode d = read(done(out.run, st));
                    if (d != null && inactive(st, pc) == null) stages.addObject().put("stage", st.name).put("seconds", d.path("seconds").asDouble()).set("summary", d.path("summary"));
                }
                e.pipeline = pipeline;
                e.call();
                for (JsonNode t : e.report.get("tasks")) {
                    ObjectNode scores = summary.putObject(t.get("name").asText());
                    String metric = headlineMetric(t);
                    t.get("results").fields().forEachRemaining(f -> {
                        JsonNode v = f.getValue().at("/metrics/" + metric + "/value");
                        if (v.isNumber()) scores.put(f.getKey(), v.asDouble());
                    });
                }
            }
            default -> throw new IllegalStateException(s.name);
        }
    }
}
