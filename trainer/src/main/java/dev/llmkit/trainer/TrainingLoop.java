package dev.llmkit.trainer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The training loop of every stage (pre-training, fine-tuning): lr schedule -> micro-steps -> clip
 * -> AdamW step -> log -> (validate, checkpoint, stage evaluation). A {@link BatchSource} feeds it and
 * a {@link Stage} adds what is particular to the stage at each evaluation (a greedy sample, exact
 * match). It owns the lock (one process per run directory), checkpoints with exact resume,
 * metrics.jsonl, loss.png, the progress bar and the non-finite policy.
 *
 * <p>The loss of a step is the sum of the weighted token losses of all its micro-batches divided by
 * their weight sum, so gradient accumulation does not change it.
 */
public final class TrainingLoop {

    /** Hooks for the CLI (log lines) and tests (a simulated crash after a step). */
    public interface Listener {
        default void log(String line) {}

        default void afterStep(long step) {}
    }

    /** What a stage adds at each evaluation, after validation and before the checkpoint. */
    public interface Stage {
        /** The stage's name (progress bar, plot title). */
        String name();

        /**
         * Evaluates the current parameters; puts metrics into the metrics line and returns a text for
         * the log line (null = nothing). {@code par} is the loop's thread pool.
         */
        default String evaluate(float[] params, long step, ObjectNode line, Parallel par) {
            return null;
        }

        /** Appended to the progress line (the latest evaluation's figure, e.g. exact match); "" = nothing. */
        default String status() {
            return "";
        }
    }

    public record Result(Path checkpoint, long steps, double trainLoss, double valLoss, double valBitsPerByte,
                         double tokensPerSecond, double mfu, double seconds, long skippedSteps, boolean resumed, double fmaPeakGflops) {}

    private TrainingLoop() {}

    /**
     * Runs (or resumes) the loop in {@code ckpts}' run directory.
     *
     * @param layout the parameters (with LoRA adapters: only they train)
     * @param init   the initial parameters of a fresh run, flat in {@code layout} order (adapters included)
     */
    public static Result run(ParamLayout layout, LoopConfig cfg, Tokenizer tok, BatchSource data, Checkpoints ckpts, Supplier<float[]> init,
                             boolean resume, Stage stage, Progress progress, Listener listener) {
        ModelConfig mc = layout.c;
        if (cfg.seqLen() > mc.contextLength()) {
            throw new ConfigException(cfg.section() + ".seq_len " + cfg.seqLen() + " exceeds model.context_length " + mc.contextLength(),
                    "lower " + cfg.section() + ".seq_len");
        }
        Path out = ckpts.out();
        try (Lock l = lock(out)) {
            RunState s = ckpts.start(resume, mc, layout, init, listener);
            try (Parallel par = new Parallel(cfg.effectiveThreads());
                 TrainModel model = new TrainModel(layout, cfg.batchSize(), cfg.seqLen(), par, MatMul.create(cfg.matmul(), par));
                 Metrics metrics = new Metrics(out, s.step)) {
                return new Run(cfg, mc, tok, data, ckpts, layout, s, par, model, metrics, stage, progress, listener).run();
            }
        }
    }

    /** OUT/.lock held by this process: the thread that holds it and how often (a stage may lock before the loop does). */
    private static final class Held {
        final FileChannel channel;
        final FileLock lock;
        final Thread owner = Thread.currentThread();
        int count = 1;

        Held(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }
    }

    private static final java.util.Map<Path, Held> HELD = new java.util.HashMap<>();

