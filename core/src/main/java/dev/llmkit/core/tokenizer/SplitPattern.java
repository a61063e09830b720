package dev.llmkit.core.tokenizer;

import java.util.Locale;

/**
 * The pre-tokenization patterns: text is cut into pre-tokens by one of these regular expressions
 * before BPE runs inside each piece. {@link #regex} is the pattern as Hugging Face writes it in
 * tokenizer.json; {@link #next} is a hand-written matcher over UTF-8 bytes that gives the same
 * pieces (tested against {@code java.util.regex} on the same pattern) at a fraction of the cost.
 */
public enum SplitPattern {
    /** GPT-2's pattern, the one Hugging Face's ByteLevel pre-tokenizer applies with use_regex=true. */
    GPT2("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"),
    /** GPT-4's cl100k_base pattern: case-insensitive contractions, digits in groups of up to three. */
    CL100K("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    public final String regex;

    SplitPattern(String regex) {
        this.regex = regex;
    }

    /** The config name: gpt2 or cl100k. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static SplitPattern parse(String s) {
        for (SplitPattern p : values()) if (p.id().equals(s)) return p;
        return null;
    }

    private static final byte[] ASCII = new byte[128];

    static {
        for (int c = 0; c < 128; c++) ASCII[c] = CharClass.of(c);
    }

    /** The end of the pre-token that starts at {@code pos} (exclusive); {@code pos < end}. */
    public int next(byte[] b, int pos, int end) {
        return this == GPT2 ? nextGpt2(b, pos, end) : nextCl100k(b, pos, end);
    }

    private static int nextGpt2(byte[] b, int pos, int end) {
        int c0 = b[pos];
        if (c0 == '\'') {
            int k = contraction(b, pos + 1, end, false);
            if (k > 0) return pos + 1 + k;
        }
        long d = decode(b, pos, end);
        int cls = (int) (d >>> 61);
        int len = (int) d & 7;
        if (cls == CharClass.SPACE) {
            if (c0 == ' ' && pos + 1 < end) {
                long d2 = decode(b, pos + 1, end);
                int cls2 = (int) (d2 >>> 61);
                if (cls2 != CharClass.SPACE) return run(b, pos + 1 + ((int) d2 & 7), end, cls2);
            }
            return whitespace(b, pos, end, false);
        }
        return run(b, pos + len, end, cls);
    }

    private static int nextCl100k(byte[] b, int pos, int end) {
        int c0 = b[pos];
        if (c0 == '\'') {
            int k = contraction(b, pos + 1, end, true);
            if (k > 0) return pos + 1 + k;
        }
        long d = decode(b, pos, end);
        int cls = (int) (d >>> 61);
        int len = (int) d & 7;
        // 1. [^\r\n\p{L}\p{N}]?\p{L}+
        if (cls == CharClass.LETTER) return run(b, pos + len, end, CharClass.LETTER);
        if ((cls == CharClass.OTHER || (cls == CharClass.SPACE && c0 != '\r' && c0 != '\n')) && pos + len < end) {
            long d2 = decode(b, pos + len, end);
            if ((int) (d2 >>> 61) == CharClass.LETTER) return run(b, pos + len + ((int) d2 & 7), end, CharClass.LETTER);
        }
        // 2. \p{N}{1,3}
        if (cls == CharClass.NUMBER) {
            int p = pos + len;
            for (int i = 1; i < 3 && p < end; i++) {
                long d2 = decode(b, p, end);
                if ((int) (d2 >>> 61) != CharClass.NUMBER) break;
                p += (int) d2 & 7;
            }
            return p;
        }
        // 3. ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int p = pos;
        if (c0 == ' ' && pos + 1 < end && (int) (decode(b, pos + 1, end) >>> 61) == CharClass.OTHER) p = pos + 1;
        if ((int) (decode(b, p, end) >>> 61) == CharClass.OTHER) {
            p = run(b, p, end, CharClass.OTHER);
            while (p < end && (b[p] == '\r' || b[p] == '\n')) p++;
            return p;
        }
        // 4. \s*[\r\n]+ | \s+(?!\S) | \s+
        return whitespace(b, pos, end, true);
    }

    /** Length after the apostrophe of s, t, m, d, re, ve or ll; 0 when none follows. */
    private static int contraction(byte[] b, int p, int end, boolean ignoreCase) {
        if (p >= end) return 0;
        int c = b[p];
        if (ignoreCase && c >= 'A' && c <= 'Z') c += 32;
        if (c == 's' || c == 't' || c == 'm' || c == 'd') return 1;
        if (p + 1 >= end) return 0;
        int c2 = b[p + 1];
        if (ignoreCase && c2 >= 'A' && c2 <= 'Z') c2 += 32;
        return (c == 'r' && c2 == 'e') || (c == 'v' && c2 == 'e') || (c == 'l' && c2 == 'l') ? 2 : 0;
    }

    /** Consumes code points of class {@code cls} from {@code p}. */
    private static int run(byte[] b, int p, int end, int cls) {
        while (p < end) {
            int c = b[p];
            if (c >= 0) {
                if (ASCII[c] != cls) return p;
                p++;
            } else {
                long d = decode(b, p, end);
                if ((int) (d >>> 61) != cls) return p;
                p += (int) d & 7;
            }
        }
        return p;
    }

    /**
     * A whitespace run from {@code pos}: up to the last newline in it when {@code newlines} (cl100k's
     * {@code \s*[\r\n]+}); else all of it at the end of the text; else all but its last character
     * when that leaves at least one ({@code \s+(?!\S)}); else the single character ({@code \s+}).
     */
    private static int whitespace(byte[] b, int pos, int end, boolean newlines) {
        int p = pos, last = pos, newline = -1;
        while (p < end) {
            long d = decode(b, p, end);
            if ((int) (d >>> 61) != CharClass.SPACE) break;
            if (b[p] == '\n' || b[p] == '\r') newline = p;
            last = p;
            p += (int) d & 7;
        }
        if (newlines && newline >= 0) return newline + 1;
        if (p == end) return end;
        return last > pos ? last : p;
    }

    /** Class in bits 61-62, length in bits 0-2. */
    private static long decode(byte[] b, int p, int end) {
        int c = b[p];
        if (c >= 0) return ((long) ASCII[c] << 61) | 1;
        long d = CharClass.decode(b, p, end);
        return ((long) CharClass.of((int) (d >>> 3)) << 61) | (d & 7);
    }
}
