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
    private final MessageDigest sha = dev.llmkit.core.util.Text.newSha256();
    private volatile long position;

    RawInput(InputSource source) throws IOException {
        this.in = source.open();
    }

    /** The hex sha256 of {@code source}'s bytes on disk (for a file abandoned after an error). */
    static String sha256(InputSource source) throws IOException {
        InputStream disk = source.openOnDisk();
        try (InputStream in = disk != null ? disk : source.open()) {
            return hash(in);
        }
    }

    /** The hex sha256 of the file: of the bytes read, with what is left, or of its bytes on disk when it is not read as it is. */
    String finishSha256(InputSource source) throws IOException {
        String read = finishSha256();
        InputStream disk = source.openOnDisk();
        if (disk == null) return read;
        try (disk) {
            return hash(disk);
        }
    }

    long position() {
        return position;
    }

    private static String hash(InputStream in) throws IOException {
        MessageDigest md = dev.llmkit.core.util.Text.newSha256();
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) >= 0; ) md.update(buf, 0, n);
        return HexFormat.of().formatHex(md.digest());
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
            sha.update(b, off, n);
            position += n;
        }
        return n;
    }

    /** Reads what is left (for the hash of a file abandoned early) and returns the hex sha256. */
    String finishSha256() throws IOException {
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