    /** The run directory's lock; {@link #close} releases it. */
    public interface Lock extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Takes OUT/.lock: one training process per run directory. Re-entrant for the thread that holds it
     * (a stage locks before writing its own files, then the loop locks again); refused for any other.
     */
    public static Lock lock(Path out) {
        Path key;
        try {
            Files.createDirectories(out);
            key = out.toRealPath();
        } catch (IOException e) {
            throw new StorageException(out + ": " + e.getMessage(), null, e);
        }
        synchronized (HELD) {
            Held h = HELD.get(key);
            if (h != null) {
                if (h.owner != Thread.currentThread()) throw new ConfigException(out + " is in use by another training run in this process", "wait for that run to end");
                h.count++;
            } else {
                FileChannel ch = null;
                try {
                    ch = FileChannel.open(out.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock fl = ch.tryLock();
                    if (fl == null) throw new ConfigException(out + " is in use by another llmkit training process", "wait for that run to end, or stop it");
                    HELD.put(key, new Held(ch, fl));
                } catch (java.nio.channels.OverlappingFileLockException e) {
                    closeQuietly(ch);
                    throw new ConfigException(out + " is in use by another training run in this process", "wait for that run to end");
                } catch (IOException e) {
                    closeQuietly(ch);
                    throw new StorageException(out + ": cannot lock: " + e.getMessage(), null, e);
                } catch (RuntimeException e) {
                    closeQuietly(ch);
                    throw e;
                }
            }
        }
        return () -> {
            synchronized (HELD) {
                Held h = HELD.get(key);
                if (h != null && --h.count == 0) {
                    HELD.remove(key);
                    closeQuietly(h.channel);     // releases the lock
                }
            }
        };
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException e) {
            // the lock goes with the process anyway
        }
    }

    /** Byte length of every token's text (0 for special tokens): the bits-per-byte denominator. */
    static int[] byteLengths(Tokenizer tok, int vocab) {
        int[] len = new int[vocab];
        java.util.Set<Integer> special = new java.util.HashSet<>();
        for (Tokenizer.AddedToken a : tok.addedTokens()) special.add(a.id());
        for (int i = 0; i < Math.min(vocab, tok.vocabSize()); i++) len[i] = special.contains(i) ? 0 : tok.tokenBytes(i).length;
        return len;
    }

    private static final class Run {
        final LoopConfig cfg;
        final ModelConfig mc;
        final String desc;
        final BatchSource data;
        final Checkpoints ckpts;
        final ParamLayout layout;
        final RunState s;
        final Parallel par;
        final TrainModel model;
        final Metrics metrics;
        final Stage stage;
        final Progress progress;
        final Listener listener;
        final float[] grad;
        final Batch[] micro;
        final int[] byteLength;
        private double lastVal = Double.NaN, lastBpb = Double.NaN, elapsedBefore;
        private double peakFlops;           // MFU's denominator, measured here (and again, see checkPeak)
        private long peakMeasured;          // System.nanoTime() of its last measurement
        private double stepWeight;     // the loss weight of the current step's micro-batches
        private long first;
        private Path last;

        Run(LoopConfig cfg, ModelConfig mc, Tokenizer tok, BatchSource data, Checkpoints ckpts, ParamLayout layout, RunState s,
            Parallel par, TrainModel model, Metrics metrics, Stage stage, Progress progress, Listener listener) {
            this.cfg = cfg; this.mc = mc; this.data = data; this.ckpts = ckpts; this.layout = layout; this.s = s;
            this.par = par; this.model = model; this.metrics = metrics; this.stage = stage; this.progress = progress; this.listener = listener;
            desc = describe(mc);
            grad = new float[layout.size - layout.trainFrom];     // the trainable range only (LoRA: the adapters)
            micro = new Batch[cfg.gradAccum()];
            for (int i = 0; i < micro.length; i++) micro[i] = new Batch(cfg.batchSize(), cfg.seqLen());
            byteLength = byteLengths(tok, mc.vocabSize());
            peakFlops = dev.llmkit.core.kernels.FmaPeak.cached(par) * 1e9;
            peakMeasured = System.nanoTime();
        }

        /**
         * Measures the FMA peak again (about a second, outside the steps' timing) every {@link #PEAK_RECHECK_NANOS} of the
         * run, and at once (at most once a minute) when a step's MFU passes 100%, which proves the figure too low: a
         * noisy neighbour or a busy core can hold one whole measurement low. The higher figure counts from then on;
         * each metrics line records the peak its MFU is over.
         */
        private void checkPeak(double tps) {
            long since = System.nanoTime() - peakMeasured;
            if (since >= PEAK_RECHECK_NANOS || (mfu(tps) > 1 && since >= IMPOSSIBLE_MFU_RECHECK_NANOS)) {
                peakFlops = dev.llmkit.core.kernels.FmaPeak.remeasured(par) * 1e9;
                peakMeasured = System.nanoTime();
            }
        }

