package dev.llmkit.data.prepare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fast byte-level codecs against the JDK and Jackson on random inputs. */
class CodecDifferentialTest {
    private static final JsonFactory JSON = new JsonFactory();

    private static boolean jdkValid(byte[] b) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    @Test
    void utf8ValidationAgreesWithTheJdk() {
        Random r = new Random(1);
        String[] pieces = {"a", "é", "中", "😀", "\u0000", "z"};
        for (int it = 0; it < 200_000; it++) {
            StringBuilder sb = new StringBuilder();
            for (int k = r.nextInt(12); k > 0; k--) sb.append(pieces[r.nextInt(pieces.length)]);
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            if (b.length > 0 && r.nextBoolean()) b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            if (r.nextInt(10) == 0) b = java.util.Arrays.copyOf(b, Math.max(0, b.length - 1));
            byte[] c = b;
            assertEquals(jdkValid(c), Utf8.firstInvalid(c, 0, c.length) < 0, () -> java.util.HexFormat.of().formatHex(c));
        }
        byte[] overlong = {(byte) 0xC0, (byte) 0x80};
        byte[] surrogate = {(byte) 0xED, (byte) 0xA0, (byte) 0x80};
        byte[] tooBig = {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80};
        for (byte[] b : new byte[][] {overlong, surrogate, tooBig}) assertEquals(0, Utf8.firstInvalid(b, 0, b.length));
    }

    @Test
    void jsonStringDecodingAgreesWithJackson() throws Exception {
        Random r = new Random(2);
        String[] pieces = {"a", " ", "\\n", "\\t", "\\\"", "\\\\", "\\/", "\\u00e9", "\\u4e2d", "\\ud83d\\ude00", "é", "😀", "\\b", "\\f", "\\r", "\\u0000"};
        ByteSink out = new ByteSink(16);
        for (int it = 0; it < 50_000; it++) {
            StringBuilder sb = new StringBuilder("\"");
            for (int k = r.nextInt(20); k > 0; k--) sb.append(pieces[r.nextInt(pieces.length)]);
            sb.append('"');
            byte[] lit = sb.toString().getBytes(StandardCharsets.UTF_8);
            int end = JsonString.decode(lit, 0, lit.length, out);
            assertEquals(lit.length, end);
            try (JsonParser p = JSON.createParser(lit)) {
                assertEquals(JsonToken.VALUE_STRING, p.nextToken());
                assertArrayEquals(p.getText().getBytes(StandardCharsets.UTF_8), java.util.Arrays.copyOf(out.buf, out.size), sb.toString());
            }
        }
        for (String bad : new String[] {"\"a\\x\"", "\"abc", "\"a\u0001\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\""}) {
            byte[] b = bad.getBytes(StandardCharsets.UTF_8);
            assertThrows(JsonString.Malformed.class, () -> JsonString.decode(b, 0, b.length, out), bad);
        }
    }

    @Test
    void jsonTextEscapingRoundTripsThroughJackson() throws Exception {
        Random r = new Random(3);
        for (int it = 0; it < 50_000; it++) {
            StringBuilder sb = new StringBuilder();
            for (int k = r.nextInt(40); k > 0; k--) {
                int kind = r.nextInt(6);
                sb.append(switch (kind) {
                    case 0 -> (char) r.nextInt(0x20);
                    case 1 -> '"';
                    case 2 -> '\\';
                    case 3 -> "é中😀";
                    case 4 -> (char) 0x7f;
                    default -> "plain text ";
                });
            }
            byte[] utf8 = sb.toString().getBytes(StandardCharsets.UTF_8);
            ByteSink sink = new ByteSink(4);
            JsonText.appendString(sink, utf8, 0, utf8.length);
            try (JsonParser p = JSON.createParser(sink.buf, 0, sink.size)) {
                assertEquals(JsonToken.VALUE_STRING, p.nextToken());
                assertEquals(sb.toString(), p.getText());
            }
        }
    }

    @Test
    void newlineSearchAndStabilityCheck() {
        Random r = new Random(4);
        for (int it = 0; it < 20_000; it++) {
            byte[] b = new byte[r.nextInt(40)];
            for (int i = 0; i < b.length; i++) b[i] = (byte) (r.nextInt(4) == 0 ? '\n' : r.nextInt(256));
            int from = b.length == 0 ? 0 : r.nextInt(b.length);
            int expect = -1;
            for (int i = from; i < b.length; i++) if (b[i] == '\n') { expect = i; break; }
            assertEquals(expect, RecordParser.indexOfNewline(b, from, b.length));
        }
        byte[] latin = "caf\u00e9 \u02ff".getBytes(StandardCharsets.UTF_8);
        assertEquals(true, JsonString.allBelow(latin, latin.length, 0x300));
        byte[] combining = "e\u0301".getBytes(StandardCharsets.UTF_8);
        assertEquals(false, JsonString.allBelow(combining, combining.length, 0x300));
        byte[] cjk = "中".getBytes(StandardCharsets.UTF_8);
        assertEquals(false, JsonString.allBelow(cjk, cjk.length, 0x300));
    }
}
