package dev.llmkit.finetune.data;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.finetune.data.ByteInput.Bytes;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * CSV with a header row (RFC 4180: comma separated, fields optionally in double quotes with
 * {@code ""} for a quote, quoted fields may span lines, CRLF or LF line ends). Each data row becomes
 * an object of strings keyed by the header names, at {@code file:line} of its first line. Parsed on
 * bytes (UTF-8 never uses ASCII bytes inside a multi-byte character), so a row with invalid UTF-8
 * is skipped alone. Lenient where it costs nothing: a quote inside an unquoted field or text after
 * a closing quote is kept as text. A row whose field count differs from the header's is skipped
 * (invalid_csv); blank lines are ignored; a quoted field still open at the end of the file throws.
 */
final class CsvRows {
    private final String name;
    private final ByteInput in;
    private long line = 1;       // line of the next byte
    private long rowLine;        // first line of the row last read
    private final Bytes field = new Bytes();

    CsvRows(String name, ByteInput in) {
        this.name = name;
        this.in = in;
    }

    void read(SftRecords.Sink sink) throws IOException {
        List<byte[]> header = next();
        if (header == null) return;
        List<String> names = new ArrayList<>(header.size());
        for (byte[] h : header) {
            String s;
            try {
                s = ByteInput.utf8(h, 0, h.length).strip();
            } catch (ByteInput.BadUtf8 e) {
                throw new DataException(name + ":1: the CSV header is not UTF-8 (" + e.getMessage() + ")", "save the file as UTF-8");
            }
            names.add(s);
        }
        if (new HashSet<>(names).size() != names.size()) {
            throw new DataException(name + ":1: the CSV header names a column twice " + names, "give every column its own name");
        }
        List<byte[]> row;
        while ((row = next()) != null) {
            if (row.size() == 1 && row.get(0).length == 0) continue;   // blank line
            String where = name + ":" + rowLine;
            if (row.size() != names.size()) {
                sink.bad(where, SftFormats.INVALID_CSV, "the row has " + row.size() + " field(s), the header " + names.size());
                continue;
            }
            ObjectNode obj = Json.MAPPER.createObjectNode();
            try {
                for (int i = 0; i < names.size(); i++) {
                    byte[] v = row.get(i);
                    obj.put(names.get(i), ByteInput.utf8(v, 0, v.length));
                }
            } catch (ByteInput.BadUtf8 e) {
                sink.bad(where, SftFormats.INVALID_UTF8, e.getMessage() + " of column '" + names.get(obj.size()) + "'");
                continue;
            }
            sink.record(where, obj);
        }
    }

    /** The fields of the next row, or null at the end of the input. */
    private List<byte[]> next() throws IOException {
        int c = in.read();
        if (c < 0) return null;
        rowLine = line;
        List<byte[]> fields = new ArrayList<>();
        field.len = 0;
        boolean quoted = false, start = true;
        while (true) {
            if (c < 0) {
                if (quoted) {
                    throw new DataException(name + ":" + rowLine + ": a quoted CSV field is not closed before the end of the file",
                            "the file is truncated or has an unbalanced '\"'");
                }
                fields.add(field.toArray());
                return fields;
            }
            if (c == '\n') line++;
            if (quoted) {
                if (c != '"') field.add(c);
                else if (in.peek() == '"') field.add(in.read());
                else quoted = false;
            } else if (c == '"' && start) {
                quoted = true;
                start = false;
            } else if (c == ',') {
                fields.add(field.toArray());
                field.len = 0;
                start = true;
            } else if (c == '\n') {
                fields.add(field.toArray());
                return fields;
            } else if (c == '\r' && in.peek() == '\n') {
                // CRLF: the '\n' ends the row
            } else {
                field.add(c);
                start = false;
            }
            c = in.read();
        }
    }
}
