package dev.llmkit.cli;

import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.data.tokenize.Pretokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code llmkit data tokenize}: a corpus and a tokenizer in, token shards (02-tokens) out. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Encode a prepared corpus into token shards: train-NNNNN.tok and val-NNNNN.tok (one per corpus shard, uint16 when the vocabulary fits, <|endoftext|> after every document), manifest.json with token counts and the tokenizer's sha256, and provenance.json. A killed run resumes at the first unfinished shard when started again with the same arguments.",
        footer = {"", "Example:", "  llmkit data tokenize --corpus runs/demo/00-corpus --tokenizer runs/demo/01-tokenizer/tokenizer.json --out runs/demo/02-tokens", "", ExitCodes.HELP})
public final class TokenizeCommand implements Callable<Integer> {
    @Option(names = {"-c", "--corpus"}, required = true, paramLabel = "DIR", description = "Corpus directory from `llmkit data prepare` (with --engine spark also a URI).")
    String corpus;

    @Option(names = {"-t", "--tokenizer"}, required = true, paramLabel = "FILE", description = "tokenizer.json (with <|endoftext|>).")
    String tokenizer;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Output directory (with --engine spark also a URI).")
    String out;

    @Mixin
    EngineOptions engine;

    @Option(names = "--threads", paramLabel = "N", description = "Encoding threads, 0 = all cores (data.tokenize.threads).")
    Integer threads;

    @Option(names = "--force", description = "Replace the output directory (complete or not) instead of resuming.")
    boolean force;

    @Mixin
    ConfigOptions config;

    @Override
    public Integer call() {
        List<String> f = new ArrayList<>();
        if (threads != null) f.add("data.tokenize.threads=" + threads);
        ConfigLoader.Resolved resolved = config.resolve(f);
        Pretokenizer.Result r;
        if (engine.spark()) {
            r = engine.find().tokenize(corpus, tokenizer, resolved.config().data().tokenize(), out, force, engine.run());
        } else {
            try (ConsoleProgress progress = ConsoleProgress.create()) {
                r = Pretokenizer.run(Path.of(corpus), Path.of(tokenizer), resolved.config().data().tokenize(), Path.of(out), force, progress);
            }
        }
        print(r, out);
        return ExitCodes.OK;
    }

    static void print(Pretokenizer.Result r, Object out) {
        dev.llmkit.core.io.TokenManifest m = r.manifest();
        long bytes = m.train().textBytes() + m.val().textBytes();
        System.out.printf(Locale.ROOT, "tokenized %s: train %d tokens in %d shard(s) (%d documents), val %d tokens in %d shard(s); %.4f tokens/byte, uint%d%n",
                out, m.train().tokens(), m.train().shards(), m.train().documents(), m.val().tokens(), m.val().shards(),
                bytes == 0 ? 0 : (double) (m.train().tokens() + m.val().tokens()) / bytes, m.tokenWidth() * 8);
        System.out.printf(Locale.ROOT, "%.1f MB/s of text, %.2f s%s; manifest: %s%n", bytes / 1e6 / r.seconds(), r.seconds(),
                r.shardsResumed() > 0 ? " (" + r.shardsResumed() + " shard(s) kept from an earlier run)" : "", out + "/manifest.json");
    }
}
