package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code llmkit tokenizer encode}: text in, token ids out. */
@Command(name = "encode", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Encode text with a tokenizer.json: the TEXT arguments (joined by spaces) or standard input, printed as one line of ids. With --json, read a JSON array of strings and print one JSON array of id arrays.",
        footer = {"", "Examples:", "  llmkit tokenizer encode --tokenizer runs/demo/01-tokenizer/tokenizer.json -v \"Hello world\"",
                "  echo '[\"a b\", \"c\"]' | llmkit tokenizer encode --tokenizer tok.json --json -", "", ExitCodes.HELP})
public final class EncodeCommand implements Callable<Integer> {
    @Option(names = {"-t", "--tokenizer"}, required = true, paramLabel = "FILE", description = "tokenizer.json (ours or a GPT-2-style Hugging Face file).")
    Path tokenizer;

    @Option(names = {"-v", "--verbose"}, description = "Print one token per line: id, then the token's text as a JSON string.")
    boolean verbose;

    @Option(names = "--special", description = "Recognise special tokens such as <|endoftext|> written in the text.")
    boolean special;

    @Option(names = "--json", paramLabel = "FILE|-", description = "Read a JSON array of strings from FILE or standard input (-).")
    String json;

    @Parameters(paramLabel = "TEXT", arity = "0..*", description = "Text to encode (default: standard input).")
    List<String> text = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        Tokenizer tok = Tokenizer.load(tokenizer);
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        if (json != null) {
            if (!text.isEmpty()) throw new ConfigException("--json and TEXT arguments cannot be combined", "pass one or the other");
            List<String> texts = readJsonStrings(json);
            int[][] ids = tok.encodeBatch(texts, special, 0);
            out.println(Json.COMPACT.writeValueAsString(ids));
            out.flush();
            return ExitCodes.OK;
        }
        String s = text.isEmpty() ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8) : String.join(" ", text);
        int[] ids = tok.encode(s, special);
        if (verbose) {
            for (int id : ids) {
                out.println(id + "\t" + Json.COMPACT.writeValueAsString(new String(tok.tokenBytes(id), StandardCharsets.UTF_8)));
            }
            out.println("# " + ids.length + " tokens, " + s.getBytes(StandardCharsets.UTF_8).length + " bytes");
        } else {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < ids.length; i++) sb.append(i == 0 ? "" : " ").append(ids[i]);
            out.println(sb);
        }
        out.flush();
        return ExitCodes.OK;
    }

    /** A JSON array from a file or standard input ("-"); {@code what} describes it in errors. */
    static JsonNode readJsonArray(String source, String what) {
        String name = source.equals("-") ? "standard input" : source;
        try {
            byte[] bytes = source.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(source));
            JsonNode root = Json.MAPPER.readTree(bytes);
            if (root == null || !root.isArray()) throw new DataException(name + ": expected " + what, null);
            return root;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new DataException(name + ": not valid JSON: " + e.getOriginalMessage(), "expected " + what, e);
        } catch (IOException e) {
            throw new StorageException(name + ": cannot read: " + e.getMessage(), null, e);
        }
    }

    static List<String> readJsonStrings(String source) {
        String name = source.equals("-") ? "standard input" : source;
        JsonNode root = readJsonArray(source, "a JSON array of strings");
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            if (!root.get(i).isTextual()) throw new DataException(name + ": element " + i + " is not a string", "expected a JSON array of strings");
            texts.add(root.get(i).asText());
        }
        return texts;
    }
}
