package dev.llmkit.data.prepare;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.llmkit.core.Json;
import dev.llmkit.core.config.PrepareConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.text.Normalizer;

/**
 * Turns one batch into parsed records (runs on worker threads; stateless apart from per-thread
 * digests). For each record: validate UTF-8, parse the JSON object, take the text field and the raw
 * {@code meta} value, normalise, hash (SHA-256 of the normalised UTF-8 text) and render the output line
 * {@code {"text":...,"meta":...}}.
 */
final class RecordParser {
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(dev.llmkit.core.util.Text::newSha256);

    private static final ThreadLocal<ByteSink> TEXT = ThreadLocal.withInitial(() -> new ByteSink(1 << 16));

    private final JsonFactory json;
    private final String textField;
    private final Normalizer.Form form;   // null: no normalisation
    private final char stableBelow;       // chars below this never change under the form
    private final long maxDocBytes;
    private final java.util.function.IntFunction<String> sourceNames;   // for the meta of .txt documents

    private final BufferPool pool;

    RecordParser(PrepareConfig cfg, java.util.function.IntFunction<String> sourceNames, BufferPool pool) {
        this.pool = pool;
        this.json = JsonFactory.builder().streamReadConstraints(Json.constraints(cfg.maxDocBytes())).build();
        this.textField = cfg.textField();
        this.form = cfg.normalization().equals("none") ? null : Normalizer.Form.valueOf(cfg.normalization());
        this.stableBelow = form == null ? Character.MAX_VALUE
                : switch (form) { case NFC -> '\u0300'; case NFD -> '\u00c0'; case NFKC, NFKD -> '\u00a0'; };
        this.maxDocBytes = cfg.maxDocBytes();
        this.sourceNames = sourceNames;
    }

    Parsed parse(Batch b) {
        switch (b.kind) {
            case LINES -> {
                Parsed p = new Parsed(b, Math.max(16, b.len / 1024), b.len + (b.len >> 4) + 64, pool);
                parseLines(b, p);
                return p;
            }
            case TEXT_FILE -> {
                Parsed p = new Parsed(b, 1, b.len + (b.len >> 4) + 64, null);
                p.lines = 1;
                begin(p, 0);
                int badByte = Utf8.firstInvalid(b.buf, 0, b.len);
                if (badByte >= 0) {
                    bad(p, Reason.INVALID_UTF8, "the file is not valid UTF-8 (first bad byte at offset " + badByte + ")");
                } else {
                    byte[] meta = ("{\"source_file\":" + quote(sourceNames.apply(b.source)) + "}").getBytes(StandardCharsets.UTF_8);
                    finish(p, b.buf, b.len, meta, 0, meta.length);
                }
                return p;
            }
            case TEXT_DOCS -> {
                Parsed p = new Parsed(b, Math.max(1, b.docs), b.len + (b.len >> 4) + 64 * (b.docs + 1), pool);
                p.lines = b.lines;
                p.blankLines = b.blankLines;
                String metaStart = "{\"source_file\":" + quote(sourceNames.apply(b.source)) + ",\"line\":";
                for (int k = 0; k < b.docs; k++) {
                    begin(p, b.docLine[k]);
                    if (b.docEnd[k] < 0) {
                        bad(p, Reason.TOO_LARGE, "a line over " + maxDocBytes + " bytes (max_doc_bytes)");
                        continue;
                    }
                    int s0 = b.docStart[k], n = b.docEnd[k] - s0;
                    int badByte = Utf8.firstInvalid(b.buf, s0, b.docEnd[k]);
                    if (badByte >= 0) {
                        bad(p, Reason.INVALID_UTF8, "not valid UTF-8 (first bad byte " + (badByte - s0) + " bytes into the document)");
                        continue;
                    }
                    // meta: the file and the (1-based) line the document starts at
                    byte[] meta = (metaStart + (b.lineBase + b.docLine[k] + 1) + "}").getBytes(StandardCharsets.UTF_8);
                    byte[] text = s0 == 0 ? b.buf : java.util.Arrays.copyOfRange(b.buf, s0, b.docEnd[k]);
                    finish(p, text, n, meta, 0, meta.length);
                }
                return p;
            }
            case OVERSIZED_LINE -> {
                Parsed p = new Parsed(b, 1, 0, null);
                p.lines = 1;
                begin(p, 0);
                bad(p, Reason.TOO_LARGE, "over " + maxDocBytes + " bytes (max_doc_bytes)");
                return p;
            }
            default -> {
                return new Parsed(b, 1, 0, null);
            }
        }
    }

