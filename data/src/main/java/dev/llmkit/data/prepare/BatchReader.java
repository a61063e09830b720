package dev.llmkit.data.prepare;

import dev.llmkit.core.StorageException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads input files one after another and cuts them into batches at line boundaries, in constant
 * memory: a batch is at most {@code chunkBytes}, or one line of at most max_doc_bytes; a longer line
 * is skipped to its end and reported as one oversized record. Decompression errors end the file
 * with a FILE_END batch that carries the error; disk errors are thrown as {@link StorageException}.
 */
final class BatchReader {
    /** Receives batches in input order. */
    interface Sink {
        void accept(Batch b) throws InterruptedException;
    }

    private final int chunkBytes;
    private final long maxDocBytes;
    private final BufferPool pool;
    private final String txtSplit;
    private final int txtDocBytes;

    BatchReader(int chunkBytes, long maxDocBytes, BufferPool pool, String txtSplit, long txtDocBytes) {
        this.chunkBytes = chunkBytes;
        this.maxDocBytes = maxDocBytes;
        this.pool = pool;
        this.txtSplit = txtSplit;
        this.txtDocBytes = (int) Math.min(txtDocBytes, maxDocBytes);
    }

    /**
     * Reads input file {@code file}: registers it in {@code sources} (or, for a tar archive, each member
     * in turn) and queues its batches, ending each source with a FILE_END batch.
     */
    void read(int file, InputSource input, Sources sources, Sink sink) throws InterruptedException {
        if (input.format().archive) {
            readArchive(file, input, sources, sink);
            return;
        }
        int source = sources.add(new Sources.Source(input.name(), input.format(), input.formatName(), input.size(), file, input.compressed()));
        RawInput raw = open(input);
        String error = null;
        String sha = null;
        try (raw) {
            try (InputStream in = input.format().open(new BufferedInputStream(raw, 1 << 17))) {
                readBody(source, input.format(), in, raw, sink);
                sha = raw.finishSha256();
            }
        } catch (RawInput.DiskException e) {
            throw new StorageException("cannot read " + input.name() + ": " + e.getMessage(), "check the disk and the file", e);
        } catch (IOException | RuntimeException e) {
            error = describe(e);
            sha = sha256(input);
        }
        sources.fileSha(file, sha);
        sink.accept(new Batch(source, Batch.Kind.FILE_END, null, 0, input.size(), 0, error, sha));
    }

    private static RawInput open(InputSource input) {
        try {
            return new RawInput(input);
        } catch (IOException e) {
            throw new StorageException("cannot open " + input.name() + ": " + e.getMessage(), "check that the file exists and is readable", e);
        }
    }

    private static String sha256(InputSource input) {
        try {
            return RawInput.sha256(input);
        } catch (IOException e) {
            throw new StorageException("cannot read " + input.name() + ": " + e.getMessage(), "check the disk and the file", e);
        }
    }

    /** One source's decompressed bytes, cut into batches by its format. */
    private void readBody(int source, InputFormat format, InputStream in, RawInput raw, Sink sink) throws IOException, InterruptedException {
        if (format.text && txtSplit.equals("file")) readText(source, in, raw, sink);
        else if (format.text) new TextDocs(source, in, raw, sink, txtSplit.equals("lines")).run();
        else readLines(source, in, raw, sink);
    }

