package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code llmkit tokenizer decode}: token ids in, text out. */
@Command(name = "decode", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Decode token ids (arguments, or whitespace-separated on standard input) to text. With --json, read a JSON array of id arrays and print a JSON array of strings.",
        footer = {"", "Example:", "  llmkit tokenizer decode --tokenizer runs/demo/01-tokenizer/tokenizer.json 15496 995", "", ExitCodes.HELP})
public final class DecodeCommand implements Callable<Integer> {
    @Option(names = {"-t", "--tokenizer"}, required = true, paramLabel = "FILE", description = "tokenizer.json.")
    Path tokenizer;

    @Option(names = "--json", paramLabel = "FILE|-", description = "Read a JSON array of id arrays from FILE or standard input (-).")
    String json;

    @Parameters(paramLabel = "ID", arity = "0..*", description = "Token ids (default: standard input).")
    List<String> ids = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        Tokenizer tok = Tokenizer.load(tokenizer);
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        if (json != null) {
            if (!ids.isEmpty()) throw new ConfigException("--json and ID arguments cannot be combined", "pass one or the other");
            JsonNode root = EncodeCommand.readJsonArray(json, "a JSON array of id arrays");
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < root.size(); i++) {
                JsonNode a = root.get(i);
                if (!a.isArray()) throw new DataException(json + ": element " + i + " is not an array of ids", null);
                int[] seq = new int[a.size()];
                for (int j = 0; j < seq.length; j++) {
                    if (!a.get(j).canConvertToInt()) throw new DataException(json + ": element " + i + "[" + j + "] is not an id", null);
                    seq[j] = a.get(j).asInt();
                }
                texts.add(tok.decode(seq));
            }
            out.println(Json.COMPACT.writeValueAsString(texts));
        } else {
            List<String> words = ids.isEmpty()
                    ? List.of(new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim().split("[\\s,]+"))
                    : ids;
            int[] seq = words.stream().filter(w -> !w.isEmpty()).mapToInt(w -> parseId(w)).toArray();
            out.print(tok.decode(seq));
            out.println();
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static int parseId(String w) {
        try {
            return Integer.parseInt(w);
        } catch (NumberFormatException e) {
            throw new DataException("'" + w + "' is not a token id", "ids are non-negative integers");
        }
    }
}
