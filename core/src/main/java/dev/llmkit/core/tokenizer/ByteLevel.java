package dev.llmkit.core.tokenizer;

/**
 * GPT-2's byte-to-unicode mapping: every byte is shown as one printable character so that
 * byte-level tokens can be written as JSON strings (space is {@code Ġ}, newline {@code Ċ}).
 * Bytes that are printable Latin-1 map to themselves; the other 68 map to U+0100 onwards, in byte order.
 */
public final class ByteLevel {
    private ByteLevel() {}

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** The character that stands for byte {@code b}. */
    public static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte-level string of raw bytes. */
    public static String encode(byte[] bytes, int off, int len) {
        char[] c = new char[len];
        for (int i = 0; i < len; i++) c[i] = BYTE_TO_CHAR[bytes[off + i] & 0xFF];
        return new String(c);
    }

    /** The raw bytes of a byte-level string, or null when a character is not part of the mapping. */
    public static byte[] decode(String s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) return null;
            out[i] = (byte) CHAR_TO_BYTE[c];
        }
        return out;
    }
}
