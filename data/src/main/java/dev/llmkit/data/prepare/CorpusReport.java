package dev.llmkit.data.prepare;

import java.util.List;
import java.util.Map;

/**
 * report.json of a prepared corpus (format {@code llmkit-corpus-report}, version 1). For every
 * source and in total: documents_in = documents_out + duplicates + sum(skipped) + dropped_with_file.
 * bytes_in counts uncompressed input bytes; text_bytes_out the UTF-8 bytes of the kept texts.
 */
public record CorpusReport(String format, int version, Totals totals, List<Source> sources,
                           List<ShardWriter.Shard> shards, List<BadRecord> badRecords, boolean badRecordsTruncated) {
    public static final String FORMAT = "llmkit-corpus-report";

    /** Per input file. Status is "ok" or "skipped" (a corrupt compressed file, with skip_bad_files). */
    public record Source(String path, String format, String sha256, String status, String error, long documentsIn, long bytesIn,
                         long documentsOut, long textBytesOut, long duplicates, long blankLines, long droppedWithFile,
                         Map<String, Long> skipped) {}

    /** One split of the output. */
    public record Split(long documents, long textBytes, int shards) {}

    public record Totals(int files, int filesSkipped, long documentsIn, long bytesIn, long documentsOut, long textBytesOut,
                         long duplicates, long blankLines, long droppedWithFile, Map<String, Long> skipped,
                         Split train, Split val) {}

    /** An example of a skipped record: file, 1-based line, reason key and what was wrong. */
    public record BadRecord(String file, long line, String reason, String detail) implements java.io.Serializable {}
}
