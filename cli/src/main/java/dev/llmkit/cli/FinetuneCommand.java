package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.FinetuneConfig;
import dev.llmkit.finetune.Finetuner;
import dev.llmkit.trainer.TrainingLoop;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code llmkit finetune}: a checkpoint and conversations in, a fine-tuned checkpoint with a chat template out (04-finetune). */
@Command(name = "finetune", mixinStandardHelpOptions = true, sortOptions = false, subcommands = {FinetuneEvalCommand.class, FinetuneMergeCommand.class, FinetuneExportLoraCommand.class, FinetuneBenchCommand.class},
        description = "Supervised fine-tuning of a checkpoint on question/answer pairs or conversations. Records are rendered with the ChatML template "
                + "(<|im_start|>role\\n...<|im_end|>\\n) and the loss is on assistant answers only (their closing <|im_end|> included). "
                + "Formats (detected per record, or finetune.format): prompt/completion, question/answer, Alpaca instruction/input/output, "
                + "OpenAI messages, ShareGPT conversations, or any fields with --field. JSONL, JSON arrays, CSV; plain, .gz or .zst. "
                + "Bad records are skipped and counted in OUT/report.json (--strict: exit 3). Examples are packed into sequences "
                + "(attention and positions restart at each). Every finetune.eval_interval steps: validation loss on answer tokens, greedy "
                + "exact match on a fixed sample of validation questions, and a checkpoint (with tokenizer_config.json holding the chat "
                + "template). Same run directory layout, metrics.jsonl, loss.png and exact --resume as pretrain. With --lora, only low-rank "
                + "adapters train (finetune.lora.*); checkpoints hold them alone in Hugging Face PEFT format, and OUT/merged gets the base "
                + "with them folded in (finetune.lora.merge).",
        footer = {"", "Examples:", "  llmkit finetune --base runs/demo/03-pretrain/final --data runs/demo/raw/qa/train.jsonl --out runs/demo/04-finetune",
                "  llmkit finetune --base runs/x/final --data gsm8k/train.jsonl --field question=prompt --field answer=completion --out runs/x/04-finetune",
                "  llmkit finetune --base runs/demo/03-pretrain/final --data runs/demo/raw/qa/train.jsonl --out runs/demo/04-lora --lora",
                "  llmkit finetune eval --model runs/demo/04-finetune/final --data runs/demo/raw/qa/heldout.jsonl",
                "  llmkit finetune merge --adapter runs/demo/04-lora/final --out runs/demo/04-lora-merged", "", ExitCodes.HELP})
public final class FinetuneCommand implements Callable<Integer> {
    @Option(names = "--base", paramLabel = "DIR", description = "Checkpoint directory to start from (e.g. 03-pretrain/final); required.")
    Path base;

    @Option(names = "--data", paramLabel = "FILE|DIR|GLOB", arity = "1..*", description = "Training data: files, directories or globs (repeatable); required.")
    List<String> data = new ArrayList<>();

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Run directory (04-finetune); required.")
    Path out;

    @Option(names = "--field", paramLabel = "SOURCE=ROLE", description = "Map a record field to prompt, completion or system, e.g. --field question=prompt (repeatable).")
    List<String> fields = new ArrayList<>();

    @Option(names = "--max-steps", paramLabel = "N", description = "Optimizer steps (finetune.steps; default: finetune.epochs over the data).")
    Integer maxSteps;

    @Option(names = "--lora", description = "Train LoRA adapters (finetune.lora.*) with the base frozen instead of every weight.")
    boolean lora;

    @Option(names = "--strict", description = "Any bad record is an error (exit 3) instead of a counted skip (finetune.strict).")
    boolean strict;

    @Option(names = "--resume", description = "Continue from the newest complete checkpoint in OUT.")
    boolean resume;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads, 0 = all cores (finetune.threads).")
    Integer threads;

    @Mixin
    ConfigOptions config;

    @Override
    public Integer call() {
        if (base == null || data.isEmpty() || out == null) {
            throw new ConfigException("llmkit finetune needs --base DIR, --data FILE... and --out DIR", "see llmkit finetune --help");
        }
        List<String> flags = new ArrayList<>();
        if (maxSteps != null) flags.add("finetune.steps=" + maxSteps);
        if (threads != null) flags.add("finetune.threads=" + threads);
        if (strict) flags.add("finetune.strict=true");
        if (lora) flags.add("finetune.lora.enabled=true");
        ConfigLoader.Resolved resolved = config.resolve(flags);
        print(train(base, data, fieldMap(fields), resolved.config().finetune(), out, resume));
        return ExitCodes.OK;
    }

    static Map<String, String> fieldMap(List<String> fields) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String f : fields) {
            int eq = f.indexOf('=');
            if (eq <= 0 || eq == f.length() - 1) throw new ConfigException("--field '" + f + "' is not of the form SOURCE=ROLE", "example: --field question=prompt");
            m.put(f.substring(0, eq), f.substring(eq + 1));
        }
        return m;
    }

    /** Runs the fine-tuning with a progress bar, its log lines shown above the bar. */
    static Finetuner.Result train(Path base, List<String> data, Map<String, String> fields, FinetuneConfig cfg, Path out, boolean resume) {
        try (ConsoleProgress progress = ConsoleProgress.create()) {
            return Finetuner.run(base, data, fields, cfg, out, resume, progress, new TrainingLoop.Listener() {
                @Override
                public void log(String line) {
                    progress.log(line);
                }
            });
        }
    }

    static void print(Finetuner.Result fr) {
        TrainingLoop.Result r = fr.train();
        JsonNode e = fr.report().get("examples");
        System.out.printf(Locale.ROOT, "fine-tuned %d steps%s in %.1f s on %d examples (%d answer tokens): loss %s, val loss %s (answer tokens), %,.0f tokens/s, peak RSS %d MiB%s%n",
                r.steps(), r.resumed() ? " (resumed)" : "", r.seconds(), e.get("train").asInt(), e.get("train_answer_tokens").asLong(),
                f(r.trainLoss()), f(r.valLoss()), r.tokensPerSecond(), dev.llmkit.core.util.ProcessInfo.peakRssMib(),
                r.skippedSteps() > 0 ? ", " + r.skippedSteps() + " step(s) skipped" : "");
        System.out.println("final checkpoint: " + r.checkpoint() + (fr.merged() != null ? " (adapters); merged model: " + fr.merged() : ""));
    }

    private static String f(double x) {
        return Double.isNaN(x) ? "n/a" : String.format(Locale.ROOT, "%.4f", x);
    }
}