    private void parseLines(Batch b, Parsed p) {
        byte[] buf = b.buf;
        int end = b.len;
        int start = 0;
        int line = 0;
        while (start < end) {
            int nl = indexOfNewline(buf, start, end);
            int stop = nl < 0 ? end : nl;
            int e = stop > start && buf[stop - 1] == '\r' ? stop - 1 : stop;
            if (isBlank(buf, start, e)) {
                p.blankLines++;
            } else {
                begin(p, line);
                parseJson(p, buf, start, e);
            }
            line++;
            start = nl < 0 ? end : nl + 1;
        }
        p.lines = line;
    }

    private void parseJson(Parsed p, byte[] buf, int s, int e) {
        if (e - s > maxDocBytes) {
            bad(p, Reason.TOO_LARGE, "line of " + (e - s) + " bytes is over max_doc_bytes " + maxDocBytes);
            return;
        }
        int badByte = Utf8.firstInvalid(buf, s, e);
        if (badByte >= 0) {
            bad(p, Reason.INVALID_UTF8, String.format("invalid UTF-8 byte 0x%02x at column %d", buf[badByte] & 0xff, badByte - s + 1));
            return;
        }
        int textQuote = -1;
        JsonToken textToken = null;
        int metaStart = -1;
        int metaEnd = -1;
        try (JsonParser jp = json.createParser(buf, s, e - s)) {
            if (jp.nextToken() != JsonToken.START_OBJECT) {
                bad(p, Reason.INVALID_JSON, "not a JSON object");
                return;
            }
            JsonToken t;
            while ((t = jp.nextToken()) == JsonToken.FIELD_NAME) {
                String name = jp.currentName();
                JsonToken v = jp.nextToken();
                if (textToken == null && name.equals(textField)) {
                    textToken = v;
                    if (v == JsonToken.VALUE_STRING) textQuote = s + (int) jp.currentTokenLocation().getByteOffset();
                    else skipValue(jp, v);
                } else if (metaStart < 0 && name.equals("meta")) {
                    metaStart = (int) jp.currentTokenLocation().getByteOffset();
                    skipValue(jp, v);
                    metaEnd = (int) jp.currentLocation().getByteOffset();
                } else {
                    skipValue(jp, v);
                }
            }
            if (t != JsonToken.END_OBJECT || jp.nextToken() != null) {
                bad(p, Reason.INVALID_JSON, "unexpected content after the JSON object");
                return;
            }
        } catch (JsonProcessingException ex) {
            long col = ex.getLocation() == null ? -1 : ex.getLocation().getColumnNr();
            String msg = ex.getOriginalMessage().lines().findFirst().orElse("").replaceAll("\\s*\\(start marker at .*$", "");
            bad(p, Reason.INVALID_JSON, msg + (col > 0 ? " (column " + col + ")" : ""));
            return;
        } catch (IOException ex) {
            bad(p, Reason.INVALID_JSON, String.valueOf(ex.getMessage()));
            return;
        }
        if (textToken == null || textToken == JsonToken.VALUE_NULL) {
            bad(p, Reason.MISSING_TEXT, "no '" + textField + "' field" + (textToken == null ? "" : " (null)"));
        } else if (textQuote < 0) {
            bad(p, Reason.TEXT_NOT_STRING, "'" + textField + "' is " + describe(textToken) + ", not a string");
        } else {
            ByteSink text = TEXT.get();
            try {
                JsonString.decode(buf, textQuote, e, text);
            } catch (JsonString.Malformed m) {
                bad(p, m.surrogate ? Reason.INVALID_UTF8 : Reason.INVALID_JSON, m.getMessage() + " in '" + textField + "'");
                return;
            }
            // parser offsets are relative to the start of the slice
            finish(p, text.buf, text.size, buf, metaStart < 0 ? -1 : s + metaStart, s + metaEnd);
        }
    }

