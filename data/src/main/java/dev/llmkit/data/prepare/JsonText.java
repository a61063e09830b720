package dev.llmkit.data.prepare;

/** Writes JSON string literals from valid UTF-8 bytes: escapes quote, backslash and controls only. */
final class JsonText {
    private JsonText() {}

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH = 0x8080808080808080L;

    /** True if none of the 8 bytes at {@code i} is a quote, a backslash or an ASCII control. */
    private static boolean clean8(byte[] b, int i) {
        long x = Utf8.word(b, i);
        long q = x ^ (ONES * '"');
        long bs = x ^ (ONES * '\\');
        long zeroQ = (q - ONES) & ~q;
        long zeroB = (bs - ONES) & ~bs;
        long ctrl = (x - ONES * 0x20) & ~x; // bytes < 0x20 among bytes < 0x80
        return ((zeroQ | zeroB | ctrl) & HIGH) == 0;
    }

    /** Appends {@code "...escaped..."} for {@code utf8[off, end)} to {@code out}. */
    static void appendString(ByteSink out, byte[] utf8, int off, int end) {
        out.ensure((end - off) + 2 + 16);
        out.put((byte) '"');
        int run = off;
        for (int i = off; i < end; i++) {
            while (i + 8 <= end && clean8(utf8, i)) i += 8;
            if (i >= end) break;
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