        /** How often a long run measures the FMA peak again. */
        static final long PEAK_RECHECK_NANOS = 600_000_000_000L;
        /** How soon after a measurement an MFU past 100% measures the peak again. */
        static final long IMPOSSIBLE_MFU_RECHECK_NANOS = 60_000_000_000L;

        /** The loop: lr -> micro-steps -> clip -> step -> log -> (evaluate, checkpoint). */
        Result run() {
            double lastLoss = Double.NaN, tps = 0;
            start();
            while (s.step < cfg.steps()) {
                long t0 = System.nanoTime();
                double lr = cfg.lr(s.step);
                long tokens = fetch();
                double loss = microSteps();
                double norm = Optimizer.norm(grad, par);
                update(loss, norm, lr);
                s.step++;
                double dt = (System.nanoTime() - t0) / 1e9;
                s.elapsed += dt;
                s.tokensSeen += tokens;
                tps = tokens / dt;
                checkPeak(tps);
                lastLoss = loss;
                ObjectNode line = metricsLine(loss, norm, lr, tps);
                if (s.step == cfg.steps() || (cfg.evalInterval() > 0 && s.step % cfg.evalInterval() == 0)) evaluate(line, loss, tps);
                else metrics.write(line);
                progress.update(s.step - first);
                progress.status(String.format("loss %.3f, %,.0f tok/s, MFU %.0f%%%s", loss, tps, 100 * mfu(tps), stage.status()));
                listener.afterStep(s.step);
            }
            progress.close();
            if (last == null) last = ckpts.newestPath();
            double meanTps = s.elapsed > 0 ? s.tokensSeen / s.elapsed : tps;
            return new Result(last, s.step, lastLoss, lastVal, lastBpb, meanTps, mfu(meanTps), s.elapsed, s.skipped, s.resumed, peakFlops / 1e9);
        }

        private void start() {
            first = s.step;
            elapsedBefore = s.elapsed;
            progress.start(stage.name(), cfg.steps() - first, "steps");
            listener.log(String.format("model %,d parameters (%s), %d x %d tokens x %d accumulation per step, %,d training tokens, matmul %s, %d threads%s",
                    mc.parameters(), desc, cfg.batchSize(), cfg.seqLen(), cfg.gradAccum(), data.trainTokens(), model.matmul().name(),
                    par.threads(), s.resumed ? ", resumed at step " + s.step : ""));
            if (s.step >= cfg.steps()) {
                listener.log("the run is already at step " + s.step + " of " + cfg.steps() + ": nothing to do (raise --max-steps to train further)");
            }
        }

        /** Draws this step's micro-batches; returns their token count. */
        private long fetch() {
            long tokens = 0;
            for (int m = 0; m < micro.length; m++) {
                data.train(s.step, m, micro[m]);
                micro[m].noise = cfg.seed() * 0x9E3779B97F4A7C15L + s.step * 1_000_003L + m;
                tokens += (long) micro[m].b * micro[m].t;
            }
            return tokens;
        }

        /** The gradient of this step's batches, accumulated into grad; returns the step's loss (weighted mean). */
        private double microSteps() {
            Arrays.fill(grad, 0f);
            stepWeight = 0;
            for (Batch b : micro) stepWeight += b.weightSum();
            if (stepWeight == 0) return Double.NaN;     // nothing to learn in this step: update() leaves the weights as they are
            double loss = 0;
            for (Batch b : micro) loss += model.step(s.params, b, grad, (float) (1 / stepWeight));
            return loss / stepWeight;
        }

