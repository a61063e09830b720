package dev.llmkit.tokenizertrainer;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.llmkit.core.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Test texts: the committed parity set, a seeded pseudo-English corpus and random tricky strings. */
final class TestTexts {
    private TestTexts() {}

    /** src/test/resources/parity/texts.json: prose, code, numbers, CJK, emoji/ZWJ, combining marks, whitespace, controls. */
    static List<String> paritySet() {
        try (InputStream in = TestTexts.class.getResourceAsStream("/parity/texts.json")) {
            return Json.MAPPER.readValue(in, new TypeReference<List<String>>() {});
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final String[] SYLLABLES = {"the", "an", "er", "in", "on", "at", "re", "st", "ing", "ed", "al", "ou", "is", "it",
            "pro", "con", "ment", "tion", "ly", "ex", "com", "de", "ma", "ka", "zu", "qu", "ph", "sch"};
    private static final String[] PUNCT = {" ", " ", " ", " ", " ", ", ", ". ", "; ", "! ", "? ", "\n", "\n\n", " - ", "'s ", "'t ", " (", ") "};

    /** About {@code bytes} of seeded pseudo-English with numbers, plus the parity set. */
    static List<String> corpus(int docs, int wordsPerDoc, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(paritySet());
        for (int d = 0; d < docs; d++) {
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < wordsPerDoc; w++) {
                int k = 1 + r.nextInt(3);
                StringBuilder word = new StringBuilder();
                for (int i = 0; i < k; i++) word.append(SYLLABLES[Math.min(SYLLABLES.length - 1, (int) Math.abs(r.nextGaussian() * 8))]);
                if (r.nextInt(12) == 0) word.setCharAt(0, Character.toUpperCase(word.charAt(0)));
                if (r.nextInt(40) == 0) word = new StringBuilder(String.valueOf(r.nextInt(100_000)));
                sb.append(word).append(PUNCT[r.nextInt(PUNCT.length)]);
            }
            out.add(sb.toString());
        }
        return out;
    }

    private static final int[] TRICKY = {' ', ' ', ' ', '\t', '\n', '\r', 0x0B, 0x0C, 0x85, 0xA0, 0x1680, 0x2000, 0x2028, 0x3000, 0x200B, 0x1C,
            'a', 'b', 'Z', 'e', '\'', '\'', 's', 't', 'l', 'r', 'v', 'd', 'm', 'S', 'T', 'R', 'E', 'L', '0', '1', '9', 0x663, 0xBD, 0x2167,
            '.', ',', '!', '-', '_', '(', '#', 0x1, 0x7F, 0xE9, 0x301, 0x308, 0x4E2D, 0x6587, 0xAC00, 0x1F44D, 0x1F3FD, 0x200D, 0x1F468,
            0x1D518, 0x20000, 0x5D0, 0x627, 0x915, 0x94D, 0xE01, 0x3B1, 0x416, 0x2200, 0xFF71, 0x17F, 0x212A};

    /** A random string of tricky code points (valid Unicode). */
    static String randomTricky(SplittableRandom r, int maxLen) {
        int n = r.nextInt(maxLen + 1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.appendCodePoint(TRICKY[r.nextInt(TRICKY.length)]);
        return sb.toString();
    }

    /** A random string of arbitrary valid code points (any plane, no lone surrogates). */
    static String randomUnicode(SplittableRandom r, int maxLen) {
        int n = r.nextInt(maxLen + 1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int cp;
            do {
                cp = switch (r.nextInt(4)) {
                    case 0 -> r.nextInt(0x80);
                    case 1 -> r.nextInt(0x800);
                    case 2 -> r.nextInt(0x10000);
                    default -> r.nextInt(0x110000);
                };
            } while (cp >= 0xD800 && cp <= 0xDFFF);
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }
}
