package dev.llmkit.trainer;

/** Parameters, optimizer moments and counters of a training run (what a checkpoint saves). */
public final class RunState {
    public float[] params, m, v;
    public long step, tokensSeen, bestStep = -1, skipped, adamSteps;
    public double elapsed, bestVal = Double.NaN;
    public boolean resumed;
}
