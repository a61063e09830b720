package dev.llmkit.finetune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.ZstdOutputStream;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.tokenizer.ChatMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SftReader on fixtures written here: every format, container and compression, every skip reason. */
class SftReaderTest {
    @TempDir
    Path dir;

    static final SftReader.Options AUTO = SftReader.Options.DEFAULTS;

    static SftReader.Options opts(String format, Map<String, String> fields, boolean strict, int examples) {
        return new SftReader.Options(format, fields, strict, examples);
    }

    // ---- fixtures

    Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        return Files.write(p, bytes);
    }

    Path write(String name, String text) throws IOException {
        return write(name, text.getBytes(StandardCharsets.UTF_8));
    }

    static String lines(String... lines) {
        return String.join("\n", lines) + "\n";
    }

    static byte[] gzip(String s) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(b)) {
            o.write(s.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    static byte[] zstd(String s) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream o = new ZstdOutputStream(b)) {
            o.write(s.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    static SftReader.Result read(SftReader.Options o, Path... inputs) {
        return SftReader.read(Arrays.stream(inputs).map(Path::toString).toList(), o);
    }

    static List<ChatMessage> turns(String... roleText) {
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < roleText.length; i += 2) out.add(new ChatMessage(roleText[i], roleText[i + 1]));
        return out;
    }

    static final String PC = "{\"prompt\":\"p%d\",\"completion\":\"c%d\"}";

    static String pcLines(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append(PC.formatted(i, i)).append('\n');
        return sb.toString();
    }

    // ---- formats

    @Test
    void singleTurnFormatsWithOptionalSystem() throws IOException {
        Path f = write("single.jsonl", lines(
                "{\"prompt\":\"hi\",\"completion\":\"hello\",\"system\":\"be brief\"}",
                "",
                "{\"question\":\"1+1?\",\"answer\":\"2\"}",
                "  ",
                "{\"instruction\":\"Translate\",\"input\":\"chat\",\"output\":\"cat\"}",
                "{\"instruction\":\"Say hi\",\"input\":\"\",\"output\":\"hi\",\"system\":\"\"}"));
        SftReader.Result r = read(AUTO, f);
        assertEquals(4, r.records());
        assertEquals(Map.of(), r.skipped());
        assertEquals(List.of(f), r.files());
        List<Conversation> c = r.conversations();
        assertEquals(turns("system", "be brief", "user", "hi", "assistant", "hello"), c.get(0).messages());
        assertEquals(f + ":1", c.get(0).source());
        assertEquals(turns("user", "1+1?", "assistant", "2"), c.get(1).messages());
        assertEquals(f + ":3", c.get(1).source());
        assertEquals(turns("user", "Translate\n\nchat", "assistant", "cat"), c.get(2).messages());
        assertEquals(turns("user", "Say hi", "assistant", "hi"), c.get(3).messages());
        assertEquals(f + ":6", c.get(3).source());
    }

    @Test
    void messagesAndShareGptMultiTurn() throws IOException {
        Path f = write("chat.jsonl", lines(
                "{\"messages\":[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\"a\"},"
                        + "{\"role\":\"assistant\",\"content\":\"b\"},{\"role\":\"user\",\"content\":\"c\"},{\"role\":\"assistant\",\"content\":\"d\"}]}",
                "{\"conversations\":[{\"from\":\"system\",\"value\":\"S\"},{\"from\":\"human\",\"value\":\"a\"},{\"from\":\"gpt\",\"value\":\"b\"},"
                        + "{\"from\":\"user\",\"value\":\"c\"},{\"from\":\"chatgpt\",\"value\":\"d\"},{\"from\":\"human\",\"value\":\"e\"},"
                        + "{\"from\":\"bard\",\"value\":\"f\"},{\"from\":\"human\",\"value\":\"g\"},{\"from\":\"bing\",\"value\":\"h\"}]}"));
        List<Conversation> c = read(AUTO, f).conversations();
        assertEquals(turns("system", "S", "user", "a", "assistant", "b", "user", "c", "assistant", "d"), c.get(0).messages());
        assertEquals(turns("system", "S", "user", "a", "assistant", "b", "user", "c", "assistant", "d", "user", "e",
                "assistant", "f", "user", "g", "assistant", "h"), c.get(1).messages());
    }

    @Test
    void namedFormatRequiresItsFields() throws IOException {
        Path f = write("qa.jsonl", lines("{\"question\":\"q\",\"answer\":\"a\"}", "{\"prompt\":\"p\",\"completion\":\"c\"}"));
        SftReader.Result r = read(opts("question_answer", null, false, 5), f);
        assertEquals(1, r.conversations().size());
        assertEquals(Map.of("missing_field", 1L), r.skipped());
        assertEquals(List.of(f + ":2: no 'question' field"), r.examples().get("missing_field"));
        Map<String, String> good = Map.of("prompt_completion", PC.formatted(1, 1),
                "alpaca", "{\"instruction\":\"i\",\"output\":\"o\"}",
                "messages", "{\"messages\":[{\"role\":\"user\",\"content\":\"u\"},{\"role\":\"assistant\",\"content\":\"a\"}]}",
                "sharegpt", "{\"conversations\":[{\"from\":\"human\",\"value\":\"u\"},{\"from\":\"gpt\",\"value\":\"a\"}]}");
        for (Map.Entry<String, String> e : good.entrySet()) {
            Path g = write(e.getKey() + ".jsonl", lines("{\"question\":\"q\",\"answer\":\"a\"}", e.getValue()));
            SftReader.Result rg = read(opts(e.getKey(), null, false, 5), g);
            assertEquals(1, rg.conversations().size(), e.getKey());
            assertEquals(Map.of("missing_field", 1L), rg.skipped(), e.getKey());
            assertEquals(g + ":2", rg.conversations().get(0).source());
        }
    }

    @Test
    void detectionPrefersACompleteFormatAndReportsPartialOnes() throws IOException {
        Path f = write("mixed.jsonl", lines(
                "{\"prompt\":\"p\",\"question\":\"q\",\"answer\":\"a\"}",   // only question/answer is complete
                "{\"prompt\":\"p\",\"response\":\"r\"}",                     // prompt/completion, partially
                "{\"text\":\"t\"}"));
        SftReader.Result r = read(AUTO, f);
        assertEquals(turns("user", "q", "assistant", "a"), r.conversations().get(0).messages());
        assertEquals(List.of(f + ":2: no 'completion' field"), r.examples().get("missing_field"));
        assertEquals(List.of(f + ":3: fields ['text'] match no format (prompt/completion, question/answer, instruction/output,"
                + " messages, conversations)"), r.examples().get("unknown_format"));
    }

    @Test
    void fieldMappingTakesPrecedence() throws IOException {
        Path f = write("map.jsonl", lines(
                "{\"q\":\"Q1\",\"a\":\"A1\",\"prompt\":\"ignored\",\"completion\":\"ignored\",\"sys\":\"S\"}",
                "{\"q\":\"Q2\",\"a\":\"A2\",\"system\":\"not mapped, not used\"}",
                "{\"q\":\"Q3\"}",
                "{\"q\":\"Q4\",\"a\":4}"));
        SftReader.Result r = read(opts("messages", Map.of("q", "prompt", "a", "completion", "sys", "system"), false, 5), f);
        assertEquals(turns("system", "S", "user", "Q1", "assistant", "A1"), r.conversations().get(0).messages());
        assertEquals(turns("user", "Q2", "assistant", "A2"), r.conversations().get(1).messages());
        assertEquals(Map.of("missing_field", 1L, "not_a_string", 1L), r.skipped());
        assertEquals(List.of(f + ":4: 'a' is a number, not a string"), r.examples().get("not_a_string"));
        Path g = write("map2.jsonl", lines("{\"q\":\"Q\",\"a\":\"A\",\"system\":\"S\"}"));
        assertEquals(turns("system", "S", "user", "Q", "assistant", "A"),
                read(opts("auto", Map.of("q", "prompt", "a", "completion"), false, 5), g).conversations().get(0).messages());
    }

    @Test
    void optionsAreValidated() {
        assertThrows(ConfigException.class, () -> opts("chatml", null, false, 5));
        assertThrows(ConfigException.class, () -> opts("auto", Map.of("q", "prompt"), false, 5));
        assertThrows(ConfigException.class, () -> opts("auto", Map.of("q", "prompt", "a", "answer"), false, 5));
        assertThrows(ConfigException.class, () -> opts("auto", Map.of("q", "prompt", "a", "completion", "b", "completion"), false, 5));
        assertThrows(ConfigException.class, () -> opts("auto", null, false, -1));
        assertEquals("auto", opts(null, null, false, 0).format());
    }

    // ---- containers and compression

    @Test
    void jsonArrayElementsAreReadOneByOne() throws IOException {
        Path f = write("arr.json", "\ufeff \n[\n  {\"prompt\": \"a, [b]\", \"completion\": \"}\\\"]\"},\n  {\"prompt\": oops},\n"
                + "  42,\n  {\"question\": \"q\",\n   \"answer\": \"x\"}\n]\n");
        SftReader.Result r = read(AUTO, f);
        assertEquals(4, r.records());
        assertEquals(2, r.conversations().size());
        assertEquals(turns("user", "a, [b]", "assistant", "}\"]"), r.conversations().get(0).messages());
        assertEquals(f + ":[0]", r.conversations().get(0).source());
        assertEquals(f + ":[3]", r.conversations().get(1).source());
        assertTrue(r.examples().get("invalid_json").get(0).startsWith(f + ":[1]: "), r.examples().toString());
        assertEquals(List.of(f + ":[2]: the record is a number, not a JSON object"), r.examples().get("not_an_object"));
        assertEquals(0, read(AUTO, write("empty.json", "[ ]"), write("one.jsonl", pcLines(1))).skippedTotal());
    }

    @Test
    void jsonFileOfJsonLinesAndBrokenArrays() throws IOException {
        assertEquals(3, read(AUTO, write("lines.json", pcLines(3))).conversations().size());
        Path open = write("open.json", "[" + PC.formatted(1, 1) + ", {\"prompt\":\"p\"");
        DataException e = assertThrows(DataException.class, () -> read(AUTO, open));
        assertTrue(e.getMessage().contains(open + ": the JSON array ends without its closing ']'"), e.getMessage());
        Path after = write("after.json", "[" + PC.formatted(1, 1) + "] {}");
        assertTrue(assertThrows(DataException.class, () -> read(AUTO, after)).getMessage().startsWith(after + ": content after"));
    }

    @Test
    void csvWithQuotingAndMultiLineFields() throws IOException {
        Path f = write("qa.csv", "\ufeffquestion,answer,system\r\n"
                + "\"What, exactly?\",\"He said \"\"hi\"\"\",\r\n"
                + "\r\n"
                + "\"line one\nline two\",\"multi\r\nline\",be kind\r\n"
                + "only,two\n"
                + "q4,a4,\n");
        SftReader.Result r = read(AUTO, f);
        assertEquals(4, r.records());
        assertEquals(turns("user", "What, exactly?", "assistant", "He said \"hi\""), r.conversations().get(0).messages());
        assertEquals(f + ":2", r.conversations().get(0).source());
        assertEquals(turns("system", "be kind", "user", "line one\nline two", "assistant", "multi\r\nline"),
                r.conversations().get(1).messages());
        assertEquals(f + ":4", r.conversations().get(1).source());
        assertEquals(f + ":8", r.conversations().get(2).source());
        assertEquals(List.of(f + ":7: the row has 2 field(s), the header 3"), r.examples().get("invalid_csv"));
        Path open = write("open.csv", "prompt,completion\np,\"never closed\n");
        assertTrue(assertThrows(DataException.class, () -> read(AUTO, open)).getMessage().startsWith(open + ":2: a quoted CSV field"));
        Path mapped = write("m.csv", "instr,resp\ndo it,done\n");
        assertEquals(turns("user", "do it", "assistant", "done"),
                read(opts("auto", Map.of("instr", "prompt", "resp", "completion"), false, 5), mapped).conversations().get(0).messages());
    }

    @Test
    void compressedFilesReadLikePlainOnes() throws IOException {
        String jsonl = pcLines(500);
        String array = "[" + String.join(",", pcLines(7).strip().split("\n")) + "]";
        String csv = "prompt,completion\n" + "p,c\n".repeat(9);
        SftReader.Result r = read(AUTO, write("a.jsonl.gz", gzip(jsonl)), write("b.jsonl.zst", zstd(jsonl)),
                write("c.json.gz", gzip(array)), write("d.json.zst", zstd(array)), write("e.csv.gz", gzip(csv)),
                write("f.csv.zst", zstd(csv)));
        assertEquals(500 + 500 + 7 + 7 + 9 + 9, r.conversations().size());
        assertEquals(r.conversations().get(0).messages(), r.conversations().get(500).messages());
        assertEquals(dir.resolve("b.jsonl.zst") + ":500", r.conversations().get(999).source());
        assertEquals(dir.resolve("d.json.zst") + ":[6]", r.conversations().get(1013).source());
        assertEquals(dir.resolve("f.csv.zst") + ":10", r.conversations().get(r.conversations().size() - 1).source());
    }

    @Test
    void truncatedCompressedFilesThrow() throws IOException {
        String big = pcLines(20000);
        for (String name : List.of("t.jsonl.gz", "t.jsonl.zst")) {
            byte[] full = name.endsWith(".gz") ? gzip(big) : zstd(big);
            Path f = write(name, Arrays.copyOf(full, full.length / 2));
            DataException e = assertThrows(DataException.class, () -> read(AUTO, f));
            assertTrue(e.getMessage().startsWith(f + ": truncated"), e.getMessage());
        }
        Path garbage = write("g.csv.gz", "not gzip at all");
        assertTrue(assertThrows(DataException.class, () -> read(AUTO, garbage)).getMessage().startsWith(garbage.toString()));
    }

    // ---- bad records

    @Test
    void everySkipReasonIsCountedWithFileAndLine() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(lines(
                PC.formatted(1, 1),                                                              // 1 ok
                "{\"prompt\": \"p\", ",                                                          // 2 invalid_json
                "[1, 2]",                                                                        // 3 not_an_object
                "{\"text\": \"t\"}",                                                             // 4 unknown_format
                "{\"instruction\": \"i\"}",                                                      // 5 missing_field
                "{\"prompt\": \"p\", \"completion\": null}",                                     // 6 not_a_string
                "{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}",                  // 7 unknown_role
                "{\"question\": \"q\", \"answer\": \" \\n \"}",                                  // 8 empty_answer
                "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}",                  // 9 no_assistant_turn
                "{\"conversations\": [{\"from\": \"gpt\", \"value\": \"a\"}, {\"from\": \"human\", \"value\": \"b\"}]}", // 10
                "{\"messages\": \"hello\"}",                                                     // 11 not_a_list
                "{\"prompt\": \"p\", \"completion\": {\"x\": 1}}",                               // 12 not_a_string
                "{\"prompt\": \"\\ud800\", \"completion\": \"c\"}",                              // 13 invalid_utf8 (surrogate)
                "{\"prompt\": \"p\", \"completion\": \"c\"} trailing")                           // 14 invalid_json
                .getBytes(StandardCharsets.UTF_8));
        b.writeBytes(new byte[] {'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xc3, '(', '"', '}', '\n'}); // 15
        b.writeBytes(lines(PC.formatted(16, 16)).getBytes(StandardCharsets.UTF_8));
        Path f = write("bad.jsonl", b.toByteArray());
        SftReader.Result r = read(opts("auto", null, false, 1), f);
        assertEquals(16, r.records());
        assertEquals(2, r.conversations().size());
        assertEquals("{empty_answer=1, invalid_json=2, invalid_utf8=2, last_turn_not_assistant=1, missing_field=1, no_assistant_turn=1,"
                + " not_a_list=1, not_a_string=2, not_an_object=1, unknown_format=1, unknown_role=1}", r.skipped().toString());
        assertTrue(SftReader.REASONS.containsAll(r.skipped().keySet()));
        Map<String, Integer> firstLine = Map.ofEntries(Map.entry("invalid_json", 2), Map.entry("not_an_object", 3),
                Map.entry("unknown_format", 4), Map.entry("missing_field", 5), Map.entry("not_a_string", 6),
                Map.entry("unknown_role", 7), Map.entry("empty_answer", 8), Map.entry("no_assistant_turn", 9),
                Map.entry("last_turn_not_assistant", 10), Map.entry("not_a_list", 11), Map.entry("invalid_utf8", 13));
        firstLine.forEach((reason, line) -> {
            List<String> ex = r.examples().get(reason);
            assertEquals(1, ex.size(), reason);
            assertTrue(ex.get(0).startsWith(f + ":" + line + ": "), reason + " " + ex);
        });
        assertEquals(f + ":6: 'completion' is null, not a string", r.examples().get("not_a_string").get(0));
        assertEquals(f + ":7: messages[0].role is 'tool' (system, user or assistant)", r.examples().get("unknown_role").get(0));
        assertEquals(List.of(f + ":13: turn 1 (user) has an unpaired surrogate \\ud800"), r.examples().get("invalid_utf8"));
        SftReader.Result all = read(opts("auto", null, false, 5), f);
        assertEquals(List.of(f + ":13: turn 1 (user) has an unpaired surrogate \\ud800",
                f + ":15: invalid UTF-8 byte 0xc3 at byte 12"), all.examples().get("invalid_utf8"));
        assertEquals(Map.of(), read(opts("auto", null, false, 0), f).examples());
    }

    @Test
    void strictModeThrowsOnTheFirstBadRecord() throws IOException {
        Path f = write("s.jsonl", lines(PC.formatted(1, 1), "{\"question\": \"q\", \"answer\": \"\"}", "nonsense"));
        DataException e = assertThrows(DataException.class, () -> read(opts("auto", null, true, 5), f));
        assertEquals(f + ":2: empty_answer: assistant turn 2 of 2 is empty", e.getMessage());
        assertEquals(1, read(AUTO, f).conversations().size());
    }

    @Test
    void noUsableConversationThrowsWithTheCounts() throws IOException {
        Path f = write("none.jsonl", lines("{\"text\": \"a\"}", "{\"text\": \"b\"}", "{\"prompt\": 1, \"completion\": \"c\"}"));
        Path empty = write("empty.jsonl", "");
        DataException e = assertThrows(DataException.class, () -> read(AUTO, f, empty));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(empty.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("3 record(s), skipped {not_a_string=1, unknown_format=2}"), e.getMessage());
        assertTrue(e.hint().contains(f + ":1: fields ['text']"), e.hint());
        assertThrows(DataException.class, () -> read(opts("auto", null, false, 0), f));
    }

    // ---- inputs

    @Test
    void directoriesAndGlobsExpandSortedAndRecursively() throws IOException {
        write("data/b.jsonl", pcLines(1));
        write("data/a.csv", "prompt,completion\np,c\n");
        write("data/sub/c.json.gz", gzip("[" + PC.formatted(1, 1) + "]"));
        write("data/sub/readme.txt", "not data");
        write("data/.hidden.jsonl", "garbage");
        Path data = dir.resolve("data");
        SftReader.Result r = read(AUTO, data, data.resolve("b.jsonl"));
        assertEquals(List.of(data.resolve("a.csv"), data.resolve("b.jsonl"), data.resolve("sub/c.json.gz")), r.files());
        assertEquals(3, r.conversations().size());
        List<String> glob = List.of(dir + "/data/**/*.jsonl", dir + "/data/*/*.json*");
        assertEquals(List.of(data.resolve("b.jsonl"), data.resolve("sub/c.json.gz")), SftReader.read(glob, AUTO).files());
    }

    @Test
    void badInputsNameThemselves() throws IOException {
        Path txt = write("notes.txt", "hello");
        write("nodata/readme.md", "x");
        for (String in : List.of(dir.resolve("missing.jsonl").toString(), dir.resolve("nodata").toString(),
                dir + "/nodata/*.jsonl", dir + "/nowhere/**/*.csv", txt.toString())) {
            ConfigException e = assertThrows(ConfigException.class, () -> SftReader.read(List.of(in), AUTO), in);
            assertTrue(e.getMessage().contains(in), e.getMessage());
        }
        assertThrows(ConfigException.class, () -> SftReader.read(List.of(), AUTO));
    }

    // ---- the real GSM8K training split

    @Test
    void readsSharedGsm8k() {
        Path train = sharedData().resolve("sft_gsm8k/train.jsonl");
        Assumptions.assumeTrue(Files.exists(train), "no " + train);
        SftReader.Result r = SftReader.read(List.of(train.toString()), opts("auto", null, true, 5));
        assertEquals(7473, r.conversations().size());
        assertEquals(7473, r.records());
        Pattern answer = Pattern.compile("(?s).*\n#### -?[0-9][0-9,]*(\\.[0-9]+)?\\s*");
        for (Conversation c : r.conversations()) {
            assertEquals(2, c.messages().size());
            assertEquals("user", c.messages().get(0).role());
            assertTrue(answer.matcher(c.messages().get(1).content()).matches(), c.source());
        }
        assertEquals(train + ":7473", r.conversations().get(7472).source());
    }

    /** ../shared/data next to the repository: the surefire property, else found walking up from here. */
    static Path sharedData() {
        String prop = System.getProperty("llmkit.shared.dir");
        if (prop != null && Files.isDirectory(Path.of(prop, "data"))) return Path.of(prop, "data");
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("shared/data"))) return p.resolve("shared/data");
        }
        return Path.of("../../shared/data");
    }
}
