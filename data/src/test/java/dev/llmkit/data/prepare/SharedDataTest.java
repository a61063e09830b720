package dev.llmkit.data.prepare;

import static dev.llmkit.data.prepare.Fixtures.doc;
import static dev.llmkit.data.prepare.Fixtures.lines;
import static dev.llmkit.data.prepare.Fixtures.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmkit.core.DataException;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.PrepareConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** data prepare on the real corpora of ../shared/data plus a deliberately broken shard; skipped without them. */
class SharedDataTest {
    @TempDir
    Path dir;

    static List<String> sharedPretrain() throws IOException {
        Path shared = Path.of(System.getProperty("llmkit.shared.dir", "../../shared")).resolve("data");
        assumeTrue(Files.isDirectory(shared), "no ../shared/data here");
        List<String> out = new ArrayList<>();
        try (var s = Files.list(shared)) {
            s.filter(p -> p.getFileName().toString().startsWith("pretrain_")).sorted().forEach(p -> out.add(p.toString()));
        }
        assumeTrue(!out.isEmpty());
        return out;
    }

    @Test
    void realCorporaPlusABrokenShard() throws IOException {
        List<String> inputs = sharedPretrain();
        List<InputFiles.Input> real = InputFiles.resolve(inputs);
        long realDocs = 0;
        for (InputFiles.Input in : real) {
            if (in.format() == InputFormat.TXT) realDocs++;
            else realDocs += Files.readAllLines(in.path(), StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).count();
        }
        // the broken shard: 2 duplicates of real documents, bad JSON, bad UTF-8, and a truncated .zst
        String firstReal = Files.readAllLines(real.stream().filter(i -> i.format() == InputFormat.JSONL).findFirst().orElseThrow().path()).get(0);
        byte[] badUtf8 = doc("bad \u00e9 utf8").getBytes(StandardCharsets.UTF_8);
        badUtf8[12] = (byte) 0xfe;
        Path broken = write(dir.resolve("broken/broken.jsonl"), lines(firstReal, firstReal, "{\"text\": \"unterminated", badUtf8, doc("new doc")));
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < 9000; i++) many.add(doc("truncated shard document " + i + " " + "w".repeat(i % 900)));
        Path truncated = write(dir.resolve("broken/truncated.jsonl.zst"), lines(many.toArray()));
        Fixtures.truncate(truncated, 50);
        List<String> all = new ArrayList<>(inputs);
        all.add(dir.resolve("broken").toString());

        PrepareConfig cfg = CorpusTest.cfg("data.prepare.skip_bad_files=true", "data.prepare.txt_split=file");     // a .txt file is one document, as counted above
        Corpus.Manifest m = Corpus.prepare(cfg, InputFiles.resolve(all), dir.resolve("out"), false, Progress.NONE);
        CorpusReport.Totals t = m.report().totals();
        assertEquals(real.size() + 2, t.files());
        assertEquals(1, t.filesSkipped());
        assertEquals(1, t.skipped().get("invalid_json"));
        assertEquals(1, t.skipped().get("invalid_utf8"));
        assertTrue(t.duplicates() >= 2, "duplicates " + t.duplicates());
        CorpusReport.Source b = m.report().sources().get(real.size());
        assertEquals(5, b.documentsIn());
        assertEquals(2, b.duplicates());
        assertEquals(1, b.documentsOut());
        CorpusReport.Source tr = m.report().sources().get(real.size() + 1);
        assertEquals("skipped", tr.status());
        assertEquals(0, tr.documentsOut());
        long realOut = m.report().sources().subList(0, real.size()).stream().mapToLong(s -> s.documentsIn()).sum();
        assertEquals(realDocs, realOut);
        assertEquals(t.documentsOut(), Fixtures.texts(dir.resolve("out")).size());

        DataException e = assertThrows(DataException.class, () -> Corpus.prepare(CorpusTest.cfg("data.prepare.strict=true"),
                InputFiles.resolve(all), dir.resolve("strict"), false, Progress.NONE));
        assertTrue(e.getMessage().contains("broken.jsonl:3: invalid_json"), e.getMessage());
        assertTrue(!e.getMessage().contains("REDACTED"), e.getMessage());
    }
}
