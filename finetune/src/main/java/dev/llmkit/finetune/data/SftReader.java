package dev.llmkit.finetune.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.finetune.data.SftInputs.SftFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Reads supervised fine-tuning data into {@link Conversation}s.
 *
 * <p>Inputs are files, directories (every supported file inside, recursively, in sorted order) or
 * globs ({@code data/**}{@code /*.jsonl}). Files are JSON Lines, a JSON array of objects, or CSV with
 * a header row, told by the name ({@code .jsonl}, {@code .json}, {@code .csv}), each optionally
 * {@code .gz} or {@code .zst} compressed, in UTF-8. Records are {@code prompt}/{@code completion},
 * {@code question}/{@code answer}, Alpaca ({@code instruction}, optional {@code input}, {@code output}),
 * OpenAI {@code messages} or ShareGPT {@code conversations}; the single-turn formats honour an
 * optional top-level {@code system} string.
 *
 * <p>A record that cannot be used is skipped and counted under one of {@link #REASONS}, with up to
 * {@link Options#maxBadExamples()} {@code file:line: detail} examples per reason; in strict mode the
 * first one throws {@link DataException}.
 */
public final class SftReader {
    private SftReader() {}

    /** The skip reasons, as keys of {@link Result#skipped()}. */
    public static final List<String> REASONS = List.of(SftFormats.INVALID_JSON, SftFormats.NOT_AN_OBJECT,
            SftFormats.UNKNOWN_FORMAT, SftFormats.MISSING_FIELD, SftFormats.NOT_A_STRING, SftFormats.NOT_A_LIST,
            SftFormats.UNKNOWN_ROLE, SftFormats.EMPTY_ANSWER, SftFormats.NO_ASSISTANT_TURN,
            SftFormats.LAST_TURN_NOT_ASSISTANT, SftFormats.INVALID_UTF8, SftFormats.INVALID_CSV);

    /**
     * How to read records.
     *
     * @param format         auto (detect per record), prompt_completion, question_answer, alpaca,
     *                       messages or sharegpt; null means auto
     * @param fields         a field mapping, source field name to prompt, completion or system (both
     *                       prompt and completion mapped, system optional); when non-empty it takes
     *                       precedence over the format; null means none
     * @param strict         throw on the first bad record instead of skipping it
     * @param maxBadExamples how many {@code file:line: detail} examples to keep per skip reason
     */
    public record Options(String format, Map<String, String> fields, boolean strict, int maxBadExamples) {
        /** Detect the format, skip bad records, keep 5 examples per reason. */
        public static final Options DEFAULTS = new Options(SftFormats.AUTO, Map.of(), false, 5);

        public Options {
            format = format == null ? SftFormats.AUTO : format;
            if (!SftFormats.FORMATS.contains(format)) {
                throw new ConfigException("unknown SFT format '" + format + "'", "use one of " + SftFormats.FORMATS);
            }
            fields = fields == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(fields));
            checkFields(fields);
            if (maxBadExamples < 0) {
                throw new ConfigException("max bad examples " + maxBadExamples + " is negative", "use 0 or more");
            }
        }

        private static void checkFields(Map<String, String> fields) {
            if (fields.isEmpty()) return;
            Map<String, String> byTarget = new TreeMap<>();
            for (Map.Entry<String, String> e : fields.entrySet()) {
                String source = e.getKey(), target = e.getValue();
                if (source == null || source.isEmpty() || target == null) {
                    throw new ConfigException("SFT field mapping " + fields + " has an empty name", "map field names to prompt, completion or system");
                }
                if (!SftFormats.TARGETS.contains(target)) {
                    throw new ConfigException("SFT field mapping '" + source + "' -> '" + target + "': unknown target",
                            "map each field to one of " + SftFormats.TARGETS);
                }
                String other = byTarget.put(target, source);
                if (other != null) {
                    throw new ConfigException("SFT field mapping maps both '" + other + "' and '" + source + "' to " + target,
                            "map one field to each of prompt, completion and system");
                }
            }
            if (!byTarget.containsKey(SftFormats.PROMPT) || !byTarget.containsKey(SftFormats.COMPLETION)) {
                throw new ConfigException("SFT field mapping " + fields + " needs a prompt and a completion field",
                        "e.g. {\"question\": \"prompt\", \"answer\": \"completion\"}");
            }
        }
    }

    /**
     * What was read.
     *
     * @param conversations the usable conversations, in input order
     * @param records       records seen (non-blank lines, array elements, CSV rows), used or skipped
     * @param skipped       skip reason to count, only reasons that occurred, sorted by reason
     * @param examples      skip reason to its first {@code file:line: detail} examples
     * @param files         the files read, in order
     */
    public record Result(List<Conversation> conversations, long records, Map<String, Long> skipped,
                         Map<String, List<String>> examples, List<Path> files) {
        public Result {
            conversations = List.copyOf(conversations);
            skipped = Collections.unmodifiableMap(new TreeMap<>(skipped));
            TreeMap<String, List<String>> ex = new TreeMap<>();
            examples.forEach((k, v) -> ex.put(k, List.copyOf(v)));
            examples = Collections.unmodifiableMap(ex);
            files = List.copyOf(files);
            long bad = skipped.values().stream().mapToLong(Long::longValue).sum();
            if (records < 0 || conversations.size() + bad != records) {
                throw new IllegalArgumentException(records + " records is not " + conversations.size() + " conversations + " + bad + " skipped");
            }
        }

        /** Records skipped, all reasons together. */
        public long skippedTotal() {
            return skipped.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * Reads every input.
     *
     * @throws ConfigException an input that does not exist, a directory without a supported file, a
     *                         glob that matches none, a file of an unsupported type
     * @throws DataException   a bad record in strict mode, a truncated or corrupt file, or no usable
     *                         conversation at all
     */
    public static Result read(List<String> inputs, Options options) {
        Objects.requireNonNull(options, "options");
        List<SftFile> files = SftInputs.resolve(inputs);
        Tally t = new Tally(new SftFormats(options.format(), options.fields()), options);
        for (SftFile f : files) SftRecords.read(f, t);
        if (t.conversations.isEmpty()) {
            StringBuilder hint = new StringBuilder("check the format (auto detects prompt/completion, question/answer, "
                    + "alpaca, messages, sharegpt) or give a field mapping");
            t.examples.values().stream().limit(3).forEach(l -> hint.append("; e.g. ").append(l.getFirst()));
            throw new DataException("no usable conversation in " + inputs + ": " + t.records + " record(s)"
                    + (t.skipped.isEmpty() ? "" : ", skipped " + t.skipped), hint.toString());
        }
        return new Result(t.conversations, t.records, t.skipped, t.examples, files.stream().map(SftFile::path).toList());
    }

    /** Collects conversations and counts skipped records. */
    private static final class Tally implements SftRecords.Sink {
        final SftFormats formats;
        final Options options;
        final List<Conversation> conversations = new ArrayList<>();
        final Map<String, Long> skipped = new TreeMap<>();
        final Map<String, List<String>> examples = new TreeMap<>();
        long records;

        Tally(SftFormats formats, Options options) {
            this.formats = formats;
            this.options = options;
        }

        @Override
        public void record(String where, JsonNode value) {
            records++;
            try {
                conversations.add(new Conversation(formats.convert(value), where));
            } catch (SftFormats.BadRecord e) {
                skip(where, e.reason, e.getMessage());
            }
        }

        @Override
        public void bad(String where, String reason, String detail) {
            records++;
            skip(where, reason, detail);
        }

        private void skip(String where, String reason, String detail) {
            if (options.strict()) throw new DataException(where + ": " + reason + ": " + detail, hint(reason));
            skipped.merge(reason, 1L, Long::sum);
            if (options.maxBadExamples() == 0) return;
            List<String> ex = examples.computeIfAbsent(reason, k -> new ArrayList<>());
            if (ex.size() < options.maxBadExamples()) ex.add(where + ": " + detail);
        }
    }

    private static String hint(String reason) {
        String skip = "fix or remove the record, or read without strict to skip bad records";
        return switch (reason) {
            case SftFormats.UNKNOWN_FORMAT, SftFormats.MISSING_FIELD ->
                    "name the format, or map the fields (e.g. {\"question\": \"prompt\", \"answer\": \"completion\"}); or " + skip;
            case SftFormats.INVALID_UTF8 -> "save the file as UTF-8, or " + skip;
            default -> skip;
        };
    }
}
