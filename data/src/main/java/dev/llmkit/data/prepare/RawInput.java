package dev.llmkit.data.prepare;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The on-disk bytes of an input file: counts and hashes them as they are read, and marks read
 * failures of the disk as {@link DiskException} so they are not mistaken for corrupt data.
 */
final class RawInput extends InputStream {
    /** An I/O error of the file itself (not a decompression error). */
    static final class DiskException extends IOException {
        DiskException(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    private final InputStream in;
    private final MessageDigest sha;               // null for a decoded source: its bytes on disk are hashed instead
    private final InputSource source;
    private volatile long position;

    RawInput(InputSource source) throws IOException {
        this.in = source.open();
        this.source = source;
        this.sha = source.decoded() ? null : dev.llmkit.core.util.Text.newSha256();
    }

    /** The hex sha256 of {@code source}'s bytes on disk (for a file abandoned after an error). */
    static String sha256(InputSource source) throws IOException {
        try (InputStream in = source.openOnDisk()) {
            return dev.llmkit.core.util.Text.sha256(in);
        }
    }

    long position() {
        return position;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n;
        try {
            n = in.read(b, off, len);
        } catch (IOException e) {
            throw new DiskException(e);
        }
        if (n > 0) {
            if (sha != null) sha.update(b, off, n);
            position += n;
        }
        return n;
    }

    /**
     * Reads what is left (for the hash of a file abandoned early) and returns the hex sha256; of a decoded
     * source (Parquet), the sha256 of its bytes on disk.
     */
    String finishSha256() throws IOException {
        if (sha == null) return sha256(source);
        byte[] buf = new byte[1 << 16];
        while (read(buf, 0, buf.length) >= 0) {
            // hashing only
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    @Override
    public void close() throws IOException {
        in.close();
    }


}
