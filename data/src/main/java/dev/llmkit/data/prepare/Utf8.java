package dev.llmkit.data.prepare;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** Strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
final class Utf8 {
    private Utf8() {}

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Returns -1 if {@code b[off, end)} is valid UTF-8, else the offset of the first bad byte. */
    static int firstInvalid(byte[] b, int off, int end) {
        int i = off;
        while (i < end) {
            // ASCII fast path, 8 bytes at a time
            while (i + 8 <= end && (word(b, i) & 0x8080808080808080L) == 0) i += 8;
            if (i >= end) break;
            int c = b[i] & 0xff;
            if (c < 0x80) {
                i++;
                continue;
            }
            int n;
            int min;
            if (c >= 0xc2 && c <= 0xdf) {
                n = 1;
                min = 0x80;
            } else if (c >= 0xe0 && c <= 0xef) {
                n = 2;
                min = 0x800;
            } else if (c >= 0xf0 && c <= 0xf4) {
                n = 3;
                min = 0x10000;
            } else {
                return i;
            }
            if (i + n >= end) return i; // truncated sequence
            int cp = c & (0x3f >> n);
            for (int k = 1; k <= n; k++) {
                int cc = b[i + k] & 0xff;
                if ((cc & 0xc0) != 0x80) return i;
                cp = (cp << 6) | (cc & 0x3f);
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
            i += n + 1;
        }
        return -1;
    }

    /** The 8 bytes at {@code b[i]} as a little-endian long (for bytewise tests eight at a time). */
    static long word(byte[] b, int i) {
        return (long) LONGS.get(b, i);
    }
}
