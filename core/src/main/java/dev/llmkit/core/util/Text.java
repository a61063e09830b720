package dev.llmkit.core.util;

import dev.llmkit.core.StorageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Small helpers shared by the stages: UTF-8 lengths and sha256 hex digests. */
public final class Text {
    private Text() {}

    /**
     * {@link String#format} with no locale: digits, '.' and ',' as Locale.ROOT writes them, without loading the
     * JDK's locale data (which costs a fresh process about 45 ms: the inference commands' output uses this).
     */
    public static String format(String format, Object... args) {
        return String.format((java.util.Locale) null, format, args);
    }

    /** The UTF-8 length of a string without encoding it (a lone surrogate counts 2, an approximation). */
    public static long utf8Length(CharSequence s) {
        long n = s.length();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x80) n += c >= 0x800 && !Character.isSurrogate(c) ? 2 : 1;
        }
        return n;
    }

    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(newSha256().digest(bytes));
    }

    /** Hex sha256 of a whole file. */
    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return sha256(in);
        } catch (IOException e) {
            throw new StorageException(file + ": cannot read: " + e.getMessage(), null, e);
        }
    }

    /** Hex sha256 of what is left of {@code in} (read to its end, not closed). */
    public static String sha256(InputStream in) throws IOException {
        MessageDigest md = newSha256();
        byte[] buf = new byte[1 << 16];
        for (int r; (r = in.read(buf)) >= 0; ) md.update(buf, 0, r);
        return HexFormat.of().formatHex(md.digest());
    }
}
