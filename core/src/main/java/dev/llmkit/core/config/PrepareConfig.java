package dev.llmkit.core.config;

import java.util.Locale;
import java.util.Set;

/**
 * {@code data.prepare}: how raw shards become the clean corpus (00-corpus).
 *
 * @param textField        JSON field holding the document text ({@code text}; {@code raw_content} for RedPajama-V2)
 * @param normalization    Unicode normal form applied to every text: NFC, NFKC, NFD, NFKD or none
 * @param maxDocBytes      records whose JSON line or text exceeds this many bytes are skipped as too_large
 * @param valFraction      fraction of documents (by content hash) that go to the validation split, in [0, 1)
 * @param shardBytes       uncompressed bytes per output shard before a new shard starts
 * @param zstdLevel        zstd compression level of the output shards (1..19)
 * @param threads          worker threads; 0 means all available cores
 * @param strict           any bad record or bad file is an error (exit 3) instead of skipped and counted
 * @param skipBadFiles     a truncated or corrupt compressed file is skipped whole (its records are dropped)
 * @param maxBadExamples   how many bad records per reason report.json lists with file and line
 * @param txtSplit         how a .txt file becomes documents: {@code paragraphs} (blank-line paragraphs grouped
 *                         up to txt_doc_bytes; a longer paragraph is cut at lines, a longer line at a character
 *                         boundary), {@code lines} (every non-blank line), or {@code file} (the whole file)
 * @param txtDocBytes      the target size of a paragraphs document
 */
public record PrepareConfig(String textField, String normalization, long maxDocBytes, double valFraction,
                            long shardBytes, int zstdLevel, int threads, boolean strict, boolean skipBadFiles,
                            int maxBadExamples, String txtSplit, long txtDocBytes) {
    public static final Set<String> NORMALIZATIONS = Set.of("NFC", "NFKC", "NFD", "NFKD", "NONE");
    public static final Set<String> TXT_SPLITS = Set.of("paragraphs", "lines", "file");

    public PrepareConfig {
        Checks.require(textField != null && !textField.isBlank(), "text_field", textField, "must be a non-empty field name");
        Checks.require(normalization != null && NORMALIZATIONS.contains(normalization.toUpperCase(Locale.ROOT)),
                "normalization", normalization, "must be one of NFC, NFKC, NFD, NFKD, none");
        normalization = normalization.toUpperCase(Locale.ROOT).equals("NONE") ? "none" : normalization.toUpperCase(Locale.ROOT);
        Checks.require(maxDocBytes >= 16 && maxDocBytes <= (1L << 30), "max_doc_bytes", maxDocBytes, "must be in [16, 2^30]");
        Checks.require(valFraction >= 0 && valFraction < 1, "val_fraction", valFraction, "must be in [0, 1)");
        Checks.require(shardBytes >= 1024, "shard_bytes", shardBytes, "must be at least 1024");
        Checks.require(zstdLevel >= 1 && zstdLevel <= 19, "zstd_level", zstdLevel, "must be in [1, 19]");
        Checks.require(threads >= 0 && threads <= 1024, "threads", threads, "must be 0 (all cores) or a positive count");
        Checks.require(maxBadExamples >= 0, "max_bad_examples", maxBadExamples, "must be >= 0");
        Checks.require(txtSplit != null && TXT_SPLITS.contains(txtSplit), "txt_split", txtSplit, "must be paragraphs, lines or file");
        Checks.require(txtDocBytes >= 64 && txtDocBytes <= maxDocBytes, "txt_doc_bytes", txtDocBytes, "must be in [64, max_doc_bytes]");
    }

    /** The same settings with another text field (tests and tools that read other fields). */
    public PrepareConfig(String textField, String normalization, long maxDocBytes, double valFraction,
                         long shardBytes, int zstdLevel, int threads, boolean strict, boolean skipBadFiles, int maxBadExamples) {
        this(textField, normalization, maxDocBytes, valFraction, shardBytes, zstdLevel, threads, strict, skipBadFiles, maxBadExamples,
                "paragraphs", Math.min(8192, maxDocBytes));
    }

    public static PrepareConfig defaults() {
        return new PrepareConfig("text", "NFC", 32L << 20, 0.005, 256L << 20, 3, 0, false, false, 20, "paragraphs", 8192);
    }

    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
