package dev.llmkit.cli;

import dev.llmkit.core.config.FinetuneConfig;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.finetune.ExactMatch;
import dev.llmkit.finetune.data.Conversation;
import dev.llmkit.finetune.data.SftReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code llmkit finetune eval}: greedy exact match of a model's answers on question/answer data. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Answer every question of the data greedily and report exact match (answer equal to the reference after trimming, "
                + "collapsing whitespace and dropping one trailing period; case kept) and 'contains' (the reference appears in the answer). "
                + "Through the model's chat template, or with --raw from the plain question text followed by a space, stopping at a "
                + "newline (how a base model that never saw the template is asked).",
        footer = {"", "Example:", "  llmkit finetune eval --model runs/demo/04-finetune/final --data runs/demo/raw/qa/heldout.jsonl", "", ExitCodes.HELP})
public final class FinetuneEvalCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|FILE", description = "Checkpoint directory or .gguf file.")
    java.nio.file.Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE|DIR|GLOB", arity = "1..*", description = "Question/answer data, any format finetune reads.")
    List<String> data = new ArrayList<>();

    @Option(names = "--field", paramLabel = "SOURCE=ROLE", description = "Field mapping, as for finetune (repeatable).")
    List<String> fields = new ArrayList<>();

    @Option(names = "--limit", paramLabel = "N", description = "Score the first N conversations only.")
    Integer limit;

    @Option(names = "--raw", description = "Prompt with the plain question text instead of the chat template.")
    boolean raw;

    @Option(names = "--match", paramLabel = "REGEX", description = "Also report the share of answers in which this Java regex is found, e.g. '#### -?[0-9][0-9,.]*\\s*$'.")
    String match;

    @Option(names = "--max-tokens", paramLabel = "N", description = "Tokens generated at most per answer (finetune.em_max_tokens).")
    Integer maxTokens;

    @Option(names = "--threads", paramLabel = "N", description = "Engine threads (default: all cores).")
    Integer threads;

    @Mixin
    ConfigOptions config;

    @Override
    public Integer call() {
        if (limit != null && limit < 1) throw new dev.llmkit.core.ConfigException("--limit must be >= 1, got " + limit, null);
        if (maxTokens != null && maxTokens < 1) throw new dev.llmkit.core.ConfigException("--max-tokens must be >= 1, got " + maxTokens, null);
        FinetuneConfig cfg = config.resolve(List.of()).config().finetune();
        Checkpoint.Loaded m = ModelCommand.loadForInference(model);
        SftReader.Result read = SftReader.read(data, new SftReader.Options(cfg.format(), FinetuneCommand.fieldMap(fields), cfg.strict(), cfg.maxBadExamples()));
        List<Conversation> convs = read.conversations();
        if (limit != null && limit < convs.size()) convs = convs.subList(0, Math.max(0, limit));
        int t = ModelCommand.engineThreads(threads);
        java.util.regex.Pattern pattern;
        try {
            pattern = match == null ? null : java.util.regex.Pattern.compile(match);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new dev.llmkit.core.ConfigException("--match is not a valid regular expression: " + e.getDescription(), "see java.util.regex.Pattern");
        }
        ExactMatch.Score s = ExactMatch.score(m.weights(), m.tokenizer(), convs, cfg.systemPrompt(), maxTokens != null ? maxTokens : cfg.emMaxTokens(), t, raw, pattern);
        for (String[] x : s.samples()) System.out.printf("Q: %s%n  reference: %s%n  answer:    %s%n", x[0], x[1], x[2]);
        System.out.printf(Locale.ROOT, "exact match %d/%d = %.1f%%, contains %d/%d = %.1f%% (%s, %.1f s%s)%n", s.exact(), s.n(), 100 * s.exactRate(),
                s.contains(), s.n(), 100 * s.containsRate(), raw ? "raw prompt" : "chat template", s.seconds(),
                read.skippedTotal() > 0 ? ", " + read.skippedTotal() + " bad records skipped" : "");
        if (pattern != null) System.out.printf(Locale.ROOT, "--match %s: %d/%d = %.1f%% of the answers%n", match, s.matched(), s.n(), 100 * s.matchRate());
        return ExitCodes.OK;
    }
}
