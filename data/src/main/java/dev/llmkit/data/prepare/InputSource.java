package dev.llmkit.data.prepare;

import java.io.IOException;
import java.io.InputStream;

/**
 * One input file of {@code data prepare} as the reader sees it: a name for reports, a format, its size
 * on disk and a way to open its bytes. A local file is {@link InputFiles.Input}; the Spark engine gives
 * files of any Hadoop file system, and Parquet files as the JSON Lines their rows make.
 */
public interface InputSource {
    /** The name reports and errors use (a path or URI). */
    String name();

    InputFormat format();

    /** Bytes on disk. */
    long size();

    /** The file's bytes on disk (not decompressed); each call starts from the beginning. */
    InputStream open() throws IOException;

    /**
     * Whether {@link #open()} gives something other than the bytes on disk (a Parquet file: its rows as
     * JSON Lines); the file's sha256 is then taken from {@link #openOnDisk()}.
     */
    default boolean decoded() {
        return false;
    }

    /** The file's bytes on disk (what {@link #open()} gives unless {@link #decoded()}). */
    default InputStream openOnDisk() throws IOException {
        return open();
    }

    /** Whether the bytes can be cut short or corrupt, so that skip_bad_files rolls the file back whole. */
    default boolean compressed() {
        return format().compressed;
    }

    /** The format as report.json names it ("jsonl.zst", "txt", ...). */
    default String formatName() {
        return format().suffix.substring(1);
    }
}
