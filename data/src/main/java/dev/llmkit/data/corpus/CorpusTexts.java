package dev.llmkit.data.corpus;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.StorageException;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The texts of a corpus, one document at a time, for the tokenizer stages. A corpus is either a
 * prepared corpus directory (00-corpus: report.json + train-/val-*.jsonl.zst, whose documents are the
 * JSON lines' "text") or plain .txt files, read in chunks of about 1 MiB, each cut before the
 * whitespace around a newline (a pre-token boundary for the GPT-2 pattern).
 */
public final class CorpusTexts {
    /** One split: its files in order and their total text bytes (-1 when unknown). */
    public record Split(List<Path> files, long textBytes, boolean jsonl) {
        public Iterator<String> iterator() {
            return new TextIterator(files, jsonl);
        }

        public boolean isEmpty() {
            return files.isEmpty();
        }
    }

    private final Split train, val;
    private final boolean prepared;

    private CorpusTexts(Split train, Split val, boolean prepared) {
        this.train = train;
        this.val = val;
        this.prepared = prepared;
    }

    public Split train() {
        return train;
    }

    public Split val() {
        return val;
    }

    /** True for a 00-corpus directory, false for plain text files. */
    public boolean prepared() {
        return prepared;
    }

    /**
     * Opens a corpus directory (with report.json) or .txt files and directories of them; plain text has
     * no validation split unless {@code valText} names .txt files for it.
     */
    public static CorpusTexts open(List<Path> paths, List<Path> valText) {
        if (paths.size() == 1 && Files.isRegularFile(paths.get(0).resolve("report.json"))) {
            Path dir = paths.get(0);
            JsonNode report;
            try {
                report = Json.MAPPER.readTree(dir.resolve("report.json").toFile());
            } catch (IOException e) {
                throw new DataException(dir.resolve("report.json") + ": unreadable corpus report: " + e.getMessage(),
                        "re-run `llmkit data prepare`", e);
            }
            return new CorpusTexts(
                    new Split(shards(dir, "train-"), report.path("totals").path("train").path("text_bytes").asLong(-1), true),
                    new Split(shards(dir, "val-"), report.path("totals").path("val").path("text_bytes").asLong(-1), true), true);
        }
        return new CorpusTexts(textSplit(paths), textSplit(valText), false);
    }

    private static List<Path> shards(Path dir, String prefix) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix) && p.getFileName().toString().endsWith(".jsonl.zst"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new StorageException(dir + ": cannot list: " + e.getMessage(), null, e);
        }
    }

    /** A plain-text file, plain or compressed (.txt, .txt.gz, .txt.zst, .txt.bz2, .txt.xz), or a tar archive (its text members are read). */
    static boolean isText(Path f) {
        dev.llmkit.data.prepare.InputFormat fmt = dev.llmkit.data.prepare.InputFormat.of(f);
        return fmt != null && (fmt.text || fmt.archive);
    }

    private static Split textSplit(List<Path> paths) {
        List<Path> files = new ArrayList<>();
        long bytes = 0;
        for (Path p : paths == null ? List.<Path>of() : paths) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.walk(p)) {
                    s.filter(f -> Files.isRegularFile(f) && isText(f)).sorted().forEach(files::add);
                } catch (IOException e) {
                    throw new StorageException(p + ": cannot list: " + e.getMessage(), null, e);
                }
            } else if (Files.isRegularFile(p) && isText(p)) {
                files.add(p);
            } else if (!Files.exists(p)) {
                throw new ConfigException(p + ": no such file or directory", "pass a corpus directory from `llmkit data prepare` or .txt files");
            } else {
                throw new ConfigException(p + ": neither a prepared corpus directory (no report.json) nor a .txt file",
                        "run `llmkit data prepare` on raw shards first, then pass its output directory");
            }
        }
        for (Path f : files) {
            try {
                bytes += Files.size(f);
            } catch (IOException e) {
                throw new StorageException(f + ": cannot read: " + e.getMessage(), null, e);
            }
        }
        if (paths != null && !paths.isEmpty() && files.isEmpty()) {
            throw new ConfigException(paths + ": no .txt files found", "pass a corpus directory from `llmkit data prepare`, .txt files (plain or compressed) or tar archives of them");
        }
        return new Split(List.copyOf(files), bytes, false);
    }

    /** Reads documents file after file. */
    private static final class TextIterator extends dev.llmkit.core.util.Lookahead<String> {
        /** No string-length limit beyond Java's: prepare already bounded documents by max_doc_bytes. */
        private static final JsonFactory JSON = JsonFactory.builder().streamReadConstraints(Json.constraints(Integer.MAX_VALUE)).build();
        private final Iterator<Path> files;
        private final boolean jsonl;
        private Path file;
        private BufferedReader lines;      // jsonl
        private InputStream text;          // txt, or the current text member of an archive
        private org.apache.commons.compress.archivers.tar.TarArchiveInputStream tar;     // the archive being read, if any
        private byte[] carry = new byte[0];
        private long lineNo;

        TextIterator(List<Path> files, boolean jsonl) {
            this.files = files.iterator();
            this.jsonl = jsonl;
        }

        @Override
        protected String advance() {
            try {
                while (true) {
                    if (lines == null && text == null && !openNext()) return null;
                    String s = jsonl ? nextJson() : nextChunk();
                    if (s != null) return s;
                }
            } catch (IOException e) {
                throw new StorageException(file + ": cannot read: " + e.getMessage(), "check the corpus files", e);
            }
        }

        private boolean openNext() throws IOException {
            if (tar != null && nextMember()) return true;
            if (!files.hasNext()) return false;
            file = files.next();
            lineNo = 0;
            InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 17);
            dev.llmkit.data.prepare.InputFormat fmt = jsonl ? null : dev.llmkit.data.prepare.InputFormat.of(file);
            if (jsonl) {
                lines = new BufferedReader(new InputStreamReader(new ZstdInputStreamNoFinalizer(in), StandardCharsets.UTF_8), 1 << 17);
            } else if (fmt.archive) {
                tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(fmt.open(in));
                return nextMember() || openNext();
            } else {
                text = fmt.open(in);      // .txt, plain or compressed
            }
            return true;
        }

        /** Opens the archive's next text member as {@code text}; false (the archive closed) when none is left. */
        private boolean nextMember() throws IOException {
            org.apache.commons.compress.archivers.tar.TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                dev.llmkit.data.prepare.InputFormat fmt = dev.llmkit.data.prepare.InputFormat.of(e.getName());
                if (!e.isFile() || fmt == null || !fmt.text) continue;      // only text members train a tokenizer
                text = fmt.open(new BufferedInputStream(new java.io.FilterInputStream(tar) {
                    @Override
                    public void close() {
                        // the archive stays open for its next member
                    }
                }, 1 << 16));
                return true;
            }
            tar.close();
            tar = null;
            return false;
        }

        private String nextJson() throws IOException {
            String line = lines.readLine();
            if (line == null) {
                lines.close();
                lines = null;
                return null;
            }
            lineNo++;
            try (JsonParser p = JSON.createParser(line)) {
                if (p.nextToken() == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String name = p.currentName();
                        JsonToken t = p.nextToken();
                        if (name.equals("text") && t == JsonToken.VALUE_STRING) return p.getText();
                        p.skipChildren();
                    }
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new DataException(file + ":" + lineNo + ": not a corpus record: " + e.getOriginalMessage(),
                        "the corpus is damaged; re-run `llmkit data prepare`", e);
            }
            throw new DataException(file + ":" + lineNo + ": no \"text\" string in the record", "the corpus is damaged; re-run `llmkit data prepare`");
        }

        private String nextChunk() throws IOException {
            byte[] buf = new byte[Math.max(1 << 20, carry.length * 2)];
            System.arraycopy(carry, 0, buf, 0, carry.length);
            int n = carry.length;
            int r;
            while (n < buf.length && (r = text.read(buf, n, buf.length - n)) > 0) n += r;
            if (n == 0) {
                text.close();
                text = null;
                carry = new byte[0];
                return null;
            }
            int cut = n;
            if (n == buf.length) {               // more may follow: cut before the whitespace run holding the last newline
                int nl = lastNewline(buf, n);
                if (nl >= 0) {
                    cut = nl;
                    while (cut > 0 && isAsciiSpace(buf[cut - 1])) cut--;
                    if (cut == 0) cut = nl + 1;
                } else {
                    cut = utf8Boundary(buf, n);
                }
            }
            carry = java.util.Arrays.copyOfRange(buf, cut, n);
            return new String(buf, 0, cut, StandardCharsets.UTF_8);
        }

        private static boolean isAsciiSpace(byte c) {
            return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == 0x0C;
        }

        private static int lastNewline(byte[] b, int n) {
            for (int i = n - 1; i >= 0; i--) if (b[i] == '\n') return i;
            return -1;
        }

        private static int utf8Boundary(byte[] b, int n) {
            int i = n;
            while (i > 0 && (b[i - 1] & 0xC0) == 0x80) i--;
            return i > 0 && (b[i - 1] & 0x80) != 0 ? i - 1 : n;
        }
    }
}
