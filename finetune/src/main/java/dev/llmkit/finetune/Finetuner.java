package dev.llmkit.finetune;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.config.FinetuneConfig;
import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Tensor;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.util.Text;
import dev.llmkit.finetune.data.Conversation;
import dev.llmkit.finetune.data.SftReader;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.trainer.Adapters;
import dev.llmkit.trainer.Checkpoints;
import dev.llmkit.trainer.LoopConfig;
import dev.llmkit.trainer.ParamLayout;
import dev.llmkit.trainer.TrainingLoop;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code llmkit finetune}: supervised fine-tuning of a checkpoint on conversations. The data is
 * read ({@link SftReader}), rendered through the ChatML template with the loss on assistant answers
 * only ({@link SftExamples}), packed into rows ({@link Packing}) and fed to the same
 * {@link TrainingLoop} as pre-training. At each evaluation: validation loss on answer tokens and
 * greedy exact match on a fixed sample of validation questions ({@link ExactMatch}).
 *
 * <pre>
 * OUT/tokenizer/         tokenizer.json (the base's, plus &lt;|im_start|&gt; &lt;|im_end|&gt; when missing) and tokenizer_config.json (chat_template)
 * OUT/checkpoints/       step-NNNNNN/ as pre-training's, each with tokenizer_config.json
 * OUT/final, metrics.jsonl, loss.png, report.json (the data: records, skips, splits, packing)
 * </pre>
 */
public final class Finetuner {
    private Finetuner() {}

    /** What the run did; {@code merged} is OUT/merged when LoRA adapters were merged into the base, else null. */
    public record Result(TrainingLoop.Result train, ObjectNode report, Path merged) {}

    public static Result run(Path base, List<String> data, Map<String, String> fields, FinetuneConfig cfg, Path out, boolean resume,
                             Progress progress, TrainingLoop.Listener listener) {
        try (TrainingLoop.Lock lock = TrainingLoop.lock(out)) {     // before writing anything into OUT
            if (!resume && Checkpoints.exist(out)) {
                throw new ConfigException(out + " already holds checkpoints", "pass --resume to continue that run, or choose another --out");
            }
            // 1. The base model, and its tokenizer with the chat tokens (the vocabulary grows when they are missing)
            Checkpoint.Loaded loaded = Checkpoint.read(base);
            Path tokDir = out.resolve("tokenizer"), tokJson = tokDir.resolve("tokenizer.json");
            boolean fresh = !(resume && Files.isRegularFile(tokJson) && Files.isRegularFile(tokDir.resolve(ChatTemplate.TOKENIZER_CONFIG)));
            if (fresh) tokJson = ChatTemplate.ensureChatTokens(base.resolve("tokenizer.json"), tokDir);
            Tokenizer tok = Tokenizer.load(tokJson);
            Weights w = grow(loaded.weights(), tok.vocabSize());
            ModelConfig mc = w.config();
            check(cfg, base, loaded, mc);
            if (fresh) ChatTemplate.writeTokenizerConfig(tokDir, tok, mc.contextLength());
            // 2. The data: conversations -> rendered examples -> train/val split -> packed rows
            SftReader.Result read = SftReader.read(data, new SftReader.Options(cfg.format(), fields, cfg.strict(), cfg.maxBadExamples()));
            SftExamples.Split split = SftExamples.build(read.conversations(), tok, cfg.seqLen(), cfg.valFraction(), cfg.systemPrompt());
            SftBatches batches = new SftBatches(split, cfg.batchSize(), cfg.seqLen(), cfg.gradAccum(), cfg.packing(), cfg.seed(), cfg.evalBatches(), padId(tok));
            long steps = cfg.steps() > 0 ? cfg.steps() : batches.stepsFor(cfg.epochs());
            if (steps > Integer.MAX_VALUE) throw new ConfigException("finetune.epochs gives " + steps + " steps", "lower finetune.epochs");
            ObjectNode report = report(read, split, batches, steps, cfg, base, tok, loaded.weights().config().vocabSize());
            if (!resume) Json.write(out.resolve("report.json"), report);
            listener.log(summary(read, split, batches, steps));
            // 3. The loop: full weights, or adapters on the frozen base
            LoopConfig loop = loopConfig(cfg, (int) steps);
            Checkpoints ckpts = checkpoints(base, read, fields, cfg, loop, out, tok, tokJson);
            ParamLayout layout = new ParamLayout(mc, cfg.lora());
            List<Conversation> emSet = new ArrayList<>();
            for (int i = 0; i < Math.min(cfg.emSamples(), split.val().size()); i++) emSet.add(split.val().get(i).conversation());
            TrainingLoop.Result r = TrainingLoop.run(layout, loop, tok, batches, ckpts, () -> init(layout, w, cfg.seed()), resume,
                    new EmStage(layout, tok, emSet, cfg, ckpts), progress, listener);
            Json.write(out.resolve("report.json"), report);
            Path merged = cfg.lora().enabled() && cfg.lora().merge() && r.checkpoint() != null ? merge(base, r.checkpoint(), tokJson, out, listener) : null;
            return new Result(r, report, merged);
        }
    }

    /** What fine-tuning refuses before it starts: seq_len past the context, LoRA on a base without the chat tokens. */
    private static void check(FinetuneConfig cfg, Path base, Checkpoint.Loaded loaded, ModelConfig mc) {
        if (cfg.seqLen() > mc.contextLength()) {
            throw new ConfigException("finetune.seq_len " + cfg.seqLen() + " exceeds the base model's context_length " + mc.contextLength(),
                    "lower finetune.seq_len");
        }
        if (cfg.lora().enabled() && mc.vocabSize() != loaded.weights().config().vocabSize()) {
            throw new ConfigException(base + ": its tokenizer lacks " + ChatTemplate.missing(loaded.tokenizer())
                    + ", and LoRA trains no embedding rows for new tokens", "fine-tune fully (without --lora), or start from a base whose tokenizer has the chat tokens (llmkit's default special tokens include them)");
        }
    }

    /** The loop's config: finetune's keys, and those of its own that a resume must not change (LoRA, packing, the split, the rendering). */
    static LoopConfig loopConfig(FinetuneConfig cfg, int steps) {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("packing", String.valueOf(cfg.packing()));
        keys.put("val_fraction", String.valueOf(cfg.valFraction()));
        keys.put("format", cfg.format());
        keys.put("system_prompt", cfg.systemPrompt());
        keys.put("lora.enabled", String.valueOf(cfg.lora().enabled()));
        if (cfg.lora().enabled()) {
            keys.put("lora.rank", String.valueOf(cfg.lora().rank()));
            keys.put("lora.alpha", String.valueOf(cfg.lora().alpha()));
            keys.put("lora.dropout", String.valueOf(cfg.lora().dropout()));
            keys.put("lora.targets", String.valueOf(cfg.lora().targets()));
        }
        return new LoopConfig("finetune", steps, cfg.batchSize(), cfg.seqLen(), cfg.gradAccum(), cfg.lr(), cfg.minLr(),
                cfg.warmupSteps(), cfg.weightDecay(), cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.gradClip(), cfg.evalInterval(),
                cfg.keepCheckpoints(), cfg.seed(), cfg.threads(), cfg.matmul(), cfg.onNonFinite(), keys);
    }

    /** The run's checkpoints, with provenance (data files, base model) and the data's identity for resume. */
    private static Checkpoints checkpoints(Path base, SftReader.Result read, Map<String, String> fields, FinetuneConfig cfg, LoopConfig loop,
                                           Path out, Tokenizer tok, Path tokJson) {
        List<Provenance.InputRef> inputs = new ArrayList<>();
        StringBuilder ids = new StringBuilder().append(new java.util.TreeMap<>(fields)).append('\n');
        for (Path f : read.files()) {
            String sha = Text.sha256(f);
            inputs.add(Provenance.InputRef.of(f, sha));
            ids.append(sha).append('\n');
        }
        Path baseModel = base.resolve("model.safetensors");
        String baseSha = Text.sha256(baseModel);
        inputs.add(Provenance.InputRef.of(baseModel, baseSha));
        ids.append(baseSha);
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("finetune", cfg);
        config.put("fields", fields);
        config.put("base", realPath(base).toString());
        Checkpoints ckpts = new Checkpoints(out, tok, tokJson, loop, "finetune", inputs, config,
                Text.sha256(ids.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)), "resume with the run's own --base, --data and --field");
        if (cfg.lora().enabled()) ckpts.adapters(realPath(base));
        return ckpts;
    }

    /** OUT/merged: the base with the adapters of {@code adapter} folded in, a plain checkpoint. */
    private static Path merge(Path base, Path adapter, Path tokJson, Path out, TrainingLoop.Listener listener) {
        Path merged = out.resolve("merged");
        Path w = adapter.resolve(Adapters.WEIGHTS), baseModel = base.resolve("model.safetensors");
        Map<String, Object> config = Map.of("base", realPath(base).toString(), "adapter", adapter.toString());
        Checkpoint.write(merged, Adapters.merge(Checkpoint.read(base).weights(), adapter), tokJson,
                new Provenance("finetune.merge", Provenance.versions(Map.of()), List.of(Provenance.InputRef.of(baseModel, Text.sha256(baseModel)),
                        Provenance.InputRef.of(w, Text.sha256(w))), config, ConfigLoader.sha256(Json.MAPPER.valueToTree(config))), true);
        listener.log("merged the adapters of " + adapter.getFileName() + " into the base: " + merged);
        return merged;
    }

    /** The directory with symbolic links resolved (03-pretrain/final moves when pre-training goes on). */
    static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (java.io.IOException e) {
            throw new dev.llmkit.core.StorageException(p + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * The initial parameters: the base weights, and with LoRA each A uniform in +-1/sqrt(in) (PEFT's
     * Kaiming-uniform default) and each B zero, so the first forward pass is exactly the base model's.
     */
    static float[] init(ParamLayout layout, Weights w, long seed) {
        float[] p = layout.flatten(w);
        if (layout.lora == null) return p;
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed ^ 0x5DEECE66DL);
        for (int l = 0; l < layout.c.nLayers(); l++) {
            for (ParamLayout.Target t : ParamLayout.Target.values()) {
                int a = layout.loraA[l][t.ordinal()], in = t.in(layout.c);
                if (a < 0) continue;
                double bound = 1 / Math.sqrt(in);
                for (int i = 0; i < layout.lora.rank() * in; i++) p[a + i] = (float) ((2 * r.nextDouble() - 1) * bound);
            }
        }
        return p;
    }

    /** The id padding uses: {@code <|pad|>}, else {@code <|endoftext|>}, else 0 (its weight is 0 either way). */
    static int padId(Tokenizer tok) {
        int pad = tok.addedId("<|pad|>");
        if (pad >= 0) return pad;
        return Math.max(0, tok.eotId());
    }

    /**
     * The weights with the vocabulary grown to {@code vocab}: each new embedding (and untied output)
     * row starts as the mean of the existing rows, so a new token's input looks like an average token
     * and its output logit starts at the average logit instead of an arbitrary value.
     */
    static Weights grow(Weights w, int vocab) {
        ModelConfig c = w.config();
        if (vocab == c.vocabSize()) return w;
        if (vocab < c.vocabSize()) throw new ConfigException("the tokenizer has " + vocab + " tokens, fewer than the model's " + c.vocabSize(), null);
        ModelConfig g = new ModelConfig(c.dim(), c.hiddenDim(), c.nLayers(), c.nHeads(), c.nKvHeads(), vocab, c.contextLength(), c.normEps(),
                c.ropeTheta(), c.tiedEmbeddings());
        Map<String, Tensor> m = new LinkedHashMap<>(w.tensors());
        for (String name : List.of(TensorNames.EMBED, TensorNames.OUTPUT)) {
            Tensor t = m.get(name);
            if (t == null) continue;
            int d = c.dim(), old = c.vocabSize();
            float[] x = java.util.Arrays.copyOf(t.data(), vocab * d);
            double[] mean = new double[d];
            for (int r = 0; r < old; r++) for (int i = 0; i < d; i++) mean[i] += x[r * d + i];
            for (int r = old; r < vocab; r++) for (int i = 0; i < d; i++) x[r * d + i] = (float) (mean[i] / old);
            m.put(name, new Tensor(name, new int[] {vocab, d}, x));
        }
        return new Weights(g, m);
    }

    private static ObjectNode report(SftReader.Result read, SftExamples.Split split, SftBatches batches, long steps, FinetuneConfig cfg,
                                     Path base, Tokenizer tok, int baseVocab) {
        ObjectNode r = Json.MAPPER.createObjectNode();
        r.put("base", base.toString());
        r.put("base_vocab_size", baseVocab);
        r.put("vocab_size", tok.vocabSize());
        ObjectNode d = r.putObject("data");
        d.put("files", read.files().size());
        d.put("records", read.records());
        d.put("conversations", read.conversations().size());
        d.set("skipped", Json.MAPPER.valueToTree(read.skipped()));
        d.set("skipped_examples", Json.MAPPER.valueToTree(read.examples()));
        ObjectNode e = r.putObject("examples");
        e.put("train", split.train().size());
        e.put("val", split.val().size());
        e.put("train_answer_tokens", split.trainAnswerTokens());
        e.put("val_answer_tokens", split.valAnswerTokens());
        e.put("truncated", split.truncated());
        e.put("dropped_answer_cut", split.dropped());
        e.set("dropped_examples", Json.MAPPER.valueToTree(split.droppedExamples()));
        ObjectNode p = r.putObject("packing");
        p.put("enabled", cfg.packing());
        p.put("rows", batches.trainRows());
        p.put("fill", Math.round(batches.fill() * 1e4) / 1e4);
        p.put("tokens", batches.trainTokens());
        r.put("steps", steps);
        r.put("epochs", Math.round(steps * (double) cfg.batchSize() * cfg.gradAccum() / batches.trainRows() * 1e3) / 1e3);
        return r;
    }

    private static String summary(SftReader.Result read, SftExamples.Split split, SftBatches batches, long steps) {
        return String.format("data: %,d records, %,d conversations (%,d skipped), %,d training / %,d validation examples, %,d answer tokens to learn, "
                        + "%,d dropped (answer cut by seq_len), %,d rows (%.0f%% filled), %,d steps",
                read.records(), read.conversations().size(), read.skippedTotal(), split.train().size(), split.val().size(),
                split.trainAnswerTokens(), split.dropped(), batches.trainRows(), 100 * batches.fill(), steps);
    }

    /** The stage's evaluation: greedy exact match on the fixed validation sample. */
    private static final class EmStage implements TrainingLoop.Stage {
        private final ParamLayout layout;
        private final Tokenizer tok;
        private final List<Conversation> set;
        private final FinetuneConfig cfg;
        private final Checkpoints ckpts;
        private String status = "";

        EmStage(ParamLayout layout, Tokenizer tok, List<Conversation> set, FinetuneConfig cfg, Checkpoints ckpts) {
            this.layout = layout; this.tok = tok; this.set = set; this.cfg = cfg; this.ckpts = ckpts;
        }

        @Override
        public String name() {
            return "finetune";
        }

        @Override
        public String status() {
            return status;
        }

        @Override
        public String evaluate(float[] params, long step, ObjectNode line, Parallel par) {
            if (set.isEmpty()) return null;
            ExactMatch.Score s = ExactMatch.score(Adapters.merge(layout, params), tok, set, cfg.systemPrompt(), cfg.emMaxTokens(), par.threads(), false);
            TrainingLoop.put(line, "val_exact_match", s.exactRate());
            status = String.format(", val EM %.0f%%", 100 * s.exactRate());
            for (String[] x : s.samples().subList(0, Math.min(2, s.samples().size()))) ckpts.appendSample(step, x[0], x[2]);
            return String.format(", exact match %d/%d (%.1f%%) in %.1f s%n  Q: %s%n  A: %s (reference: %s)", s.exact(), s.n(), 100 * s.exactRate(),
                    s.seconds(), s.samples().get(0)[0], s.samples().get(0)[2], s.samples().get(0)[1]);
        }
    }
}
