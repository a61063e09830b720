package dev.llmkit.finetune.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.github.luben.zstd.RecyclingBufferPool;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.StorageException;
import dev.llmkit.finetune.data.ByteInput.Bytes;
import dev.llmkit.finetune.data.SftInputs.Compression;
import dev.llmkit.finetune.data.SftInputs.Container;
import dev.llmkit.finetune.data.SftInputs.SftFile;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.zip.GZIPInputStream;

/**
 * Streams the records of one file to a {@link Sink}: JSON Lines (one value a line, blank lines
 * ignored), a JSON array (split into elements byte by byte, so a bad element costs only itself),
 * or CSV (see {@link CsvRows}). Plain, gzip or zstd. A record whose bytes are not UTF-8 or not
 * JSON goes to {@link Sink#bad}; a file whose layout is broken (truncated compressed data, an
 * unclosed array) throws {@link DataException}.
 */
final class SftRecords {
    private SftRecords() {}

    /** Receives the records of a file in order. */
    interface Sink {
        /** A parsed record found at {@code where} ({@code file:line} or {@code file:[index]}). */
        void record(String where, JsonNode value);

        /** A record that could not be parsed. */
        void bad(String where, String reason, String detail);
    }

    private static final ObjectReader READER = Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    static void read(SftFile f, Sink sink) {
        String name = f.path().toString();
        try {
            Container c = f.container();
            if (c == Container.JSON && firstByte(f) != '[') c = Container.JSONL;   // a .json file of JSON Lines
            try (ByteInput in = open(f)) {
                in.skipBom();
                switch (c) {
                    case JSONL -> readLines(name, in, sink);
                    case JSON -> readArray(name, in, sink);
                    case CSV -> new CsvRows(name, in).read(sink);
                }
            }
        } catch (IOException e) {
            if (f.compression() == Compression.NONE) {
                throw new StorageException("cannot read " + name + ": " + e.getMessage(), "check the file and its permissions", e);
            }
            String m = e.getMessage();
            String what = e instanceof EOFException || (m != null && m.toLowerCase(java.util.Locale.ROOT).contains("truncat"))
                    ? "truncated" : "corrupt";
            throw new DataException(name + ": " + what + " " + (f.compression() == Compression.GZIP ? "gzip" : "zstd")
                    + " data (" + e.getClass().getSimpleName() + (m == null ? "" : ": " + m) + ")",
                    "the file is damaged or incomplete: download or compress it again", e);
        }
    }

    static ByteInput open(SftFile f) throws IOException {
        InputStream raw = Files.newInputStream(f.path());
        try {
            return new ByteInput(switch (f.compression()) {
                case NONE -> raw;
                case GZIP -> new GZIPInputStream(raw, 1 << 16);
                case ZSTD -> new ZstdInputStreamNoFinalizer(new BufferedInputStream(raw, 1 << 16), RecyclingBufferPool.INSTANCE);
            });
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** The first byte after a BOM and white space, or -1 for an empty file. */
    private static int firstByte(SftFile f) throws IOException {
        try (ByteInput in = open(f)) {
            in.skipBom();
            int c;
            while ((c = in.read()) >= 0 && ByteInput.isJsonSpace(c)) {
                // skip
            }
            return c;
        }
    }

    private static void readLines(String name, ByteInput in, Sink sink) throws IOException {
        Bytes b = new Bytes();
        long line = 0;
        while (in.readLine(b)) {
            line++;
            int n = b.len;
            if (n > 0 && b.a[n - 1] == '\r') n--;
            int s = 0;
            while (s < n && ByteInput.isJsonSpace(b.a[s])) s++;
            if (s == n) continue;
            parse(b.a, 0, n, name + ":" + line, sink);
        }
    }

    /** Splits a top-level JSON array into its elements without parsing it as a whole. */
    private static void readArray(String name, ByteInput in, Sink sink) throws IOException {
        int c = skipSpace(in);
        if (c != '[') throw new DataException(name + ": not a JSON array", "a .json file holds one array of objects or JSON Lines");
        Bytes el = new Bytes();
        long index = 0;
        c = skipSpace(in);
        while (c != ']') {
            if (c < 0) throw unclosed(name, index);
            el.len = 0;
            int end = element(c, in, el);
            if (end < 0) throw unclosed(name, index);
            int n = el.len;
            while (n > 0 && ByteInput.isJsonSpace(el.a[n - 1])) n--;
            String where = name + ":[" + index++ + "]";
            if (n == 0) sink.bad(where, SftFormats.INVALID_JSON, "empty array element");
            else parse(el.a, 0, n, where, sink);
            c = end == ']' ? ']' : skipSpace(in);
        }
        if (skipSpace(in) >= 0) {
            throw new DataException(name + ": content after the closing ']' of the JSON array (after element " + index + ")",
                    "a .json file holds one array; use .jsonl for one object a line");
        }
    }

    /**
     * Copies one array element starting with byte {@code c} into {@code el}; returns the byte that
     * ended it (',' or ']' outside strings and nesting), or -1 at the end of the input.
     */
    private static int element(int c, ByteInput in, Bytes el) throws IOException {
        int depth = 0;
        boolean str = false, esc = false;
        while (true) {
            if (str) {
                if (esc) esc = false;
                else if (c == '\\') esc = true;
                else if (c == '"') str = false;
            } else if (c == '"') {
                str = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (depth == 0 && c == ']') return c;
                if (depth > 0) depth--;
            } else if (c == ',' && depth == 0) {
                return c;
            }
            el.add(c);
            c = in.read();
            if (c < 0) return -1;
        }
    }

    private static int skipSpace(ByteInput in) throws IOException {
        int c;
        while ((c = in.read()) >= 0 && ByteInput.isJsonSpace(c)) {
            // skip
        }
        return c;
    }

    private static DataException unclosed(String name, long index) {
        return new DataException(name + ": the JSON array ends without its closing ']' (in element " + index + ")",
                "the file is truncated or has an unclosed string or bracket");
    }

    /** Decodes and parses one record, or reports it bad (invalid_utf8, invalid_json). */
    private static void parse(byte[] b, int off, int n, String where, Sink sink) {
        String text;
        try {
            text = ByteInput.utf8(b, off, n);
        } catch (ByteInput.BadUtf8 e) {
            sink.bad(where, SftFormats.INVALID_UTF8, e.getMessage());
            return;
        }
        JsonNode value;
        try {
            value = READER.readTree(text);
        } catch (JsonProcessingException e) {
            long col = e.getLocation() == null ? -1 : e.getLocation().getColumnNr();
            String msg = e.getOriginalMessage().lines().findFirst().orElse("").replaceAll("\\s*\\(start marker at .*$", "");
            sink.bad(where, SftFormats.INVALID_JSON, msg + (col > 0 ? " (column " + col + ")" : ""));
            return;
        }
        sink.record(where, value);
    }
}