        /** Clips and applies the update, or refuses a non-finite one (stop, or skip the batch). */
        private void update(double loss, double norm, double lr) {
            if (stepWeight == 0) {
                listener.log("step " + (s.step + 1) + ": no token of its batches carries a loss weight; nothing to learn, no update");
            } else if (Double.isFinite(loss) && Double.isFinite(norm)) {
                float clip = cfg.gradClip() > 0 && norm > cfg.gradClip() ? (float) (cfg.gradClip() / norm) : 1f;
                Optimizer.adamw(layout, s, grad, clip, (float) lr, cfg, par);
            } else if (cfg.onNonFinite().equals("skip")) {
                s.skipped++;
                listener.log("step " + (s.step + 1) + ": loss " + loss + ", gradient norm " + norm + ": batch skipped");
            } else {
                throw new DataException("step " + (s.step + 1) + ": the loss (" + loss + ") or gradient norm (" + norm + ") is not finite; "
                        + (ckpts.newest() == null ? "no checkpoint was written yet" : "the last good checkpoint " + ckpts.newest() + " is kept"),
                        "lower " + cfg.section() + ".lr or raise warmup_steps and resume, or set " + cfg.section() + ".on_non_finite=skip");
            }
        }

        /** Model FLOPs (6 x parameters x tokens/s) over the FMA peak this process measured on this machine. */
        private double mfu(double tokensPerSecond) {
            return 6.0 * mc.parameters() * tokensPerSecond / peakFlops;
        }

        private ObjectNode metricsLine(double loss, double norm, double lr, double tps) {
            ObjectNode line = Json.MAPPER.createObjectNode();
            line.put("step", s.step);
            put(line, "loss", loss);
            line.put("lr", lr);
            put(line, "grad_norm", norm);
            line.put("tokens_per_s", Math.round(tps));
            put(line, "mfu", mfu(tps));
            put(line, "fma_peak_gflops", Math.round(peakFlops / 1e8) / 10.0);
            put(line, "elapsed_s", s.elapsed);
            line.put("eta_s", Math.round((s.elapsed - elapsedBefore) / (s.step - first) * (cfg.steps() - s.step)));
            return line;
        }

        /** Validation, the stage's evaluation, the metrics line, a checkpoint and loss.png. */
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
            String extra = stage.evaluate(s.params, s.step, line, par);
            metrics.write(line);     // before the checkpoint: a resume cuts metrics back to its step
            last = ckpts.save(layout, s);
            ckpts.linkFinal(last);
            try {
                metrics.plot("llmkit " + stage.name() + ": " + desc);
            } catch (RuntimeException | Error e) {     // a missing font must not stop training
                listener.log("loss.png not drawn: " + e);
            }
            listener.log(String.format("step %d/%d: loss %.4f, val loss %s, val bits/byte %s, %,.0f tokens/s, checkpoint %s%s",
                    s.step, cfg.steps(), loss, fmt(lastVal), fmt(lastBpb), tps, last.getFileName(), extra == null ? "" : extra));
        }

        /** Weighted mean loss and bits per byte of the predicted tokens over the validation batches (NaN when there are none). */
        double[] validate() {
            int n = data.validationBatches();
            if (n == 0) return new double[] {Double.NaN, Double.NaN};
            Batch b = micro[0];
            double nll = 0, weight = 0, bytes = 0;
            for (int i = 0; i < n; i++) {
                data.validation(i, b);
                nll += model.step(s.params, b, null, 0f);
                for (int r = 0; r < b.b * b.t; r++) {
                    weight += b.weights[r];
                    bytes += b.weights[r] * byteLength[b.targets[r]];
                }
            }
            if (weight == 0) return new double[] {Double.NaN, Double.NaN};     // validation batches with every position masked
            return new double[] {nll / weight, bytes == 0 ? Double.NaN : nll / bytes / Math.log(2)};
        }
    }

    public static String describe(ModelConfig c) {
        return c.dim() + "d x " + c.nLayers() + " layers, " + c.nHeads() + " heads, vocab " + c.vocabSize();
    }

    /** A metric rounded to 6 decimals; null when not finite (JSON has no NaN). */
    public static void put(ObjectNode line, String key, double x) {
        if (Double.isFinite(x)) line.put(key, Math.round(x * 1e6) / 1e6);
        else line.putNull(key);
    }

    private static String fmt(double x) {
        return Double.isNaN(x) ? "n/a" : String.format("%.4f", x);
    }
}
