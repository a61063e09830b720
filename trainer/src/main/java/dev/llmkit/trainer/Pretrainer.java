package dev.llmkit.trainer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.config.ModelSection;
import dev.llmkit.core.config.PretrainConfig;
import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code llmkit pretrain}: trains the model on random windows of the training shards with AdamW,
 * linear warmup then cosine decay, gradient clipping and accumulation; every eval_interval steps it
 * measures validation loss and bits per byte, writes an atomic checkpoint and a greedy sample.
 * {@code resume} continues from the newest complete checkpoint, bitwise as if never interrupted.
 */
public final class Pretrainer {
    private Pretrainer() {}

    /** Hooks for the CLI (log lines) and tests (a simulated crash after a step). */
    public interface Listener {
        default void log(String line) {}

        default void afterStep(long step) {}
    }

    public record Result(Path checkpoint, long steps, double trainLoss, double valLoss, double valBitsPerByte,
                         double tokensPerSecond, double mfu, double seconds, long skippedSteps, boolean resumed) {}

    /** Practical fp32 matmul peak of the reference machine (2 cores), the MFU denominator of ../shared/ANCHORS.md. */
    public static final double PEAK_FLOPS = 400e9;

    public static Result run(Path tokensDir, Path tokenizerJson, ModelSection ms, PretrainConfig cfg, Path out, boolean resume,
                             Progress progress, Listener listener) {
        Tokenizer tok = Tokenizer.load(tokenizerJson);
        ModelConfig mc = ms.toConfig(tok.vocabSize());
        if (cfg.seqLen() > mc.contextLength()) {
            throw new ConfigException("pretrain.seq_len " + cfg.seqLen() + " exceeds model.context_length " + mc.contextLength(), "lower pretrain.seq_len");
        }
        TokenData data = new TokenData(tokensDir, mc.vocabSize(), tok.sha256());
        data.requireWindows(cfg.seqLen(), tokensDir);
        Checkpoints ckpts = new Checkpoints(out, tok, tokenizerJson, tokensDir, cfg, ms);
        ParamLayout layout = new ParamLayout(mc);
        try (FileChannel lockFile = lockFile(out); FileLock lock = lockFile.tryLock()) {
            if (lock == null) throw new ConfigException(out + " is in use by another llmkit pretrain", "wait for that run to end, or stop it");
            RunState s = ckpts.start(resume, mc, layout, () -> layout.flatten(Weights.init(mc, ms.initStd(), ms.seed())), listener);
            try (Parallel par = new Parallel(cfg.effectiveThreads());
                 TrainModel model = new TrainModel(mc, cfg.batchSize(), cfg.seqLen(), par, MatMul.create(cfg.matmul(), par));
                 Metrics metrics = new Metrics(out, s.step)) {
                return new Loop(cfg, mc, tok, data, ckpts, layout, s, par, model, metrics, progress, listener).run();
            }
        } catch (java.nio.channels.OverlappingFileLockException e) {
            throw new ConfigException(out + " is in use by another training run in this process", "wait for that run to end");
        } catch (IOException e) {
            throw new StorageException(out + ": " + e.getMessage(), null, e);
        }
    }

