package dev.llmkit.trainer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.Progress;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.config.ModelSection;
import dev.llmkit.core.config.PretrainConfig;
import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.util.IntList;
import dev.llmkit.core.util.Text;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code llmkit pretrain}: the {@link TrainingLoop} on random windows of the training shards
 * ({@link TokenData}), every token predicted; at each evaluation a greedy sample of the sample
 * prompt goes to the log and samples.jsonl. {@code resume} continues from the newest complete
 * checkpoint, bitwise as if never interrupted.
 */
public final class Pretrainer {
    private Pretrainer() {}

    /** Hooks for the CLI (log lines) and tests (a simulated crash after a step). */
    public interface Listener extends TrainingLoop.Listener {}


    public static TrainingLoop.Result run(Path tokensDir, Path tokenizerJson, ModelSection ms, PretrainConfig cfg, Path out, boolean resume,
                                          Progress progress, TrainingLoop.Listener listener) {
        Tokenizer tok = Tokenizer.load(tokenizerJson);
        ModelConfig mc = ms.toConfig(tok.vocabSize());
        LoopConfig loop = LoopConfig.of(cfg);
        TokenData data = new TokenData(tokensDir, mc.vocabSize(), tok.sha256());
        data.requireWindows(cfg.seqLen(), tokensDir);
        TokenData.Windows batches = data.windows(cfg.seed(), cfg.batchSize(), cfg.seqLen(), cfg.evalBatches());
        Path manifest = tokensDir.resolve("manifest.json");
        String tokensSha = Text.sha256(manifest);
        Checkpoints ckpts = new Checkpoints(out, tok, tokenizerJson, loop, "pretrain", List.of(Provenance.InputRef.of(manifest, tokensSha)),
                Map.of("model", ms, "pretrain", cfg), tokensSha, "resume with the run's own --tokens (" + tokensDir + " differs: manifest.json)");
        ParamLayout layout = new ParamLayout(mc);
        Sample sample = new Sample(mc, tok, cfg, ckpts);
        return TrainingLoop.run(layout, loop, tok, batches, ckpts, () -> layout.flatten(Weights.init(mc, ms.initStd(), ms.seed())), resume,
                sample, progress, listener);
    }

    /** The stage's evaluation: a greedy continuation of the sample prompt, logged and appended to samples.jsonl. */
    private static final class Sample implements TrainingLoop.Stage {
        private final ModelConfig mc;
        private final Tokenizer tok;
        private final PretrainConfig cfg;
        private final Checkpoints ckpts;
        private TrainModel sampler;

        Sample(ModelConfig mc, Tokenizer tok, PretrainConfig cfg, Checkpoints ckpts) {
            this.mc = mc; this.tok = tok; this.cfg = cfg; this.ckpts = ckpts;
        }

        @Override
        public String name() {
            return "pretrain";
        }

        @Override
        public String evaluate(float[] params, long step, ObjectNode line, Parallel par) {
            String text = sample(params, par);
            if (text == null) return null;
            ckpts.appendSample(step, cfg.samplePrompt(), text);
            return "\n  sample: " + text.replace("\n", "\\n");
        }

        /** A greedy continuation of the sample prompt (null when disabled). */
        String sample(float[] params, Parallel par) {
            if (cfg.sampleTokens() == 0 || cfg.samplePrompt().isEmpty()) return null;
            if (sampler == null) sampler = new TrainModel(mc, 1, cfg.seqLen(), par, new JavaMatMul(par));
            IntList ids = new IntList();
            for (int id : tok.encode(cfg.samplePrompt())) ids.add(id);
            int start = ids.size();
            if (start == 0) ids.add(tok.eotId() >= 0 ? tok.eotId() : 0);
            float[] logits = new float[cfg.seqLen() * mc.vocabSize()];
            for (int i = 0; i < cfg.sampleTokens(); i++) {
                int n = Math.min(ids.size(), cfg.seqLen()), from = ids.size() - n;
                int[] window = new int[n];
                for (int j = 0; j < n; j++) window[j] = ids.get(from + j);
                sampler.logits(params, window, 1, n, logits);
                int best = 0, o = (n - 1) * mc.vocabSize();
                for (int v = 1; v < mc.vocabSize(); v++) if (logits[o + v] > logits[o + best]) best = v;
                if (best == tok.eotId()) break;
                ids.add(best);
            }
            int from = start == 0 ? 1 : start;     // past the <|endoftext|> an empty prompt starts from
            int[] gen = new int[ids.size() - from];
            for (int j = 0; j < gen.length; j++) gen[j] = ids.get(from + j);
            return cfg.samplePrompt() + tok.decode(gen);
        }
    }
}
