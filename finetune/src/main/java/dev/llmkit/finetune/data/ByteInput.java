package dev.llmkit.finetune.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A buffered byte reader over a (possibly decompressing) stream with one byte of look-ahead and a
 * line reader, plus {@link Bytes}, the growable byte array records are collected in. Not thread-safe.
 */
final class ByteInput implements Closeable {
    private final InputStream in;
    private final byte[] buf = new byte[1 << 16];
    private int pos, lim;

    ByteInput(InputStream in) {
        this.in = in;
    }

    /** The next byte (0-255), or -1 at the end. */
    int read() throws IOException {
        if (pos == lim && !fill()) return -1;
        return buf[pos++] & 0xff;
    }

    /** The next byte without consuming it, or -1 at the end. */
    int peek() throws IOException {
        if (pos == lim && !fill()) return -1;
        return buf[pos] & 0xff;
    }

    /** Consumes a UTF-8 byte order mark if the input starts with one (call before anything else). */
    void skipBom() throws IOException {
        while (lim - pos < 3) {
            if (pos > 0) {
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                lim -= pos;
                pos = 0;
            }
            int n = in.read(buf, lim, buf.length - lim);
            if (n < 0) break;
            lim += n;
        }
        if (lim - pos >= 3 && buf[pos] == (byte) 0xef && buf[pos + 1] == (byte) 0xbb && buf[pos + 2] == (byte) 0xbf) pos += 3;
    }

    /**
     * Reads the next line, without its '\n', into {@code out} (cleared first). False at the end of
     * the input when no byte was left; a last line without '\n' is still returned.
     */
    boolean readLine(Bytes out) throws IOException {
        out.len = 0;
        boolean any = false;
        while (true) {
            if (pos == lim && !fill()) return any;
            any = true;
            int i = pos;
            while (i < lim && buf[i] != '\n') i++;
            out.add(buf, pos, i - pos);
            if (i < lim) {
                pos = i + 1;
                return true;
            }
            pos = lim;
        }
    }

    private boolean fill() throws IOException {
        int n;
        do {
            n = in.read(buf, 0, buf.length);
        } while (n == 0);
        if (n < 0) return false;
        pos = 0;
        lim = n;
        return true;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    static boolean isJsonSpace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    /** A growable byte array. */
    static final class Bytes {
        byte[] a = new byte[256];
        int len;

        void add(int b) {
            if (len == a.length) a = Arrays.copyOf(a, a.length * 2);
            a[len++] = (byte) b;
        }

        void add(byte[] src, int off, int n) {
            if (len + n > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, len + n));
            System.arraycopy(src, off, a, len, n);
            len += n;
        }

        byte[] toArray() {
            return Arrays.copyOf(a, len);
        }
    }

    /** Thrown for bytes that are not valid UTF-8; the message says where. */
    static final class BadUtf8 extends Exception {
        BadUtf8(String detail) {
            super(detail, null, false, false);
        }
    }

    /** Decodes {@code b[off, off + n)} as strict UTF-8 (no overlong forms, no encoded surrogates). */
    static String utf8(byte[] b, int off, int n) throws BadUtf8 {
        boolean ascii = true;
        for (int i = off; i < off + n && ascii; i++) ascii = b[i] >= 0;
        if (ascii) return new String(b, off, n, StandardCharsets.ISO_8859_1);
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder();   // reports malformed input
        ByteBuffer in = ByteBuffer.wrap(b, off, n);
        CharBuffer out = CharBuffer.allocate(n);
        CoderResult r = d.decode(in, out, true);
        if (!r.isError()) r = d.flush(out);
        if (r.isError()) {
            int at = in.position();
            throw new BadUtf8(String.format("invalid UTF-8 byte 0x%02x at byte %d", b[at] & 0xff, at - off + 1));
        }
        return out.flip().toString();
    }
}
