package dev.llmkit.data.prepare;

import static dev.llmkit.data.prepare.Fixtures.doc;
import static dev.llmkit.data.prepare.Fixtures.lines;
import static dev.llmkit.data.prepare.Fixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.PrepareConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTest {
    @TempDir
    Path dir;

    static PrepareConfig cfg(String... sets) {
        return ConfigLoader.load(null, List.of(sets)).config().data().prepare();
    }

    private Corpus.Manifest prepare(PrepareConfig cfg, Path out, Path... inputs) {
        List<String> args = Stream.of(inputs).map(Path::toString).toList();
        return Corpus.prepare(cfg, InputFiles.resolve(args), out, false, Progress.NONE);
    }

    /** One file of every format, with each kind of bad record, blank lines, duplicates and NFD text. */
    private Path[] mixedInputs() throws IOException {
        byte[] badUtf8 = "{\"text\":\"caf\u00e9 \"}".getBytes(StandardCharsets.UTF_8);
        badUtf8[badUtf8.length - 4] = (byte) 0xff; // corrupt the second byte of the e-acute
        return new Path[] {
            write(dir.resolve("in/a.jsonl"), lines(doc("alpha"), doc("beta"), "", "{not json", badUtf8,
                    "{\"meta\":{}}", "{\"text\":42}", "{\"text\":\"   \\n\"}", "[1,2]", doc("alpha"))),
            write(dir.resolve("in/b.jsonl.gz"), lines(doc("gamma"), doc("beta"), "{\"text\":null}")),
            write(dir.resolve("in/c.jsonl.zst"), lines(doc("cafe\u0301"), doc("caf\u00e9"), "{\"text\":\"x\\ud800y\"}",
                    "{\"text\":\"ok\"} trailing")),
            write(dir.resolve("in/d.json.gz"), lines("{\"text\":\"delta\",\"meta\":[1,{\"k\":\"v\"}],\"id\":7}")),
            write(dir.resolve("in/e.txt"), "epsilon\nsecond line\n".getBytes(StandardCharsets.UTF_8)),
        };
    }

    @Test
    void countsEveryReasonAndKeepsGoodRecords() throws IOException {
        Path out = dir.resolve("out");
        Corpus.Manifest m = prepare(cfg(), out, mixedInputs());
        CorpusReport.Totals t = m.report().totals();
        assertEquals(5, t.files());
        assertEquals(10 - 1 + 3 + 4 + 1 + 1, t.documentsIn()); // blank line is not a document
        assertEquals(1, t.blankLines());
        Map<String, Long> expected = new TreeMap<>(Map.of("invalid_json", 3L, "invalid_utf8", 2L, "missing_text", 2L,
                "text_not_string", 1L, "empty_text", 1L, "too_large", 0L));
        assertEquals(expected, new TreeMap<>(t.skipped()));
        assertEquals(3, t.duplicates()); // alpha, beta again, and NFC(cafe + U+0301) == café
        List<String> texts = new ArrayList<>(Fixtures.texts(out));
        texts.sort(null);
        assertEquals(List.of("alpha", "beta", "caf\u00e9", "delta", "epsilon\nsecond line", "gamma"), texts);     // a .txt paragraph
        assertEquals(t.documentsIn(), t.documentsOut() + t.duplicates() + t.skipped().values().stream().mapToLong(x -> x).sum());
        long bytesIn = 0;
        for (CorpusReport.Source s : m.report().sources()) {
            assertEquals(s.documentsIn(), s.documentsOut() + s.duplicates() + s.droppedWithFile()
                    + s.skipped().values().stream().mapToLong(x -> x).sum(), s.path());
            bytesIn += s.bytesIn();
        }
        assertEquals(bytesIn, t.bytesIn());
        // examples carry file and line
        CorpusReport.BadRecord first = m.report().badRecords().get(0);
        assertTrue(first.file().endsWith("a.jsonl") && first.line() == 4 && first.reason().equals("invalid_json"),
                m.report().badRecords().toString());
        assertTrue(m.report().badRecords().stream().anyMatch(b -> b.reason().equals("invalid_utf8") && b.line() == 3
                && b.file().endsWith("c.jsonl.zst") && b.detail().contains("surrogate")), m.report().badRecords().toString());
        assertTrue(m.report().badRecords().stream().anyMatch(b -> b.reason().equals("invalid_utf8") && b.line() == 5
                && b.detail().contains("invalid UTF-8 byte 0xc3 at column 13")), m.report().badRecords().toString());
    }

    @Test
    void metaIsKeptVerbatimAndTxtGetsItsSource() throws IOException {
        Path out = dir.resolve("out");
        prepare(cfg("data.prepare.val_fraction=0"), out, mixedInputs());
        Map<String, JsonNode> byText = new TreeMap<>();
        for (JsonNode n : Fixtures.records(out, "train")) byText.put(n.get("text").asText(), n);
        assertEquals("[1,{\"k\":\"v\"}]", byText.get("delta").get("meta").toString());
        assertFalse(byText.get("delta").has("id"));
        assertEquals("t", byText.get("alpha").get("meta").get("src").asText());
        assertTrue(byText.get("epsilon\nsecond line").get("meta").get("source_file").asText().endsWith("e.txt"));
        assertEquals(1, byText.get("epsilon\nsecond line").get("meta").get("line").asInt());
        assertFalse(Files.exists(out.resolve("val-00000.jsonl.zst")));
    }

    /** A large .txt file is cut into documents by data.prepare.txt_split, each knowing its file and first line. */
    @Test
    void textFilesAreSplitIntoParagraphDocumentsOrLines() throws IOException {
        // 9 MB: paragraphs of 1-5 numbered lines between 1-3 blank lines, a few long lines, more than two 4 MiB batches
        StringBuilder sb = new StringBuilder();
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        List<Integer> paragraphLines = new ArrayList<>();     // the 1-based line where each paragraph starts
        int line = 1;
        while (sb.length() < 9_000_000) {
            paragraphLines.add(line);
            int n = 1 + r.nextInt(5);
            for (int k = 0; k < n; k++) {
                sb.append("line ").append(line);
                int words = r.nextInt(200) == 0 ? 3000 : 1 + r.nextInt(30);     // some lines longer than a document
                for (int wd = 0; wd < words; wd++) sb.append(" w\u00e9rd").append(line).append('_').append(wd);     // no two pieces alike
                sb.append('\n');
                line++;
            }
            int blanks = 1 + r.nextInt(3);
            for (int k = 0; k < blanks; k++) {
                sb.append(k == 1 ? "   \n" : "\n");
                line++;
            }
        }
        Path txt = write(dir.resolve("in/book.txt"), sb.toString().getBytes(StandardCharsets.UTF_8));
        // paragraphs (default): every document at most txt_doc_bytes, starting at the line its meta names
        Path out = dir.resolve("out-p");
        prepare(cfg("data.prepare.val_fraction=0", "data.prepare.txt_doc_bytes=4096"), out, txt);
        String[] fileLines = sb.toString().split("\n", -1);
        long docs = 0, kept = 0;
        for (JsonNode n : Fixtures.records(out, "train")) {
            String text = n.get("text").asText();
            int first = n.get("meta").get("line").asInt();
            assertTrue(text.getBytes(StandardCharsets.UTF_8).length <= 4096, "a document of " + text.length() + " chars");
            String firstLine = text.split("\n", -1)[0];
            assertTrue(fileLines[first - 1].startsWith(firstLine) || fileLines[first - 1].contains(firstLine), "line " + first + ": " + firstLine);
            docs++;
            kept += text.replace("\n", "").length();
        }
        long content = sb.toString().replace("\n", "").replace("   ", "").length();
        assertEquals(content, kept, "every character of the text is kept, only line breaks between paragraphs change");
        assertTrue(docs > 9_000_000 / 4096 && docs < 9_000_000 / 2048 * 2, docs + " documents");
        // lines: every non-blank line is a document; one over max_doc_bytes is skipped as too_large
        Path outL = dir.resolve("out-l");
        Corpus.Manifest m = prepare(cfg("data.prepare.val_fraction=0", "data.prepare.txt_split=lines", "data.prepare.max_doc_bytes=16384",
                "data.prepare.txt_doc_bytes=4096"), outL, txt);
        long nonBlank = java.util.Arrays.stream(fileLines).filter(l -> !l.isBlank()).count();
        long tooLarge = java.util.Arrays.stream(fileLines).filter(l -> l.getBytes(StandardCharsets.UTF_8).length > 16384).count();
        assertTrue(tooLarge > 0);
        assertEquals(nonBlank, m.report().totals().documentsIn());
        assertEquals(tooLarge, m.report().totals().skipped().get("too_large"));
        for (JsonNode n : Fixtures.records(outL, "train")) {
            int at = n.get("meta").get("line").asInt();
            assertEquals(fileLines[at - 1], n.get("text").asText(), "line " + at);
        }
        CorpusReport.BadRecord big = m.report().badRecords().stream().filter(b -> b.reason().equals("too_large")).findFirst().orElseThrow();
        assertTrue(fileLines[(int) big.line() - 1].length() > 16384, "too_large names its line: " + big.line());
        // file: the whole file as one document, too large here
        DataException e = assertThrows(DataException.class, () -> prepare(cfg("data.prepare.txt_split=file", "data.prepare.max_doc_bytes=1048576",
                "data.prepare.txt_doc_bytes=4096"), dir.resolve("out-f"), txt));
        assertTrue(e.getMessage().contains("no document was kept") && e.getMessage().contains("too_large"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("out-f")));
        // Windows line ends: the paragraphs are the same as with \n alone
        Path crlf = write(dir.resolve("in/crlf.txt"), "first\r\nsecond\r\n\r\nthird\r\n".getBytes(StandardCharsets.UTF_8));
        prepare(cfg("data.prepare.val_fraction=0"), dir.resolve("out-crlf"), crlf);
        assertEquals(List.of("first\nsecond\n\nthird"), Fixtures.texts(dir.resolve("out-crlf")));
    }

    /** bzip2 and xz inputs, JSON Lines and text, read as their plain twins; a truncated one is a bad file like a truncated .zst. */
    @Test
    void bzip2AndXzInputsReadAsTheirPlainTwins() throws IOException {
        byte[] jsonl = lines(doc("one"), doc("two"), "{broken", doc("three"));
        byte[] text = "para one\nline two\n\npara two\n".getBytes(StandardCharsets.UTF_8);
        Path plain = dir.resolve("plain");
        Corpus.Manifest a = prepare(cfg("data.prepare.val_fraction=0"), dir.resolve("out-a"),
                write(plain.resolve("a.jsonl"), jsonl), write(plain.resolve("b.txt"), text));
        Path packed = dir.resolve("packed");
        for (String[] s : new String[][] {{".jsonl.bz2", ".txt.xz"}, {".jsonl.xz", ".txt.bz2"}, {".jsonl.gz", ".txt.zst"}, {".jsonl.zst", ".txt.gz"}}) {
            Path out = dir.resolve("out" + s[0] + s[1]);
            Corpus.Manifest m = prepare(cfg("data.prepare.val_fraction=0"), out, write(packed.resolve("a" + s[0]), jsonl), write(packed.resolve("b" + s[1]), text));
            assertEquals(a.report().totals().documentsOut(), m.report().totals().documentsOut(), s[0] + s[1]);
            assertEquals(a.report().totals().skipped(), m.report().totals().skipped(), s[0] + s[1]);
            assertEquals(Fixtures.texts(dir.resolve("out-a")), Fixtures.texts(out), s[0] + s[1]);
        }
        for (String suffix : new String[] {".jsonl.bz2", ".jsonl.xz"}) {
            List<Object> many = new ArrayList<>();
            for (int i = 0; i < 5000; i++) many.add(doc("record " + i + " " + "z".repeat(i % 300)));
            Path cut = write(dir.resolve("cut/c" + suffix), lines(many.toArray()));
            Fixtures.truncate(cut, 40);
            DataException e = assertThrows(DataException.class, () -> prepare(cfg(), dir.resolve("out-cut"), cut));
            assertTrue(e.getMessage().contains("c" + suffix) && e.getMessage().contains("truncated"), e.getMessage());
            Corpus.Manifest m = prepare(cfg("data.prepare.skip_bad_files=true"), dir.resolve("out-skip" + suffix), cut, write(dir.resolve("cut/ok.jsonl"), jsonl));
            assertEquals("skipped", m.report().sources().get(0).status());
            assertEquals(0, m.report().sources().get(0).documentsOut());
        }
    }

    /** Writes a tar archive (compressed by its suffix) of the given members: name, then content. */
    static Path tar(Path file, Object... members) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (org.apache.commons.compress.archivers.tar.TarArchiveOutputStream t = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(bytes)) {
            t.setLongFileMode(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream.LONGFILE_POSIX);
            for (int k = 0; k < members.length; k += 2) {
                String name = (String) members[k];
                byte[] content = (byte[]) members[k + 1];
                org.apache.commons.compress.archivers.tar.TarArchiveEntry e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name);
                if (content == null) {                  // a directory entry
                    t.putArchiveEntry(new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name.endsWith("/") ? name : name + "/"));
                    t.closeArchiveEntry();
                    continue;
                }
                e.setSize(content.length);
                t.putArchiveEntry(e);
                t.write(content);
                t.closeArchiveEntry();
            }
        }
        return write(file, bytes.toByteArray());
    }

    private static byte[] compressed(String suffix, byte[] content) throws IOException {
        Path f = Files.createTempFile("member", suffix);
        write(f, content);
        byte[] b = Files.readAllBytes(f);
        Files.delete(f);
        return b;
    }

    /**
     * Tar archives (plain, gzip, zstd, bzip2, xz) are read member by member: the same documents, in the
     * same order, as the members given as files; report.json names each member archive!path; a member of
     * another type is skipped and counted; a truncated archive is a bad file.
     */
    @Test
    void tarArchivesAreReadMemberByMember() throws IOException {
        byte[] a = lines(doc("one"), doc("two"), "{broken", doc("three"));
        byte[] b = "para one\nline two\n\npara two\n".getBytes(StandardCharsets.UTF_8);
        byte[] c = lines(doc("four"), doc("two"));
        Path plain = dir.resolve("plain");
        Corpus.Manifest ref = prepare(cfg("data.prepare.val_fraction=0"), dir.resolve("out-ref"),
                write(plain.resolve("a.jsonl"), a), write(plain.resolve("b.txt"), b), write(plain.resolve("c.jsonl.gz"), c));
        List<String> refTexts = Fixtures.texts(dir.resolve("out-ref"));
        for (String suffix : new String[] {".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.bz2", ".tar.xz"}) {
            Path arch = tar(dir.resolve("arch/corpus" + suffix), "data/", null, "data/a.jsonl", a, "data/README.md", "not data".getBytes(StandardCharsets.UTF_8),
                    "data/b.txt", b, "data/c.jsonl.gz", compressed(".gz", c));
            Path out = dir.resolve("out" + suffix);
            Corpus.Manifest m = prepare(cfg("data.prepare.val_fraction=0"), out, arch);
            assertEquals(refTexts, Fixtures.texts(out), suffix);
            List<String> names = m.report().sources().stream().map(CorpusReport.Source::path).toList();
            assertEquals(List.of(arch + "!data/a.jsonl", arch + "!data/README.md", arch + "!data/b.txt", arch + "!data/c.jsonl.gz"), names, suffix);
            CorpusReport.Source readme = m.report().sources().get(1);
            assertEquals("skipped", readme.status(), suffix);
            assertEquals(1, m.report().totals().filesSkipped(), suffix);
            assertEquals(ref.report().totals().documentsOut(), m.report().totals().documentsOut(), suffix);
            assertEquals(ref.report().totals().duplicates(), m.report().totals().duplicates(), suffix);
            assertTrue(m.report().badRecords().stream().anyMatch(r -> r.file().equals(arch + "!data/a.jsonl") && r.line() == 3), m.report().badRecords().toString());
            assertEquals(ref.report().sources().get(0).sha256(), m.report().sources().get(0).sha256(), "a member's sha256 is that of its bytes");
            JsonNode prov = Json.MAPPER.readTree(out.resolve("provenance.json").toFile());
            assertEquals(dev.llmkit.core.util.Text.sha256(arch), prov.path("inputs").get(0).path("sha256").asText(), "provenance names the archive file");
        }
        // a truncated compressed archive is a bad file: an error naming it, or with skip_bad_files, the member cut short is rolled back
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < 4000; i++) many.add(doc("archived record " + i + " " + "q".repeat(i % 250)));
        Path cut = tar(dir.resolve("cut/big.tar.zst"), "x/first.jsonl", a, "x/many.jsonl", lines(many.toArray()));
        Fixtures.truncate(cut, 2000);
        DataException e = assertThrows(DataException.class, () -> prepare(cfg(), dir.resolve("out-cut"), cut));
        assertTrue(e.getMessage().contains("big.tar.zst!x/many.jsonl") && e.getMessage().contains("truncated"), e.getMessage());
        Corpus.Manifest m = prepare(cfg("data.prepare.skip_bad_files=true", "data.prepare.val_fraction=0"), dir.resolve("out-skip"), cut);
        assertEquals("ok", m.report().sources().get(0).status());
        assertEquals("skipped", m.report().sources().get(1).status());
        assertEquals(0, m.report().sources().get(1).documentsOut());
        assertEquals(List.of("one", "three", "two"), Fixtures.texts(dir.resolve("out-skip")).stream().sorted().toList());
    }

    /** The tokenizer's --corpus reads compressed text and tar archives of text the same way: the same text, in the same order. */
    @Test
    void tokenizerCorpusReadsCompressedTextAndArchives() throws IOException {
        byte[] a = "alpha beta\ngamma\n".getBytes(StandardCharsets.UTF_8), b = "delta\n\nepsilon zeta\n".getBytes(StandardCharsets.UTF_8);
        Path plainA = write(dir.resolve("tok/plain/a.txt"), a), plainB = write(dir.resolve("tok/plain/b.txt"), b);
        String expected = String.join("", all(dev.llmkit.data.corpus.CorpusTexts.open(List.of(plainA, plainB), null).train().iterator()));
        assertEquals("alpha beta\ngamma\ndelta\n\nepsilon zeta\n", expected);
        Path packedA = write(dir.resolve("tok/z/a.txt.xz"), a), packedB = write(dir.resolve("tok/z/b.txt.bz2"), b);
        assertEquals(expected, String.join("", all(dev.llmkit.data.corpus.CorpusTexts.open(List.of(packedA, packedB), null).train().iterator())));
        Path arch = tar(dir.resolve("tok/t/corpus.tar.gz"), "x/a.txt", a, "x/notes.md", "skip me".getBytes(StandardCharsets.UTF_8),
                "x/b.txt.zst", compressed(".zst", b));
        assertEquals(expected, String.join("", all(dev.llmkit.data.corpus.CorpusTexts.open(List.of(arch), null).train().iterator())));
    }

    private static List<String> all(java.util.Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void aRunThatKeepsNothingIsAnErrorNamingWhatDroppedTheMost() throws IOException {
        Path wrongField = write(dir.resolve("in/w.jsonl"), lines("{\"body\":\"a\"}", "{\"body\":\"b\"}", doc("   ")));
        DataException e = assertThrows(DataException.class, () -> prepare(cfg(), dir.resolve("out"), wrongField));
        assertTrue(e.getMessage().contains("no document was kept") && e.getMessage().contains("2, were skipped as missing_text")
                && e.getMessage().contains("w.jsonl:1"), e.getMessage());
        assertTrue(e.hint().contains("--text-field"), e.hint());
        assertFalse(Files.exists(dir.resolve("out")));
        Path blank = write(dir.resolve("in/blank.txt"), "\n  \n\n".getBytes(StandardCharsets.UTF_8));
        DataException e2 = assertThrows(DataException.class, () -> prepare(cfg(), dir.resolve("out"), blank));
        assertTrue(e2.getMessage().contains("no documents (3 blank lines)"), e2.getMessage());
    }

    @Test
    void strictStopsAtTheFirstBadRecordAndLeavesNothing() throws IOException {
        Path out = dir.resolve("out");
        Path[] in = mixedInputs();
        DataException e = assertThrows(DataException.class, () -> prepare(cfg("data.prepare.strict=true"), out, in));
        assertTrue(e.getMessage().contains("a.jsonl:4: invalid_json"), e.getMessage());
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve(".out.partial")));
    }

    @Test
    void normalizationCanBeChangedOrTurnedOff() throws IOException {
        Path in = write(dir.resolve("n.jsonl"), lines(doc("cafe\u0301"), doc("caf\u00e9"), doc("\ufb01ne")));
        prepare(cfg("data.prepare.normalization=none", "data.prepare.val_fraction=0"), dir.resolve("none"), in);
        assertEquals(List.of("cafe\u0301", "caf\u00e9", "\ufb01ne"), Fixtures.texts(dir.resolve("none")));
        prepare(cfg("data.prepare.normalization=NFKC", "data.prepare.val_fraction=0"), dir.resolve("nfkc"), in);
        assertEquals(List.of("caf\u00e9", "fine"), Fixtures.texts(dir.resolve("nfkc")));
        prepare(cfg("data.prepare.normalization=NFD", "data.prepare.val_fraction=0"), dir.resolve("nfd"), in);
        assertEquals(List.of("cafe\u0301", "\ufb01ne"), Fixtures.texts(dir.resolve("nfd")));
    }

    @Test
    void truncatedCompressedFileIsAnErrorOrSkippedWhole() throws IOException {
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < 8000; i++) many.add(doc("doc number " + i + " " + "x".repeat(i % 1200)));
        Path first = write(dir.resolve("in/1.jsonl"), lines(doc("kept")));
        Path broken = write(dir.resolve("in/2.jsonl.zst"), lines(many.toArray()));
        Fixtures.truncate(broken, 100);
        // a document of the broken file seen again later must survive the rollback
        Path later = write(dir.resolve("in/3.jsonl.gz"), lines(doc("doc number 3 xxx"), doc("kept")));
        DataException e = assertThrows(DataException.class, () -> prepare(cfg(), dir.resolve("a"), first, broken, later));
        assertTrue(e.getMessage().contains("2.jsonl.zst") && e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.hint().contains("--skip-bad-files"));
        assertFalse(Files.exists(dir.resolve("a")));

        // tiny shards so the rollback crosses shard boundaries
        Corpus.Manifest m = prepare(cfg("data.prepare.skip_bad_files=true", "data.prepare.shard_bytes=2048",
                "data.prepare.val_fraction=0"), dir.resolve("b"), first, broken, later);
        CorpusReport.Source s = m.report().sources().get(1);
        assertEquals("skipped", s.status());
        assertTrue(s.error().contains("truncated"), s.error());
        assertEquals(0, s.documentsOut());
        assertTrue(s.droppedWithFile() > 1000, "dropped " + s.droppedWithFile());
        assertEquals(1, m.report().totals().filesSkipped());
        assertEquals(List.of("kept", "doc number 3 xxx"), Fixtures.texts(dir.resolve("b")));
        assertEquals(1, m.report().totals().duplicates());
        for (CorpusReport.Source src : m.report().sources()) assertEquals(64, src.sha256().length());
    }

    @Test
    void corruptGzipIsNamed() throws IOException {
        Path gz = write(dir.resolve("x.jsonl.gz"), lines(doc("a"), doc("b")));
        byte[] b = Files.readAllBytes(gz);
        b[b.length / 2] ^= 0x5a;
        Files.write(gz, b);
        DataException e = assertThrows(DataException.class, () -> prepare(cfg(), dir.resolve("o"), gz));
        assertTrue(e.getMessage().contains("x.jsonl.gz"), e.getMessage());
    }

    @Test
    void sameInputsGiveByteIdenticalOutputWhateverTheThreads() throws IOException {
        Path[] in = mixedInputs();
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < 40000; i++) many.add(doc("line " + i + " \u00e9\u4e2d " + "y".repeat(i % 300)));
        Path big = write(dir.resolve("in/big.jsonl.zst"), lines(many.toArray()));
        Path[] all = Stream.concat(Stream.of(in), Stream.of(big)).toArray(Path[]::new);
        prepare(cfg("data.prepare.threads=1", "data.prepare.shard_bytes=1000000"), dir.resolve("t1"), all);
        prepare(cfg("data.prepare.threads=3", "data.prepare.shard_bytes=1000000"), dir.resolve("t3"), all);
        List<Path> f1 = listFiles(dir.resolve("t1"));
        assertTrue(f1.size() > 4, f1.toString());
        assertEquals(f1.stream().map(p -> p.getFileName().toString()).toList(),
                listFiles(dir.resolve("t3")).stream().map(p -> p.getFileName().toString()).toList());
        for (Path p : f1) {
            byte[] a = Files.readAllBytes(p);
            byte[] b = Files.readAllBytes(dir.resolve("t3").resolve(p.getFileName()));
            if (p.getFileName().toString().equals("provenance.json")) {
                // identical apart from the threads setting
                assertEquals(new String(a, StandardCharsets.UTF_8).replace("\"threads\" : 1", "\"threads\" : 3").replaceAll("\"config_sha256\" : \"\\w+\"", ""),
                        new String(b, StandardCharsets.UTF_8).replaceAll("\"config_sha256\" : \"\\w+\"", ""));
            } else {
                assertArrayEquals(a, b, p.toString());
            }
        }
        CorpusReport r = Json.MAPPER.readValue(dir.resolve("t1/report.json").toFile(), CorpusReport.class);
        for (ShardWriter.Shard s : r.shards()) assertTrue(s.bytes() <= 1000000, s.toString());
        long val = r.totals().val().documents();
        assertTrue(val > 100 && val < 400, "val " + val + " of ~40000 at 0.005");
    }

    @Test
    void oversizedLinesAreSkippedAndLineNumbersStayRight() throws IOException {
        String huge = doc("z".repeat(300_000));
        Path in = write(dir.resolve("o.jsonl.zst"), lines(doc("one"), huge, doc("three"), huge, "{bad", doc("six")));
        Corpus.Manifest m = prepare(cfg("data.prepare.max_doc_bytes=100000", "data.prepare.val_fraction=0"), dir.resolve("o"), in);
        assertEquals(2, m.report().totals().skipped().get("too_large"));
        assertEquals(List.of("one", "three", "six"), Fixtures.texts(dir.resolve("o")));
        assertTrue(m.report().badRecords().stream().anyMatch(b -> b.reason().equals("invalid_json") && b.line() == 5),
                m.report().badRecords().toString());
        assertTrue(m.report().badRecords().stream().anyMatch(b -> b.reason().equals("too_large") && b.line() == 4),
                m.report().badRecords().toString());
    }

    @Test
    void existingOutputNeedsOverwriteAndMissingInputIsAUsageError() throws IOException {
        Path in = write(dir.resolve("i.jsonl"), lines(doc("a")));
        prepare(cfg(), dir.resolve("o"), in);
        assertThrows(ConfigException.class, () -> prepare(cfg(), dir.resolve("o"), in));
        Corpus.prepare(cfg(), InputFiles.resolve(List.of(in.toString())), dir.resolve("o"), true, Progress.NONE);
        assertThrows(ConfigException.class, () -> InputFiles.resolve(List.of(dir.resolve("nope.jsonl").toString())));
        Path odd = write(dir.resolve("x.csv"), "a,b\n".getBytes(StandardCharsets.UTF_8));
        assertThrows(ConfigException.class, () -> InputFiles.resolve(List.of(odd.toString())));
    }

    @Test
    void globsAndDirectoriesExpandInSortedOrder() throws IOException {
        write(dir.resolve("g/b.jsonl"), lines(doc("b")));
        write(dir.resolve("g/a.jsonl.zst"), lines(doc("a")));
        write(dir.resolve("g/sub/c.txt"), "c".getBytes(StandardCharsets.UTF_8));
        write(dir.resolve("g/ignored.csv"), "x".getBytes(StandardCharsets.UTF_8));
        List<String> names = InputFiles.resolve(List.of(dir.resolve("g").toString())).stream()
                .map(i -> dir.resolve("g").relativize(i.path()).toString()).toList();
        assertEquals(List.of("a.jsonl.zst", "b.jsonl", "sub/c.txt"), names);
        List<InputFiles.Input> glob = InputFiles.resolve(List.of(dir.resolve("g").toString() + "/*.jsonl*"));
        assertEquals(2, glob.size());
    }

    private static List<Path> listFiles(Path d) throws IOException {
        try (var s = Files.list(d)) {
            return s.sorted().toList();
        }
    }
}
