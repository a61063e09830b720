package dev.llmkit.data.prepare;

import java.nio.file.Path;
import java.util.Locale;

/** The input file kinds that {@code data prepare} reads, recognised by file name suffix. */
public enum InputFormat {
    JSONL(".jsonl", false),
    JSONL_GZ(".jsonl.gz", true),
    JSONL_ZST(".jsonl.zst", true),
    JSON_GZ(".json.gz", true),
    JSON_ZST(".json.zst", true),
    TXT(".txt", false);

    public final String suffix;
    /** Compressed files can be truncated or corrupt; they are rolled back whole with skip_bad_files. */
    public final boolean compressed;

    InputFormat(String suffix, boolean compressed) {
        this.suffix = suffix;
        this.compressed = compressed;
    }

    public boolean gzip() {
        return this == JSONL_GZ || this == JSON_GZ;
    }

    public boolean zstd() {
        return this == JSONL_ZST || this == JSON_ZST;
    }

    /** The format of {@code file} by its name, or null if it is not an input llmkit reads. */
    public static InputFormat of(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        InputFormat best = null;
        for (InputFormat f : values()) {
            if (name.endsWith(f.suffix) && (best == null || f.suffix.length() > best.suffix.length())) best = f;
        }
        return best;
    }

    public static String suffixes() {
        StringBuilder sb = new StringBuilder();
        for (InputFormat f : values()) sb.append(sb.isEmpty() ? "" : ", ").append(f.suffix);
        return sb.toString();
    }
}