    /**
     * A tar archive, streaming: each regular-file member of a format llmkit reads is a source of its
     * own, named {@code archive!member}, with the sha256 of its bytes; a member of another type is
     * registered and skipped (counted as a skipped file). A member cut short or corrupt ends the
     * archive with that member's error (its records are rolled back with skip_bad_files); damage between
     * members is reported against the archive itself.
     */
    private void readArchive(int file, InputSource input, Sources sources, Sink sink) throws InterruptedException {
        RawInput raw = open(input);
        String archive = input.name();
        int current = -1;
        try (raw) {
            try (InputStream arch = input.format().open(new BufferedInputStream(raw, 1 << 17));
                 org.apache.commons.compress.archivers.tar.TarArchiveInputStream tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(arch)) {
                org.apache.commons.compress.archivers.tar.TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    if (!e.isFile()) continue;
                    String name = archive + "!" + e.getName();
                    InputFormat fmt = InputFormat.of(e.getName());
                    if (fmt == null || fmt.archive || fmt == InputFormat.PARQUET) {
                        int s = sources.add(new Sources.Source(name, null, "unknown", e.getSize(), file, input.compressed()));
                        Batch end = new Batch(s, Batch.Kind.FILE_END, null, 0, raw.position(), 0,
                                "not a member type llmkit reads (" + InputFormat.memberSuffixes() + ")", null);
                        end.unsupported = true;
                        sink.accept(end);
                        continue;
                    }
                    current = sources.add(new Sources.Source(name, fmt, fmt.suffix.substring(1), e.getSize(), file, input.compressed() || fmt.compressed));
                    java.security.MessageDigest md = dev.llmkit.core.util.Text.newSha256();
                    InputStream member = new java.security.DigestInputStream(new java.io.FilterInputStream(tar) {
                        @Override
                        public void close() {
                            // the archive stream stays open for the next member
                        }
                    }, md);
                    try (InputStream in = fmt.open(new BufferedInputStream(member, 1 << 16))) {
                        readBody(current, fmt, in, raw, sink);
                    }
                    member.transferTo(java.io.OutputStream.nullOutputStream());      // the rest of the member, for its hash
                    sink.accept(new Batch(current, Batch.Kind.FILE_END, null, 0, raw.position(), 0, null, java.util.HexFormat.of().formatHex(md.digest())));
                    current = -1;
                }
                sources.fileSha(file, raw.finishSha256());      // what follows the tar's end, too
            }
        } catch (RawInput.DiskException e) {
            throw new StorageException("cannot read " + input.name() + ": " + e.getMessage(), "check the disk and the file", e);
        } catch (IOException | RuntimeException e) {
            if (current < 0) current = sources.add(new Sources.Source(archive, input.format(), input.formatName(), input.size(), file, input.compressed()));
            sources.fileSha(file, sha256(input));
            sink.accept(new Batch(current, Batch.Kind.FILE_END, null, 0, input.size(), 0, describe(e), null));
        }
    }

    private void readLines(int source, InputStream in, RawInput raw, Sink sink) throws IOException, InterruptedException {
        byte[] buf = pool.take(chunkBytes);
        int filled = 0;
        while (true) {
            int want = buf.length - filled;
            int n = in.readNBytes(buf, filled, want);
            filled += n;
            if (n < want) { // end of input
                if (filled > 0) sink.accept(new Batch(source, Batch.Kind.LINES, buf, filled, raw.position(), filled, null, null));
                else pool.give(buf);
                return;
            }
            int last = lastNewline(buf, filled);
            if (last >= 0) {
                int rest = filled - last - 1;
                byte[] next = pool.take(Math.max(chunkBytes, rest + chunkBytes / 2));
                System.arraycopy(buf, last + 1, next, 0, rest);
                sink.accept(new Batch(source, Batch.Kind.LINES, buf, last + 1, raw.position(), last + 1, null, null));
                buf = next;
                filled = rest;
            } else if (buf.length <= maxDocBytes + 1) { // one long line: grow up to max_doc_bytes + newline
                buf = Arrays.copyOf(buf, (int) Math.min((long) buf.length * 2, maxDocBytes + 2));
            } else { // longer than max_doc_bytes: skip to its end, keep what follows the newline
                long skipped = filled;
                int rest = 0;
                int m;
                while ((m = in.read(buf, 0, buf.length)) >= 0) {
                    int nl = RecordParser.indexOfNewline(buf, 0, m);
                    if (nl >= 0) {
                        skipped += nl + 1;
                        rest = m - nl - 1;
                        break;
                    }
                    skipped += m;
                }
                byte[] next = pool.take(Math.max(chunkBytes, rest + chunkBytes / 2));
                if (rest > 0) System.arraycopy(buf, m - rest, next, 0, rest);
                sink.accept(new Batch(source, Batch.Kind.OVERSIZED_LINE, null, 0, raw.position(), skipped, null, null));
                pool.give(buf);
                buf = next;
                filled = rest;
                if (m < 0) return;
            }
        }
    }

    private void readText(int source, InputStream in, RawInput raw, Sink sink) throws IOException, InterruptedException {
        byte[] doc = in.readNBytes((int) Math.min(maxDocBytes + 1, Integer.MAX_VALUE - 16));
        if (doc.length > maxDocBytes) {
            long total = doc.length + in.transferTo(java.io.OutputStream.nullOutputStream());
            sink.accept(new Batch(source, Batch.Kind.OVERSIZED_LINE, null, 0, raw.position(), total, null, null));
        } else {
            sink.accept(new Batch(source, Batch.Kind.TEXT_FILE, doc, doc.length, raw.position(), doc.length, null, null));
        }
    }


    /**
     * A .txt file cut into documents as it streams, in constant memory. Paragraphs mode: paragraphs
     * (separated by blank lines) are joined, a blank line between them, until the next would take the
     * document past txt_doc_bytes; a paragraph longer than that is cut at a line boundary, a line longer
     * than that at a character boundary (after a space where one is near). Lines mode: every non-blank
     * line is a document; one over max_doc_bytes is skipped as too_large. Documents go out in batches
     * of about chunkBytes, each knowing the line it starts at.
     */
    private final class TextDocs {
        private final int source;
        private final InputStream in;
        private final RawInput raw;
        private final Sink sink;
        private final boolean lines;
        private final int target;

        private final byte[] rbuf = new byte[1 << 16];     // the input, a window at a time
        private int rpos, rlen;
        private boolean eof;

        private byte[] buf;                               // the batch: documents back to back
        private int len, docs, batchLines, blankLines;
        private long fileLines;                           // lines of the file in earlier batches
        private int[] starts = new int[64], ends = new int[64], firstLines = new int[64];
        private int docStart = -1;                        // the open document's start in buf, -1 when none
        private boolean blankSince;                       // a blank line since the open document's last line

        TextDocs(int source, InputStream in, RawInput raw, Sink sink, boolean lines) {
            this.source = source;
            this.in = in;
            this.raw = raw;
            this.sink = sink;
            this.lines = lines;
            this.target = lines ? (int) Math.min(maxDocBytes, Integer.MAX_VALUE - 64) : txtDocBytes;
            this.buf = pool.take(chunkBytes);
        }

        void run() throws IOException, InterruptedException {
            while (fill()) {
                // one line: [rpos, nl) of the window, read on past the window's end for a long line
                int nl = RecordParser.indexOfNewline(rbuf, rpos, rlen);
                if (nl < 0 && !eof && rlen - rpos < rbuf.length) {
                    fillMore();                  // the line goes on past the window: move it to the front and read on
                    continue;
                }
                int end = nl < 0 ? rlen : nl;
                boolean blank = isBlank(rbuf, rpos, end);
                if (blank && nl >= 0) {
                    rpos = nl + 1;
                    batchLines++;
                    blankLines++;
                    if (docStart >= 0) blankSince = true;
                    if (lines) closeDoc();
                    continue;
                }
                if (blank && eof) {         // trailing spaces without a newline
                    rpos = rlen;
                    batchLines++;
                    break;
                }
                line(nl);
            }
            closeDoc();
            flush();
            pool.give(buf);
        }

        /** Adds the line starting at rpos (its newline at nl, or past the window when nl < 0) to the open document. */
        private void line(int nl) throws IOException, InterruptedException {
            boolean first = true;
            long lineBytes = 0;
            boolean oversized = false;
            while (true) {
                int end = nl < 0 ? rlen : nl > rpos && rbuf[nl - 1] == '\r' ? nl - 1 : nl;     // a CRLF line ends before its \r
                int n = end - rpos;
                if (first) {
                    int sep = docStart < 0 ? 0 : blankSince ? 2 : 1;
                    if (docStart >= 0 && (lines || docLength() + sep + n > target)) closeDoc();
                    if (docStart < 0) openDoc();
                    else {
                        append((byte) '\n');
                        if (blankSince) append((byte) '\n');
                    }
                    blankSince = false;
                    first = false;
                }
                lineBytes += n;
                if (lines && lineBytes > maxDocBytes) oversized = true;
                if (oversized) {
                    rpos = end;
                } else {
                    // paragraphs: a line that does not fit is cut at a character boundary, the rest a new document
                    while (!lines && docLength() + (end - rpos) > target) {
                        int cut = cutPoint(rbuf, rpos, rpos + Math.max(1, target - docLength()));
                        appendRange(rbuf, rpos, cut);
                        rpos = cut;
                        closeDoc();
                        openDoc();
                    }
                    appendRange(rbuf, rpos, end);
                    rpos = end;
                }
                if (nl >= 0) {
                    rpos = nl + 1;
                    break;
                }
                if (!fillMore()) break;           // end of input inside the line
                nl = RecordParser.indexOfNewline(rbuf, rpos, rlen);
            }
            batchLines++;
            if (oversized) {
                len = docStart;                   // drop what was kept of it
                ends[docs] = -1;
                starts[docs] = len;
                docs++;
                docStart = -1;
            }
        }

        private int docLength() {
            return docStart < 0 ? 0 : len - docStart;
        }

        private void openDoc() throws InterruptedException {
            if (len >= chunkBytes) flush();
            docStart = len;
            if (docs == starts.length) {
                starts = Arrays.copyOf(starts, docs * 2);
                ends = Arrays.copyOf(ends, docs * 2);
                firstLines = Arrays.copyOf(firstLines, docs * 2);
            }
            firstLines[docs] = batchLines;
        }

        private void closeDoc() {
            if (docStart < 0) return;
            starts[docs] = docStart;
            ends[docs] = len;
            docs++;
            docStart = -1;
            blankSince = false;
        }

        private void flush() throws InterruptedException {
            if (docs == 0 && batchLines == 0) return;
            Batch b = new Batch(source, Batch.Kind.TEXT_DOCS, buf, len, raw.position(), len, null, null);
            b.docs = docs;
            b.docStart = Arrays.copyOf(starts, docs);
            b.docEnd = Arrays.copyOf(ends, docs);
            b.docLine = Arrays.copyOf(firstLines, docs);
            b.lines = batchLines;
            b.lineBase = fileLines;
            b.blankLines = blankLines;
            fileLines += batchLines;
            sink.accept(b);
            buf = pool.take(chunkBytes);
            len = 0;
            docs = 0;
            batchLines = 0;
            blankLines = 0;
        }

        private void append(byte x) {
            if (len == buf.length) buf = Arrays.copyOf(buf, buf.length * 2);
            buf[len++] = x;
        }

        private void appendRange(byte[] b, int from, int to) {
            int n = to - from;
            if (len + n > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
            System.arraycopy(b, from, buf, len, n);
            len += n;
        }

        /** True while input remains in the window (reading more when it is empty). */
        private boolean fill() throws IOException {
            if (rpos < rlen) return true;
            rpos = rlen = 0;
            return fillMore();
        }

        /** Reads more input into the window (after moving what is left to its start); false at the end. */
        private boolean fillMore() throws IOException {
            if (rpos == rlen) rpos = rlen = 0;
            else compact();
            if (eof) return rlen > rpos;
            int n = in.read(rbuf, rlen, rbuf.length - rlen);
            if (n < 0) {
                eof = true;
                return rlen > rpos;
            }
            rlen += n;
            return true;
        }

        private void compact() {
            System.arraycopy(rbuf, rpos, rbuf, 0, rlen - rpos);
            rlen -= rpos;
            rpos = 0;
        }
    }

    /** Whitespace only (ASCII). */
    private static boolean isBlank(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != 0x0B) return false;
        }
        return true;
    }

    /**
     * Where to cut b[from, limit) so that no UTF-8 character is split: after the last space or tab in the
     * last eighth of the range when there is one, else at the last character boundary at or before limit.
     */
    static int cutPoint(byte[] b, int from, int limit) {
        for (int i = limit - 1; i > from + (limit - from) * 7 / 8; i--) if (b[i] == ' ' || b[i] == '\t') return i + 1;
        int i = limit;
        while (i > from + 1 && (b[i] & 0xC0) == 0x80) i--;       // not inside a multi-byte character
        return i;
    }

    private static int lastNewline(byte[] b, int end) {
        for (int i = end - 1; i >= 0; i--) if (b[i] == '\n') return i;
        return -1;
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        String what = e instanceof java.io.EOFException || (m != null && (m.toLowerCase().contains("truncat") || m.toLowerCase().contains("end of")))
                ? "truncated" : "corrupt";
        return what + " compressed data (" + e.getClass().getSimpleName() + (m == null ? "" : ": " + m) + ")";
    }
}
