package dev.llmkit.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.StorageException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The documents of an evaluation task: JSONL, a JSON array or CSV (header row; comma, semicolon or tab
 * found from the header; a cell holding a Python list literal becomes an array), each plain, {@code .gz}
 * or {@code .zst}, and plain text for perplexity. Text
 * is UTF-8; a file that is not valid UTF-8 is read as Windows-1252 (one MMLU CSV is) and says so. A
 * malformed record is an error naming the file and line.
 */
public final class Docs {
    private Docs() {}

    /** One document: its fields and where it came from ({@code file:line}). */
    public record Doc(JsonNode fields, String where) {}

    /** The documents of a file and a note on how it was read (its charset), or null when plain UTF-8. */
    public record Loaded(List<Doc> docs, String note) {}

    /** The file's text (decompressed; UTF-8, else Windows-1252 with a note in {@code note[0]}). */
    public static String text(Path file, String[] note) {
        byte[] b = bytes(file);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            if (note != null) note[0] = file.getFileName() + " is not UTF-8; read as Windows-1252";
            return new String(b, Charset.forName("windows-1252"));
        }
    }

    public static Loaded read(Path file) {
        String[] note = new String[1];
        String text = text(file, note);
        String name = base(file);
        List<Doc> docs = new ArrayList<>();
        if (name.endsWith(".jsonl")) {
            String[] lines = text.split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i].strip();
                if (line.isEmpty()) continue;
                docs.add(new Doc(object(line, file + ":" + (i + 1)), file.getFileName() + ":" + (i + 1)));
            }
        } else if (name.endsWith(".json")) {
            JsonNode root = parse(text, file.toString());
            if (!root.isArray()) throw new DataException(file + ": a JSON task file must hold an array of objects", null);
            for (int i = 0; i < root.size(); i++) {
                if (!root.get(i).isObject()) throw new DataException(file + ": element " + i + " is not an object", null);
                docs.add(new Doc(root.get(i), file.getFileName() + "[" + i + "]"));
            }
        } else if (name.endsWith(".csv") || name.endsWith(".tsv")) {
            csv(file, text, docs);
        } else {
            throw new DataException(file + ": not a task data file", "use .jsonl, .json or .csv (optionally .gz or .zst), or .txt for perplexity");
        }
        return new Loaded(docs, note[0]);
    }

    /** One label per line (PIQA's valid-labels.lst), set as each document's {@code field}. */
    public static List<Doc> withLabels(List<Doc> docs, Path labels, String field) {
        String[] lines = text(labels, null).strip().split("\r?\n");
        if (lines.length != docs.size()) {
            throw new DataException(labels + " has " + lines.length + " labels for " + docs.size() + " documents", "pass the labels file that belongs to the data");
        }
        List<Doc> out = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            ObjectNode o = docs.get(i).fields().deepCopy();
            o.put(field, lines[i].strip());
            out.add(new Doc(o, docs.get(i).where()));
        }
        return out;
    }

    private static void csv(Path file, String text, List<Doc> docs) {
        String header = text.lines().findFirst().orElse("");
        char sep = ',';
        long commas = header.chars().filter(c -> c == ',').count(), semis = header.chars().filter(c -> c == ';').count(),
                tabs = header.chars().filter(c -> c == '\t').count();
        if (semis > commas && semis >= tabs) sep = ';';
        else if (tabs > commas && tabs > semis) sep = '\t';
        CsvMapper m = new CsvMapper();
        m.enable(CsvParser.Feature.WRAP_AS_ARRAY);
        CsvSchema schema = CsvSchema.emptySchema().withHeader().withColumnSeparator(sep);
        try (MappingIterator<Map<String, String>> it = m.readerFor(Map.class).with(schema).readValues(text)) {
            while (it.hasNext()) {
                long line = it.getCurrentLocation().getLineNr();
                Map<String, String> row;
                try {
                    row = it.next();
                } catch (RuntimeException e) {
                    throw new DataException(file + ":" + line + ": malformed CSV row: " + e.getMessage().lines().findFirst().orElse(""), null);
                }
                ObjectNode o = Json.MAPPER.createObjectNode();
                for (Map.Entry<String, String> e : row.entrySet()) {
                    List<String> list = Template.PyList.parse(e.getValue());     // MMLU-Redux keeps its choices as a Python list
                    if (list != null) list.forEach(o.putArray(e.getKey())::add);
                    else o.put(e.getKey(), e.getValue());
                }
                docs.add(new Doc(o, file.getFileName() + ":" + line));
            }
        } catch (IOException e) {
            throw new DataException(file + ": malformed CSV: " + e.getMessage().lines().findFirst().orElse(""), null);
        }
    }

    private static JsonNode object(String line, String where) {
        JsonNode n = parse(line, where);
        if (!n.isObject()) throw new DataException(where + ": not a JSON object", "one JSON object per line");
        return n;
    }

    private static JsonNode parse(String s, String where) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (JsonProcessingException e) {
            throw new DataException(where + ": invalid JSON: " + e.getOriginalMessage(), null);
        }
    }

    /** The name without .gz or .zst. */
    static String base(Path file) {
        String n = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return n.endsWith(".gz") ? n.substring(0, n.length() - 3) : n.endsWith(".zst") ? n.substring(0, n.length() - 4) : n;
    }

    private static byte[] bytes(Path file) {
        try {
            String n = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
            byte[] raw = Files.readAllBytes(file);
            if (!n.endsWith(".gz") && !n.endsWith(".zst")) return raw;
            try (InputStream in = n.endsWith(".gz") ? new GZIPInputStream(new ByteArrayInputStream(raw))
                    : new com.github.luben.zstd.ZstdInputStream(new ByteArrayInputStream(raw))) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new DataException(file + ": damaged or truncated compressed file: " + e.getMessage(), null);
            }
        } catch (NoSuchFileException e) {
            throw new StorageException(file + ": no such file", null, e);
        } catch (IOException e) {
            throw new StorageException(file + ": cannot read: " + e.getMessage(), null, e);
        }
    }
}