    /** OUT/.lock: one training process per run directory. */
    private static FileChannel lockFile(Path out) throws IOException {
        Files.createDirectories(out);
        return FileChannel.open(out.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    }

    /** Learning rate of step (0-based): linear warmup from 0, then cosine decay to min_lr at the last step. */
    static double lr(PretrainConfig c, long step) {
        if (step < c.warmupSteps()) return c.lr() * (step + 1) / c.warmupSteps();
        long decay = Math.max(1, c.steps() - c.warmupSteps());
        double progress = Math.min(1.0, (double) (step - c.warmupSteps()) / decay);
        return c.minLr() + 0.5 * (1 + Math.cos(Math.PI * progress)) * (c.lr() - c.minLr());
    }

    /** Parameters, optimizer moments and counters of a run. */
    static final class RunState {
        float[] params, m, v;
        long step, tokensSeen, bestStep = -1, skipped, adamSteps;
        double elapsed, bestVal = Double.NaN;
        boolean resumed;
    }

    private static final class Loop {
        final PretrainConfig cfg;
        final ModelConfig mc;
        final Tokenizer tok;
        final TokenData data;
        final Checkpoints ckpts;
        final ParamLayout layout;
        final RunState s;
        final Parallel par;
        final TrainModel model;
        final Metrics metrics;
        final Progress progress;
        final Listener listener;
        final float[] grad;
        final int[] in, out;
        final int[] byteLength;

        Loop(PretrainConfig cfg, ModelConfig mc, Tokenizer tok, TokenData data, Checkpoints ckpts, ParamLayout layout, RunState s,
             Parallel par, TrainModel model, Metrics metrics, Progress progress, Listener listener) {
            this.cfg = cfg; this.mc = mc; this.tok = tok; this.data = data; this.ckpts = ckpts; this.layout = layout; this.s = s;
            this.par = par; this.model = model; this.metrics = metrics; this.progress = progress; this.listener = listener;
            grad = new float[layout.size];
            in = new int[cfg.batchSize() * cfg.seqLen()];
            out = new int[cfg.batchSize() * cfg.seqLen()];
            byteLength = new int[mc.vocabSize()];
            java.util.Set<Integer> special = new java.util.HashSet<>();
            for (Tokenizer.AddedToken a : tok.addedTokens()) special.add(a.id());
            for (int i = 0; i < byteLength.length; i++) byteLength[i] = special.contains(i) ? 0 : tok.tokenBytes(i).length;
        }

        private double lastVal = Double.NaN, lastBpb = Double.NaN, elapsedBefore;
        private long first;
        private Path last;

        /** The loop: lr -> micro-steps -> clip -> step -> log -> (evaluate, checkpoint, sample). */
        Result run() {
            long tokensPerStep = (long) cfg.batchSize() * cfg.seqLen() * cfg.gradAccum();
            double lastLoss = Double.NaN, tps = 0;
            start();
            while (s.step < cfg.steps()) {
                long t0 = System.nanoTime();
                double lr = lr(cfg, s.step);
                double loss = microSteps();
                double norm = Optimizer.norm(grad, par);
                update(loss, norm, lr);
                s.step++;
                double dt = (System.nanoTime() - t0) / 1e9;
                s.elapsed += dt;
                s.tokensSeen += tokensPerStep;
                tps = tokensPerStep / dt;
                lastLoss = loss;
                ObjectNode line = metricsLine(loss, norm, lr, tps);
                if (s.step == cfg.steps() || (cfg.evalInterval() > 0 && s.step % cfg.evalInterval() == 0)) evaluate(line, loss, tps);
                else metrics.write(line);
                progress.update(s.step - first);
                progress.status(String.format("loss %.3f, %,.0f tok/s, MFU %.0f%%", loss, tps, 100 * mfu(tps)));
                listener.afterStep(s.step);
            }
            progress.close();
            if (last == null) last = ckpts.newestPath();
            double meanTps = s.elapsed > 0 ? s.tokensSeen / s.elapsed : tps;
            return new Result(last, s.step, lastLoss, lastVal, lastBpb, meanTps, mfu(meanTps), s.elapsed, s.skipped, s.resumed);
        }

        private void start() {
            first = s.step;
            elapsedBefore = s.elapsed;
            progress.start("pretrain", cfg.steps() - first, "steps");
            listener.log(String.format("model %,d parameters (%s), %d x %d tokens x %d accumulation per step, %,d training tokens, matmul %s, %d threads%s",
                    mc.parameters(), describe(mc), cfg.batchSize(), cfg.seqLen(), cfg.gradAccum(), data.trainTokens(), model.matmul().name(),
                    par.threads(), s.resumed ? ", resumed at step " + s.step : ""));
            if (s.step >= cfg.steps()) {
                listener.log("the run is already at step " + s.step + " of " + cfg.steps() + ": nothing to do (raise --max-steps to train further)");
            }
        }

        /** The gradient of this step's batches, accumulated into grad; returns the mean loss. */
        private double microSteps() {
            java.util.Arrays.fill(grad, 0f);
            double loss = 0;
            for (int micro = 0; micro < cfg.gradAccum(); micro++) {
                data.trainBatch(cfg.seed(), s.step, micro, cfg.batchSize(), cfg.seqLen(), in, out);
                loss += model.step(s.params, in, out, cfg.batchSize(), cfg.seqLen(), grad, 1f / cfg.gradAccum());
            }
            return loss / cfg.gradAccum();
        }

        /** Clips and applies the update, or refuses a non-finite one (stop, or skip the batch). */
        private void update(double loss, double norm, double lr) {
            if (Double.isFinite(loss) && Double.isFinite(norm)) {
                float clip = cfg.gradClip() > 0 && norm > cfg.gradClip() ? (float) (cfg.gradClip() / norm) : 1f;
                Optimizer.adamw(layout, s, grad, clip, (float) lr, cfg, par);
            } else if (cfg.onNonFinite().equals("skip")) {
                s.skipped++;
                listener.log("step " + (s.step + 1) + ": loss " + loss + ", gradient norm " + norm + ": batch skipped");
            } else {
                throw new DataException("step " + (s.step + 1) + ": the loss (" + loss + ") or gradient norm (" + norm + ") is not finite; "
                        + (ckpts.newest() == null ? "no checkpoint was written yet" : "the last good checkpoint " + ckpts.newest() + " is kept"),
                        "lower pretrain.lr or raise warmup_steps and resume, or set pretrain.on_non_finite=skip");
            }
        }

        private double mfu(double tokensPerSecond) {
            return 6.0 * mc.parameters() * tokensPerSecond / PEAK_FLOPS;
        }

        private ObjectNode metricsLine(double loss, double norm, double lr, double tps) {
            ObjectNode line = Json.MAPPER.createObjectNode();
            line.put("step", s.step);
            put(line, "loss", loss);
            line.put("lr", lr);
            put(line, "grad_norm", norm);
            line.put("tokens_per_s", Math.round(tps));
            put(line, "mfu", mfu(tps));
            put(line, "elapsed_s", s.elapsed);
            line.put("eta_s", Math.round((s.elapsed - elapsedBefore) / (s.step - first) * (cfg.steps() - s.step)));
            return line;
        }

        /** Validation, the metrics line, a checkpoint, loss.png and the sample. */
        private void evaluate(ObjectNode line, double loss, double tps) {
            double[] v = validate();
            lastVal = v[0];
            lastBpb = v[1];
            if (!Double.isNaN(lastVal)) {
                put(line, "val_loss", lastVal);
                put(line, "val_bpb", lastBpb);
                if (Double.isNaN(s.bestVal) || lastVal < s.bestVal) {
                    s.bestVal = lastVal;
                    s.bestStep = s.step;
                }
            }
            String sample = sample();
            metrics.write(line);     // before the checkpoint: a resume cuts metrics back to its step
            last = ckpts.save(layout, s, cfg);
            ckpts.linkFinal(last);
            try {
                metrics.plot("llmkit pretrain: " + describe(mc));
            } catch (RuntimeException | Error e) {     // a missing font must not stop training
                listener.log("loss.png not drawn: " + e);
            }
            listener.log(String.format("step %d/%d: loss %.4f, val loss %s, val bits/byte %s, %,.0f tokens/s, checkpoint %s%s",
                    s.step, cfg.steps(), loss, fmt(lastVal), fmt(lastBpb), tps, last.getFileName(),
                    sample == null ? "" : "\n  sample: " + sample.replace("\n", "\\n")));
            if (sample != null) ckpts.appendSample(s.step, cfg.samplePrompt(), sample);
        }

        /** Mean loss and bits per byte over the fixed validation windows (NaN when there are none). */
        double[] validate() {
            int t = cfg.seqLen(), b = cfg.batchSize();
            int windows = data.valWindows(t, cfg.evalBatches() * b);
            if (windows == 0) return new double[] {Double.NaN, Double.NaN};
            double nll = 0;
            long tokens = 0, bytes = 0;
            for (int w0 = 0; w0 < windows; w0 += b) {
                int n = Math.min(b, windows - w0);
                for (int r = 0; r < n; r++) data.valWindow(w0 + r, windows, t, in, out, r);
                double mean = model.step(s.params, in, out, n, t, null, 0f);
                nll += mean * n * t;
                tokens += (long) n * t;
                for (int i = 0; i < n * t; i++) bytes += byteLength[out[i]];
            }
            return new double[] {nll / tokens, bytes == 0 ? Double.NaN : nll / bytes / Math.log(2)};
        }

        private TrainModel sampler;

        /** A greedy continuation of the sample prompt (null when disabled). */
        String sample() {
            if (cfg.sampleTokens() == 0 || cfg.samplePrompt().isEmpty()) return null;
            if (sampler == null) sampler = new TrainModel(mc, 1, cfg.seqLen(), par, new JavaMatMul(par));
            dev.llmkit.core.util.IntList ids = new dev.llmkit.core.util.IntList();
            for (int id : tok.encode(cfg.samplePrompt())) ids.add(id);
            int start = ids.size();
            if (start == 0) ids.add(tok.eotId() >= 0 ? tok.eotId() : 0);
            float[] logits = new float[cfg.seqLen() * mc.vocabSize()];
            for (int i = 0; i < cfg.sampleTokens(); i++) {
                int n = Math.min(ids.size(), cfg.seqLen()), from = ids.size() - n;
                int[] window = new int[n];
                for (int j = 0; j < n; j++) window[j] = ids.get(from + j);
                sampler.logits(s.params, window, 1, n, logits);
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

    static String describe(ModelConfig c) {
        return c.dim() + "d x " + c.nLayers() + " layers, " + c.nHeads() + " heads, vocab " + c.vocabSize();
    }

    /** A metric rounded to 6 decimals; null when not finite (JSON has no NaN). */
    private static void put(ObjectNode line, String key, double x) {
        if (Double.isFinite(x)) line.put(key, Math.round(x * 1e6) / 1e6);
        else line.putNull(key);
    }

    private static String fmt(double x) {
        return Double.isNaN(x) ? "n/a" : String.format("%.4f", x);
    }
}
