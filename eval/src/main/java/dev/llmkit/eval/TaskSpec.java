package dev.llmkit.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One evaluation task, as a YAML file names it (keys after lm-evaluation-harness's) or as a preset
 * builds it. Types: {@code perplexity} (text files, JSONL with a text field, or token shards),
 * {@code multiple_choice} and {@code generate}.
 *
 * <pre>
 * name: piqa
 * type: multiple_choice                  # perplexity | multiple_choice | generate
 * data: valid.jsonl                      # a file, a directory (every data file in it) or several; relative to the YAML
 * labels: valid-labels.lst               # optional: one label per line, set as each document's "label"
 * description: ""                        # text put before the few-shot examples
 * doc_to_text: "Question: {{goal}}\nAnswer:"
 * doc_to_choice: ["{{sol1}}", "{{sol2}}"]  # or one reference to a list: "{{endings}}", "{{question.choices[].text}}"
 * doc_to_target: "{{label}}"             # a choice index, a choice text, or a letter of choice_labels
 * choice_labels: "{{question.choices[].label}}"   # optional (ARC's answerKey letters)
 * target_delimiter: " "                  # between context and continuation
 * fewshot_delimiter: "\n\n"
 * fewshot: 0                             # examples before each document (--fewshot overrides)
 * fewshot_data: train.jsonl              # default: the task's own documents, never the one being asked
 * until: ["\n\n"]                        # generate: stop strings
 * max_tokens: 64                         # generate: at most this many new tokens
 * answer_regex: "#### (-?[0-9.,]+)"      # generate: the answer is the first group of the first match
 * target_regex: "#### (.*)"              # generate: the same on the target
 * normalize: false                       # generate: compare lower-cased, without punctuation, articles and extra spaces
 * group_by: attribute                    # generate: exact match per value of this field as well
 * chat: auto                             # generate: through the chat template when the model has one (never: plain)
 * text_field: text                       # perplexity on JSONL: the field holding the text
 * stride: 0                              # perplexity: 0 = disjoint windows (rolling); N = sliding windows advancing N tokens
 * </pre>
 */
public record TaskSpec(String name, String type, String description, List<Path> data, Path labels, String docToText,
                       List<String> docToChoice, String docToTarget, String choiceLabels, String targetDelimiter,
                       String fewshotDelimiter, int fewshot, Path fewshotData, List<String> until, int maxTokens,
                       String answerRegex, String targetRegex, boolean normalize, String groupBy, String chat,
                       String textField, int stride) {

    public static final String PERPLEXITY = "perplexity", MULTIPLE_CHOICE = "multiple_choice", GENERATE = "generate";

    private static final Set<String> KEYS = Set.of("name", "type", "description", "data", "labels", "doc_to_text", "doc_to_choice",
            "doc_to_target", "choice_labels", "target_delimiter", "fewshot_delimiter", "fewshot", "fewshot_data", "until", "max_tokens",
            "answer_regex", "target_regex", "normalize", "group_by", "chat", "text_field", "stride");

    public TaskSpec {
        if (!Set.of(PERPLEXITY, MULTIPLE_CHOICE, GENERATE).contains(type)) {
            throw new ConfigException("task " + name + ": unknown type \"" + type + "\"", "use perplexity, multiple_choice or generate");
        }
        if (!type.equals(PERPLEXITY) && (docToText == null || docToTarget == null)) {
            throw new ConfigException("task " + name + ": doc_to_text and doc_to_target are required for " + type, null);
        }
        if (type.equals(MULTIPLE_CHOICE) && (docToChoice == null || docToChoice.isEmpty())) {
            throw new ConfigException("task " + name + ": doc_to_choice is required for multiple_choice", null);
        }
        if (fewshot < 0 || maxTokens < 1 || stride < 0) throw new ConfigException("task " + name + ": fewshot, stride >= 0 and max_tokens >= 1", null);
        if (!chat.equals("auto") && !chat.equals("never")) throw new ConfigException("task " + name + ": chat is auto or never, not \"" + chat + "\"", null);
    }

    /** The same task with its few-shot count replaced (when {@code k} >= 0). */
    public TaskSpec withFewshot(int k) {
        return k < 0 ? this : new TaskSpec(name, type, description, data, labels, docToText, docToChoice, docToTarget, choiceLabels,
                targetDelimiter, fewshotDelimiter, k, fewshotData, until, maxTokens, answerRegex, targetRegex, normalize, groupBy, chat, textField, stride);
    }

    /** The same task under another name. */
    public TaskSpec withName(String n) {
        return new TaskSpec(n, type, description, data, labels, docToText, docToChoice, docToTarget, choiceLabels, targetDelimiter,
                fewshotDelimiter, fewshot, fewshotData, until, maxTokens, answerRegex, targetRegex, normalize, groupBy, chat, textField, stride);
    }

    /** The data files: directories expanded to the data files in them, sorted. */
    public List<Path> files() {
        List<Path> out = new ArrayList<>();
        for (Path p : data) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(f -> Files.isRegularFile(f) && Docs.base(f).matches(".*\\.(jsonl|json|csv|tsv|txt|tok)$")).sorted().forEach(out::add);
                } catch (IOException e) {
                    throw new StorageException(p + ": cannot list: " + e.getMessage(), null, e);
                }
            } else {
                out.add(p);
            }
        }
        if (out.isEmpty()) throw new ConfigException("task " + name + ": no data files in " + data, null);
        return out;
    }

    // ---------------------------------------------------------------- YAML

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** A task from a YAML file; relative paths are relative to the file. */
    public static TaskSpec load(Path file) {
        JsonNode n;
        try {
            n = YAML.readTree(file.toFile());
        } catch (java.io.FileNotFoundException e) {
            throw new StorageException(file + ": no such file", null, e);
        } catch (IOException e) {
            throw new ConfigException(file + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""), null);
        }
        if (n == null || !n.isObject()) throw new ConfigException(file + ": a task file is a YAML mapping", null);
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) throw new ConfigException(file + ": unknown key \"" + k + "\"", "known keys: " + String.join(", ", new java.util.TreeSet<>(KEYS)));
        }
        Path dir = file.toAbsolutePath().getParent();
        String name = str(n, "name", file.getFileName().toString().replaceFirst("\\.ya?ml$", ""), file);
        List<Path> data = new ArrayList<>();
        for (String s : strs(n, "data", file)) data.add(dir.resolve(s));
        if (data.isEmpty()) throw new ConfigException(file + ": data is required", null);
        List<String> choices = n.has("doc_to_choice") ? strs(n, "doc_to_choice", file) : null;
        String labels = str(n, "labels", null, file), fewshotData = str(n, "fewshot_data", null, file);
        return new TaskSpec(name, str(n, "type", null, file), str(n, "description", "", file), data, labels == null ? null : dir.resolve(labels),
                str(n, "doc_to_text", null, file), choices, str(n, "doc_to_target", null, file), str(n, "choice_labels", null, file),
                str(n, "target_delimiter", " ", file), str(n, "fewshot_delimiter", "\n\n", file), integer(n, "fewshot", 0, file),
                fewshotData == null ? null : dir.resolve(fewshotData), n.has("until") ? strs(n, "until", file) : List.of("\n\n"),
                integer(n, "max_tokens", 64, file), str(n, "answer_regex", null, file), str(n, "target_regex", null, file),
                bool(n, "normalize", false, file), str(n, "group_by", null, file), str(n, "chat", "auto", file), str(n, "text_field", "text", file),
                integer(n, "stride", 0, file));
    }

    private static String str(JsonNode n, String key, String dflt, Path file) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isTextual() && !v.isNumber()) throw new ConfigException(file + ": " + key + " must be a string", null);
        return v.asText();
    }

    private static List<String> strs(JsonNode n, String key, Path file) {
        JsonNode v = n.get(key);
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) return out;
        if (v.isTextual()) return List.of(v.asText());
        if (!v.isArray()) throw new ConfigException(file + ": " + key + " must be a string or a list of strings", null);
        for (JsonNode e : v) {
            if (!e.isTextual() && !e.isNumber()) throw new ConfigException(file + ": " + key + " must be a list of strings", null);
            out.add(e.asText());
        }
        return out;
    }

    private static int integer(JsonNode n, String key, int dflt, Path file) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.canConvertToExactIntegral() || !v.canConvertToInt()) throw new ConfigException(file + ": " + key + " must be an integer", null);
        return v.asInt();
    }

    private static boolean bool(JsonNode n, String key, boolean dflt, Path file) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw new ConfigException(file + ": " + key + " must be true or false", null);
        return v.asBoolean();
    }

    // ---------------------------------------------------------------- presets

    /** Preset names: {@code --tasks NAME} or {@code NAME:PATH} (another file or directory of the same shape). */
    public static final List<String> PRESETS = List.of("piqa", "mmlu", "hellaswag", "arc", "gsm8k", "wikitext2", "bios");

    /**
     * A task from the command line: a YAML file, a preset, or {@code preset:PATH}. Presets without a
     * path read ../shared/data ({@code sharedData}) or, for bios, the demo run's held-out Q&A.
     */
    public static TaskSpec resolve(String arg, Path sharedData) {
        if (arg.endsWith(".yaml") || arg.endsWith(".yml")) return load(Path.of(arg));
        int colon = arg.indexOf(':');
        String preset = (colon < 0 ? arg : arg.substring(0, colon)).toLowerCase(Locale.ROOT);
        Path path = colon < 0 ? null : Path.of(arg.substring(colon + 1));
        if (!PRESETS.contains(preset)) {
            throw new ConfigException("unknown task \"" + arg + "\"", "use a task .yaml file or a preset: " + String.join(", ", PRESETS) + " (optionally NAME:PATH)");
        }
        Path shared = sharedData;
        java.util.function.Function<String, Path> dflt = rel -> {
            if (shared == null || !Files.exists(shared.resolve(rel))) {
                throw new ConfigException("task " + preset + " needs its data: " + rel + " was not found",
                        "pass " + preset + ":PATH (a file or directory in the preset's format)");
            }
            return shared.resolve(rel);
        };
        TaskSpec t = switch (preset) {
            case "piqa" -> {
                Path p = path != null ? path : dflt.apply("eval_piqa/valid.jsonl");
                Path labels = p.resolveSibling(p.getFileName().toString().replaceFirst("\\.jsonl(\\.gz|\\.zst)?$", "") + "-labels.lst");
                yield new TaskSpec("piqa", MULTIPLE_CHOICE, "", List.of(p), Files.isRegularFile(labels) ? labels : null, "Question: {{goal}}\nAnswer:",
                        List.of("{{sol1}}", "{{sol2}}"), "{{label}}", null, " ", "\n\n", 0, null, List.of(), 1, null, null, false, null, "never", "text", 0);
            }
            case "mmlu" -> new TaskSpec("mmlu", MULTIPLE_CHOICE, "", List.of(path != null ? path : dflt.apply("eval_mmlu_redux")), null,
                    "{{question}}\nA. {{choices.0}}\nB. {{choices.1}}\nC. {{choices.2}}\nD. {{choices.3}}\nAnswer:", List.of("A", "B", "C", "D"),
                    "{{answer}}", null, " ", "\n\n", 0, null, List.of(), 1, null, null, false, null, "never", "text", 0);
            case "hellaswag" -> new TaskSpec("hellaswag", MULTIPLE_CHOICE, "", List.of(required(preset, path)), null, "{{ctx}}", List.of("{{endings}}"),
                    "{{label}}", null, " ", "\n\n", 0, null, List.of(), 1, null, null, false, null, "never", "text", 0);
            case "arc" -> new TaskSpec("arc", MULTIPLE_CHOICE, "", List.of(required(preset, path)), null, "Question: {{question.stem}}\nAnswer:",
                    List.of("{{question.choices[].text}}"), "{{answerKey}}", "{{question.choices[].label}}", " ", "\n\n", 0, null, List.of(), 1,
                    null, null, false, null, "never", "text", 0);
            case "gsm8k" -> new TaskSpec("gsm8k", GENERATE, "", List.of(path != null ? path : dflt.apply("sft_gsm8k/test.jsonl")), null,
                    "Question: {{question}}\nAnswer:", null, "{{answer}}", null, " ", "\n\n", 0, null, List.of("Question:", "\n\n"), 256,
                    "#### (-?[0-9.,]+)", "#### (.*)", false, null, "auto", "text", 0);
            case "wikitext2" -> new TaskSpec("wikitext2", PERPLEXITY, "", List.of(path != null ? path : dflt.apply("pretrain_wikitext2/test.txt")), null,
                    null, null, null, null, " ", "\n\n", 0, null, List.of(), 1, null, null, false, null, "never", "text", 0);
            case "bios" -> new TaskSpec("bios", GENERATE, "", List.of(path != null ? path : demoQa()), null, "{{question}}", null, "{{answer}}",
                    null, " ", "\n\n", 0, null, List.of("\n"), 32, null, null, true, "attribute", "auto", "text", 0);
            default -> throw new IllegalStateException(preset);
        };
        // a preset pointed at another file is named after it too, so that bios:train and bios:heldout are two tasks
        return path == null ? t : t.withName(preset + ":" + path.getFileName().toString().replaceFirst("\\.(jsonl|json|csv|txt)(\\.gz|\\.zst)?$", ""));
    }

    private static Path required(String preset, Path path) {
        if (path == null) throw new ConfigException("task " + preset + " needs a file in its format", "pass " + preset + ":PATH");
        return path;
    }

    private static Path demoQa() {
        Path p = Path.of("runs/demo/raw/qa/heldout.jsonl");
        if (!Files.isRegularFile(p)) throw new ConfigException("task bios needs the demo's Q&A: " + p + " was not found", "run ./llmkit demo, or pass bios:PATH");
        return p;
    }
}
