package dev.llmkit.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Differential: the hand-written matchers against java.util.regex running the same pattern. */
class SplitPatternTest {
    static final int[] TRICKY = {' ', ' ', ' ', '\t', '\n', '\r', 0x0B, 0x0C, 0x85, 0xA0, 0x1680, 0x2000, 0x2028, 0x3000, 0x200B, 0x1C,
            'a', 'Z', '\'', '\'', 's', 't', 'l', 'r', 'v', 'e', 'd', 'm', 'S', 'T', 'R', 'E', 'L', 'V', 'D', 'M', '0', '1', 0x663, 0xBD, 0x2167,
            '.', ',', '!', '-', '(', 0x1, 0x7F, 0xE9, 0x301, 0x4E2D, 0xAC00, 0x1F44D, 0x1F3FD, 0x200D, 0x1D518, 0x20000, 0x627, 0x915,
            0x94D, 0x3B1};

    static List<String> reference(SplitPattern p, String s) {
        Matcher m = Pattern.compile(p.regex, Pattern.UNICODE_CHARACTER_CLASS).matcher(s);
        List<String> out = new ArrayList<>();
        while (m.find()) out.add(m.group());
        return out;
    }

    static List<String> fast(SplitPattern p, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        for (int pos = 0; pos < b.length; ) {
            int q = p.next(b, pos, b.length);
            out.add(new String(b, pos, q - pos, StandardCharsets.UTF_8));
            pos = q;
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(SplitPattern.class)
    void sameSplitsAsTheRegex(SplitPattern p) {
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(24);
            for (int k = 0; k < n; k++) {
                int cp;
                if (r.nextInt(10) == 0) {
                    do cp = r.nextInt(0x30000); while (cp >= 0xD800 && cp <= 0xDFFF);
                } else {
                    cp = TRICKY[r.nextInt(TRICKY.length)];
                }
                sb.appendCodePoint(cp);
            }
            String s = sb.toString();
            assertEquals(reference(p, s), fast(p, s), () -> "splits of " + s.codePoints().mapToObj(c -> String.format("U+%04X", c)).toList());
        }
    }

    @ParameterizedTest
    @EnumSource(SplitPattern.class)
    void knownSplits(SplitPattern p) {
        String s = "Hello world, it's 2026!  Bye\n\n  x";
        assertEquals(reference(p, s), fast(p, s));
        if (p == SplitPattern.GPT2) {
            assertEquals(List.of("Hello", " world", ",", " it", "'s", " 2026", "!", " ", " Bye", "\n\n ", " x"), fast(p, s));
        } else {
            assertEquals(List.of("Hello", " world", ",", " it", "'s", " ", "202", "6", "!", " ", " Bye", "\n\n", " ", " x"), fast(p, s));
        }
    }
}
