package dev.llmkit.data.prepare;

/** Writes JSON string literals from valid UTF-8 bytes: escapes quote, backslash and controls only. */
final class JsonText {
    private JsonText() {}

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** Appends {@code "...escaped..."} for {@code utf8[off, end)} to {@code out}. */
    static void appendString(ByteSink out, byte[] utf8, int off, int end) {
        out.ensure((end - off) + 2 + 16);
        out.put((byte) '"');
        int run = off;
        for (int i = off; i < end; i++) {
            int c = utf8[i];
            if (c >= 0x20 && c != '"' && c != '\\' || c < 0) continue; // plain ASCII or a UTF-8 byte
            out.put(utf8, run, i);
            out.ensure((end - i) + 8);
            out.put((byte) '\\');
            switch (c) {
                case '"' -> out.put((byte) '"');
                case '\\' -> out.put((byte) '\\');
                case '\n' -> out.put((byte) 'n');
                case '\r' -> out.put((byte) 'r');
                case '\t' -> out.put((byte) 't');
                case '\b' -> out.put((byte) 'b');
                case '\f' -> out.put((byte) 'f');
                default -> {
                    out.put((byte) 'u');
                    out.put((byte) '0');
                    out.put((byte) '0');
                    out.put(HEX[c >> 4]);
                    out.put(HEX[c & 15]);
                }
            }
            run = i + 1;
        }
        out.put(utf8, run, end);
        out.put((byte) '"');
    }
}
