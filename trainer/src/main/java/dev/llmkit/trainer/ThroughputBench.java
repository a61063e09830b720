package dev.llmkit.trainer;

import dev.llmkit.core.config.PretrainConfig;
import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import java.util.SplittableRandom;

/**
 * Training throughput as the PyTorch anchor measures it (../shared/bench/torch_llama_train_bench.py):
 * one fixed random batch, forward + backward + gradient clipping + AdamW per step, timed after warm-up.
 */
public final class ThroughputBench {
    private ThroughputBench() {}

    public record Result(String matmul, int threads, long params, double tokensPerSecond, double mfu, double firstLoss, double lastLoss,
                         double secondsPerStep, double fmaPeakGflops) {}

    public static Result run(ModelConfig c, String matmul, int threads, int batch, int seq, int warmup, int steps) {
        return run(c, matmul, threads, batch, seq, warmup, steps, null);
    }

    /** {@link #run}, timing the parts of the timed steps into {@code profile} when it is not null. */
    public static Result run(ModelConfig c, String matmul, int threads, int batch, int seq, int warmup, int steps, StepProfile profile) {
        ParamLayout layout = new ParamLayout(c);
        RunState s = new RunState();
        s.params = layout.flatten(Weights.init(c, 0.02f, 0));
        s.m = new float[layout.size];
        s.v = new float[layout.size];
        float[] grad = new float[layout.size];
        SplittableRandom r = new SplittableRandom(0);
        int[] in = new int[batch * seq], out = new int[batch * seq];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextInt(c.vocabSize());
            out[i] = r.nextInt(c.vocabSize());
        }
        LoopConfig cfg = LoopConfig.of(PretrainConfig.defaults());
        double first = Double.NaN, last = Double.NaN;
        long t0 = 0;
        double peak;
        try (Parallel par = new Parallel(threads); TrainModel m = new TrainModel(c, batch, seq, par, MatMul.create(matmul, par))) {
            peak = dev.llmkit.core.kernels.FmaPeak.cached(par);     // MFU's denominator, on this machine now
            m.profile(profile);
            for (int step = 0; step < warmup + steps; step++) {
                if (step == warmup) {
                    t0 = System.nanoTime();
                    if (profile != null) profile.reset();
                }
                java.util.Arrays.fill(grad, 0f);
                if (profile != null) profile.mark("optimizer: gradients zeroed");
                double loss = m.step(s.params, in, out, batch, seq, grad, 1f);
                double norm = Optimizer.norm(grad, par);
                if (profile != null) profile.mark("optimizer: gradient norm");
                Optimizer.adamw(layout, s, grad, norm > 1 ? (float) (1 / norm) : 1f, 5e-4f, cfg, par);
                if (profile != null) {
                    profile.mark("optimizer: AdamW");
                    profile.stepDone();
                }
                s.step++;
                if (step == 0) first = loss;
                last = loss;
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double tps = (double) steps * batch * seq / secs;
        return new Result(matmul, threads, c.parameters(), tps, 6.0 * c.parameters() * tps / (peak * 1e9), first, last, secs / steps, peak);
    }
}
