package dev.llmkit.data.prepare;

/**
 * A slice of one input file, cut at line boundaries by the reader: either JSON Lines in
 * {@code buf[0, len)}, a whole .txt document, documents cut from a .txt file (TEXT_DOCS: document k is
 * {@code buf[docStart[k], docEnd[k])}, starting {@code docLine[k]} lines into the batch; docEnd -1 marks
 * a line over max_doc_bytes that was not kept), or one line that was too long to keep.
 */
final class Batch {
    enum Kind { LINES, TEXT_FILE, TEXT_DOCS, OVERSIZED_LINE, FILE_END }

    int docs;              // TEXT_DOCS: documents, and where each is
    int[] docStart, docEnd, docLine;
    int lines;             // TEXT_DOCS: input lines the batch stands for (blank ones included)
    long lineBase;         // TEXT_DOCS: lines of the file before the batch
    int blankLines;        // TEXT_DOCS: blank lines among them
    boolean unsupported;   // FILE_END of an archive member of a type llmkit does not read: skipped and counted

    final int source;      // index of the input file
    final Kind kind;
    final byte[] buf;
    final int len;
    final long rawPos;     // on-disk bytes of the file consumed when this batch was cut
    final long bytesIn;    // uncompressed input bytes this batch stands for (lines and newlines)
    final String error;    // FILE_END of a truncated or corrupt file: what went wrong; else null
    final String sha256;   // FILE_END of a file read whole: hex sha256 of its bytes on disk

    Batch(int source, Kind kind, byte[] buf, int len, long rawPos, long bytesIn, String error, String sha256) {
        this.source = source;
        this.kind = kind;
        this.buf = buf;
        this.len = len;
        this.rawPos = rawPos;
        this.bytesIn = bytesIn;
        this.error = error;
        this.sha256 = sha256;
    }
}
