package dev.llmkit.data.prepare;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The input file kinds that {@code data prepare} reads, recognised by file name suffix: JSON Lines or
 * plain text, plain or compressed with gzip, zstd, bzip2 or xz (the last two through Apache Commons
 * Compress), and tar archives of them, plain or compressed the same ways.
 */
public enum InputFormat {
    JSONL(".jsonl", Compression.NONE, false),
    JSONL_GZ(".jsonl.gz", Compression.GZIP, false),
    JSONL_ZST(".jsonl.zst", Compression.ZSTD, false),
    JSONL_BZ2(".jsonl.bz2", Compression.BZIP2, false),
    JSONL_XZ(".jsonl.xz", Compression.XZ, false),
    JSON_GZ(".json.gz", Compression.GZIP, false),
    JSON_ZST(".json.zst", Compression.ZSTD, false),
    TXT(".txt", Compression.NONE, true),
    TXT_GZ(".txt.gz", Compression.GZIP, true),
    TXT_ZST(".txt.zst", Compression.ZSTD, true),
    TXT_BZ2(".txt.bz2", Compression.BZIP2, true),
    TXT_XZ(".txt.xz", Compression.XZ, true),
    TAR(".tar", Compression.NONE, false, true),
    TAR_GZ(".tar.gz", Compression.GZIP, false, true),
    TGZ(".tgz", Compression.GZIP, false, true),
    TAR_ZST(".tar.zst", Compression.ZSTD, false, true),
    TAR_BZ2(".tar.bz2", Compression.BZIP2, false, true),
    TAR_XZ(".tar.xz", Compression.XZ, false, true),
    /** Apache Parquet, read by the Spark engine only: each row becomes the JSON Lines record of its columns. */
    PARQUET(".parquet", Compression.PARQUET, false);

    /** How a file's bytes are compressed (PARQUET: compressed columns, which the source decodes into JSON Lines). */
    public enum Compression { NONE, GZIP, ZSTD, BZIP2, XZ, PARQUET }

    public final String suffix;
    public final Compression compression;
    /** Compressed files can be truncated or corrupt; they are rolled back whole with skip_bad_files. */
    public final boolean compressed;
    /** Plain text (split into documents by data.prepare.txt_split), not JSON Lines. */
    public final boolean text;
    /** A tar archive whose members (of the other formats) are the inputs. */
    public final boolean archive;

    InputFormat(String suffix, Compression compression, boolean text) {
        this(suffix, compression, text, false);
    }

    InputFormat(String suffix, Compression compression, boolean text, boolean archive) {
        this.suffix = suffix;
        this.compression = compression;
        this.compressed = compression != Compression.NONE;
        this.text = text;
        this.archive = archive;
    }

    /** The decompressed bytes of a file of this format, read from {@code raw} (buffer it first). */
    public java.io.InputStream open(java.io.InputStream raw) throws java.io.IOException {
        return switch (compression) {
            case GZIP -> new java.util.zip.GZIPInputStream(raw, 1 << 17);
            case ZSTD -> new com.github.luben.zstd.ZstdInputStreamNoFinalizer(raw, com.github.luben.zstd.RecyclingBufferPool.INSTANCE);
            // concatenated streams are read through (pbzip2 output and multi-stream .xz files are common)
            case BZIP2 -> new org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream(raw, true);
            case XZ -> new org.apache.commons.compress.compressors.xz.XZCompressorInputStream(raw, true);
            case NONE, PARQUET -> raw;
        };
    }

    public boolean gzip() {
        return compression == Compression.GZIP;
    }

    public boolean zstd() {
        return compression == Compression.ZSTD;
    }

    /** The format of {@code file} by its name, or null if it is not an input llmkit reads. */
    public static InputFormat of(Path file) {
        return of(file.getFileName().toString());
    }

    /** The format of a file (or archive member) named {@code fileName}, or null. */
    public static InputFormat of(String fileName) {
        String name = fileName.toLowerCase(Locale.ROOT);
        InputFormat best = null;
        for (InputFormat f : values()) {
            if (name.endsWith(f.suffix) && (best == null || f.suffix.length() > best.suffix.length())) best = f;
        }
        return best;
    }

    /** The suffixes the single-machine path reads (all but Parquet, which the Spark engine adds). */
    public static String suffixes() {
        StringBuilder sb = new StringBuilder();
        for (InputFormat f : values()) if (f != PARQUET) sb.append(sb.isEmpty() ? "" : ", ").append(f.suffix);
        return sb.toString();
    }

    /** The suffixes an archive member may have: every format but the archives and Parquet. */
    public static String memberSuffixes() {
        StringBuilder sb = new StringBuilder();
        for (InputFormat f : values()) if (!f.archive && f != PARQUET) sb.append(sb.isEmpty() ? "" : ", ").append(f.suffix);
        return sb.toString();
    }
}
