package dev.llmkit.core.tokenizer;

/**
 * Code point classes of the split patterns: letters ({@code \p{L}}), numbers ({@code \p{N}}),
 * whitespace ({@code \s}, the Unicode White_Space property, as Oniguruma and Hugging Face use it)
 * and everything else. Also decodes UTF-8 one code point at a time.
 */
final class CharClass {
    private CharClass() {}

    static final byte OTHER = 0, LETTER = 1, NUMBER = 2, SPACE = 3;

    /**
     * The classes of the Basic Multilingual Plane, each computed on its first lookup (UNKNOWN until then; a race
     * computes the same value twice): computed all at once, the table took 20-30 ms of a fresh {@code generate}'s
     * model load, mostly in Character.getType before C1 had compiled it, for the few hundred code points a prompt has.
     */
    private static final byte[] BMP = new byte[65536];
    private static final byte UNKNOWN = -1;

    static {
        java.util.Arrays.fill(BMP, UNKNOWN);
    }

    static byte of(int cp) {
        if (cp >= 65536) return compute(cp);
        byte c = BMP[cp];
        if (c == UNKNOWN) BMP[cp] = c = compute(cp);
        return c;
    }

    private static byte compute(int cp) {
        if (isWhiteSpace(cp)) return SPACE;
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            default -> OTHER;
        };
    }

    /** The Unicode White_Space property. */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    /**
     * Decodes the code point at {@code pos}; returns {@code cp << 3 | length}. An invalid or truncated
     * sequence decodes as one byte of class OTHER (code point U+FFFD) so that splitting never fails.
     */
    static long decode(byte[] b, int pos, int end) {
        int b0 = b[pos] & 0xFF;
        if (b0 < 0x80) return ((long) b0 << 3) | 1;
        int n, cp;
        if (b0 >= 0xC2 && b0 <= 0xDF) { n = 2; cp = b0 & 0x1F; }
        else if (b0 >= 0xE0 && b0 <= 0xEF) { n = 3; cp = b0 & 0x0F; }
        else if (b0 >= 0xF0 && b0 <= 0xF4) { n = 4; cp = b0 & 0x07; }
        else return (0xFFFDL << 3) | 1;
        if (pos + n > end) return (0xFFFDL << 3) | 1;
        for (int i = 1; i < n; i++) {
            int c = b[pos + i] & 0xFF;
            if ((c & 0xC0) != 0x80) return (0xFFFDL << 3) | 1;
            cp = (cp << 6) | (c & 0x3F);
        }
        return ((long) cp << 3) | n;
    }
}
