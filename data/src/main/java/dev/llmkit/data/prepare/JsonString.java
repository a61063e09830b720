package dev.llmkit.data.prepare;

/**
 * Decodes a JSON string literal straight from UTF-8 input bytes to UTF-8 output bytes, without
 * building a Java String: the fast path for document texts. Validates as RFC 8259 requires.
 */
final class JsonString {
    private JsonString() {}


    /** Thrown for a malformed literal; {@code surrogate} marks an unpaired surrogate escape. */
    static final class Malformed extends Exception {
        final boolean surrogate;

        Malformed(String message, boolean surrogate) {
            super(message, null, false, false);
            this.surrogate = surrogate;
        }
    }

    /**
     * Decodes the literal whose opening quote is at {@code b[quote]} into {@code out} (cleared first).
     * Returns the index just after the closing quote.
     */
    static int decode(byte[] b, int quote, int end, ByteSink out) throws Malformed {
        out.size = 0;
        out.ensure(Math.min(end - quote, 1 << 16));
        int i = quote + 1;
        int run = i;
        while (i < end) {
            byte c = b[i];
            if (c == '"') {
                out.put(b, run, i);
                return i + 1;
            }
            if (c == '\\') {
                out.put(b, run, i);
                i = unescape(b, i, end, out);
                run = i;
                continue;
            }
            if (c >= 0 && c < 0x20) throw new Malformed("unescaped control character 0x" + Integer.toHexString(c) + " in a string", false);
            i++;
        }
        throw new Malformed("unterminated string", false);
    }

    private static int unescape(byte[] b, int i, int end, ByteSink out) throws Malformed {
        if (i + 1 >= end) throw new Malformed("unterminated escape", false);
        byte e = b[i + 1];
        out.ensure(4);
        switch (e) {
            case '"', '\\', '/' -> out.put(e);
            case 'n' -> out.put((byte) '\n');
            case 't' -> out.put((byte) '\t');
            case 'r' -> out.put((byte) '\r');
            case 'b' -> out.put((byte) '\b');
            case 'f' -> out.put((byte) '\f');
            case 'u' -> {
                int cp = hex4(b, i + 2, end);
                int next = i + 6;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (next + 6 <= end && b[next] == '\\' && b[next + 1] == 'u') {
                        int lo = hex4(b, next + 2, end);
                        if (lo >= 0xDC00 && lo <= 0xDFFF) {
                            putUtf8(out, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
                            return next + 6;
                        }
                    }
                    throw new Malformed(String.format("unpaired surrogate \\u%04x", cp), true);
                }
                if (cp >= 0xDC00 && cp <= 0xDFFF) throw new Malformed(String.format("unpaired surrogate \\u%04x", cp), true);
                putUtf8(out, cp);
                return next;
            }
            default -> throw new Malformed("invalid escape \\" + (char) (e & 0xff), false);
        }
        return i + 2;
    }

    private static int hex4(byte[] b, int at, int end) throws Malformed {
        if (at + 4 > end) throw new Malformed("truncated \\u escape", false);
        int v = 0;
        for (int k = 0; k < 4; k++) {
            int d = Character.digit(b[at + k], 16);
            if (d < 0) throw new Malformed("invalid \\u escape", false);
            v = (v << 4) | d;
        }
        return v;
    }

    private static void putUtf8(ByteSink out, int cp) {
        out.ensure(4);
        if (cp < 0x80) {
            out.put((byte) cp);
        } else if (cp < 0x800) {
            out.put((byte) (0xC0 | cp >> 6));
            out.put((byte) (0x80 | cp & 0x3F));
        } else if (cp < 0x10000) {
            out.put((byte) (0xE0 | cp >> 12));
            out.put((byte) (0x80 | cp >> 6 & 0x3F));
            out.put((byte) (0x80 | cp & 0x3F));
        } else {
            out.put((byte) (0xF0 | cp >> 18));
            out.put((byte) (0x80 | cp >> 12 & 0x3F));
            out.put((byte) (0x80 | cp >> 6 & 0x3F));
            out.put((byte) (0x80 | cp & 0x3F));
        }
    }

    /**
     * True if every code point of the valid UTF-8 {@code b[0, n)} is below {@code limit} (at most
     * U+07FF), i.e. a normal form with that stable range leaves the text unchanged.
     */
    static boolean allBelow(byte[] b, int n, int limit) {
        int i = 0;
        while (i < n) {
            while (i + 8 <= n && (Utf8.word(b, i) & 0x8080808080808080L) == 0) i += 8;
            if (i >= n) break;
            int c = b[i] & 0xff;
            if (c < 0x80) {
                i++;
            } else if (c < 0xE0) {
                if (((c & 0x1F) << 6 | (b[i + 1] & 0x3F)) >= limit) return false;
                i += 2;
            } else {
                return false;
            }
        }
        return true;
    }
}
