package dev.llmkit.cli;

import dev.llmkit.core.Provenance;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.TokenizerConfig;
import dev.llmkit.data.corpus.CorpusTexts;
import dev.llmkit.tokenizertrainer.TokenizerStage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code llmkit tokenizer train}: a corpus in, 01-tokenizer (tokenizer.json, report.json) out. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a byte-level BPE tokenizer (Hugging Face tokenizer.json) on a prepared corpus directory or .txt files. Writes tokenizer.json, report.json (vocabulary, tokens per byte on the validation split, longest tokens, time) and provenance.json; the directory appears complete or not at all.",
        footer = {"", "Example:", "  llmkit tokenizer train --corpus runs/demo/00-corpus --vocab-size 4096 --out runs/demo/01-tokenizer", "", ExitCodes.HELP})
public final class TokenizerTrainCommand implements Callable<Integer> {
    @Option(names = {"-c", "--corpus"}, required = true, arity = "1..*", paramLabel = "PATH",
            description = "A corpus directory from `llmkit data prepare`, or .txt files / directories of them.")
    List<Path> corpus;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--vocab-size", paramLabel = "V", description = "Total tokens: 256 bytes + merges + special tokens (tokenizer.vocab_size).")
    Integer vocabSize;

    @Option(names = "--pattern", paramLabel = "P", description = "Pre-tokenization pattern: gpt2 or cl100k (tokenizer.pattern).")
    String pattern;

    @Option(names = "--min-frequency", paramLabel = "N", description = "Stop when the best pair occurs fewer times (tokenizer.min_frequency).")
    Long minFrequency;

    @Option(names = "--max-token-length", paramLabel = "BYTES", description = "Longest token in bytes, 0 = no limit (tokenizer.max_token_length).")
    Integer maxTokenLength;

    @Option(names = "--max-bytes", paramLabel = "BYTES", description = "Train on the first BYTES of text only, 0 = all (tokenizer.max_bytes).")
    Long maxBytes;

    @Option(names = "--threads", paramLabel = "N", description = "Word-counting threads, 0 = all cores (tokenizer.threads).")
    Integer threads;

    @Option(names = "--val", arity = "1..*", paramLabel = "FILE",
            description = "Validation .txt files for report.json when --corpus is plain text (a corpus directory brings its own).")
    List<Path> val = new ArrayList<>();

    @Option(names = "--force", description = "Replace the output directory if it exists.")
    boolean force;

    @Mixin
    ConfigOptions config;

    @Override
    public Integer call() {
        List<String> f = new ArrayList<>();
        if (vocabSize != null) f.add("tokenizer.vocab_size=" + vocabSize);
        if (pattern != null) f.add("tokenizer.pattern=" + pattern);
        if (minFrequency != null) f.add("tokenizer.min_frequency=" + minFrequency);
        if (maxTokenLength != null) f.add("tokenizer.max_token_length=" + maxTokenLength);
        if (maxBytes != null) f.add("tokenizer.max_bytes=" + maxBytes);
        if (threads != null) f.add("tokenizer.threads=" + threads);
        ConfigLoader.Resolved resolved = config.resolve(f);
        TokenizerStage.Output o = train(CorpusTexts.open(corpus, val), resolved.config().tokenizer(), out, force);
        print(o, out);
        return ExitCodes.OK;
    }

    static TokenizerStage.Output train(CorpusTexts texts, TokenizerConfig cfg, Path out, boolean force) {
        List<Provenance.InputRef> inputs = new ArrayList<>();
        for (Path p : texts.train().files()) inputs.add(new Provenance.InputRef(p.toString(), p.toFile().length(), null));
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            return TokenizerStage.run(texts.train().iterator(), texts.train().textBytes(),
                    texts.val().isEmpty() ? null : texts.val().iterator(), texts.val().textBytes(), cfg, inputs, out, force, progress);
        }
    }

    static void print(TokenizerStage.Output o, Path out) {
        TokenizerStage.Report r = o.report();
        TokenizerStage.Training t = r.training();
        System.out.printf(Locale.ROOT, "trained %s: vocab %d (%d merges, %d special tokens, pattern %s); stopped: %s%n",
                out.resolve("tokenizer.json"), r.vocabSize(), r.merges(), r.specialTokens().size(), r.pattern(), t.stopReason());
        System.out.printf(Locale.ROOT, "  %d documents, %.1f MB%s, %d distinct pre-tokens; %.2f s (count %.2f s, merge %.2f s), peak RSS %d MiB%n",
                t.documents(), t.bytes() / 1e6, t.sampled() ? " (sampled: max_bytes)" : "", t.distinctWords(),
                t.secondsTotal(), t.secondsCount(), t.secondsMerge(), t.peakRssMib());
        if (r.validation() != null) {
            System.out.printf(Locale.ROOT, "  validation: %.4f tokens/byte (%.2f bytes/token) on %.1f MB%n",
                    r.validation().tokensPerByte(), r.validation().bytesPerToken(), r.validation().bytes() / 1e6);
        }
        if (!t.stopReason().equals("vocab_size reached")) {
            System.out.println("  note: the vocabulary is smaller than vocab_size asked for; the corpus is small for it (or lower min_frequency)");
        }
    }
}