    /** Normalises, checks, hashes and renders a record whose text (valid UTF-8 {@code text[0, n)}) was extracted. */
    private void finish(Parsed p, byte[] text, int n, byte[] metaBuf, int metaStart, int metaEnd) {
        int i = p.count - 1;
        byte[] utf8 = text;
        int len = n;
        if (form != null && !JsonString.allBelow(text, n, stableBelow)) {
            String norm = Normalizer.normalize(new String(text, 0, n, StandardCharsets.UTF_8), form);
            utf8 = norm.getBytes(StandardCharsets.UTF_8);
            len = utf8.length;
        }
        if (isBlankText(utf8, len)) {
            bad(p, Reason.EMPTY_TEXT, len == 0 ? "empty text" : "whitespace-only text");
            return;
        }
        if (len > maxDocBytes) {
            bad(p, Reason.TOO_LARGE, "text of " + len + " bytes is over max_doc_bytes " + maxDocBytes);
            return;
        }
        MessageDigest md = SHA256.get();
        md.update(utf8, 0, len);
        byte[] d = md.digest();
        p.hashHi[i] = Utf8.word(d, 0);
        p.hashLo[i] = Utf8.word(d, 8);
        p.textBytes[i] = len;
        ByteSink out = p.out;
        out.putAscii("{\"text\":");
        JsonText.appendString(out, utf8, 0, len);
        if (metaStart >= 0) {
            out.putAscii(",\"meta\":");
            out.put(metaBuf, metaStart, metaEnd);
        }
        out.putAscii("}\n");
        p.outEnd[i] = out.size;
    }

    /** Empty or only whitespace (Character.isWhitespace, as String.isBlank). */
    private static boolean isBlankText(byte[] b, int n) {
        for (int i = 0; i < n; i++) {
            int c = b[i];
            if (c < 0) return new String(b, 0, n, StandardCharsets.UTF_8).isBlank();
            if (!Character.isWhitespace(c)) return false;
        }
        return true;
    }

    private static void begin(Parsed p, int line) {
        if (p.count == p.lineIndex.length) p.grow();
        int i = p.count++;
        p.lineIndex[i] = line;
        p.reason[i] = null;
        p.outEnd[i] = p.out.size;
    }

    private static void bad(Parsed p, Reason r, String detail) {
        int i = p.count - 1;
        p.reason[i] = r;
        p.detail[i] = detail;
        p.outEnd[i] = p.out.size; // nothing written for a bad record
    }

    private static void skipValue(JsonParser jp, JsonToken v) throws IOException {
        if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) jp.skipChildren();
        else jp.finishToken();
    }

    private static boolean isBlank(byte[] b, int s, int e) {
        for (int i = s; i < e; i++) {
            byte c = b[i];
            if (c != ' ' && c != '\t' && c != '\r') return false;
        }
        return true;
    }

    /** Index of the next '\n' in b[from, to), or -1; scans eight bytes at a time. */
    static int indexOfNewline(byte[] b, int from, int to) {
        int i = from;
        while (i + 8 <= to) {
            long x = Utf8.word(b, i) ^ 0x0a0a0a0a0a0a0a0aL;
            long z = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
            if (z != 0) return i + (Long.numberOfTrailingZeros(z) >>> 3);
            i += 8;
        }
        for (; i < to; i++) if (b[i] == '\n') return i;
        return -1;
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            default -> t.toString();
        };
    }

    private static String quote(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        ByteSink sink = new ByteSink(u.length + 8);
        JsonText.appendString(sink, u, 0, u.length);
        return new String(sink.buf, 0, sink.size, StandardCharsets.UTF_8);
    }
}
