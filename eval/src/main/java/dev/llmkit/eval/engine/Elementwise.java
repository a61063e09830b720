package dev.llmkit.eval.engine;

/**
 * The engine's elementwise steps (norms, softmax, SwiGLU, residual adds, the max and log-sum-exp of a
 * row of logits): the plain loops of {@link ColdKernels} while {@link ColdStart#coldElementwise()} or under the
 * scalar switch, {@link Kernels}' versions after (Vector API code, and for the residual add a loop that
 * C2 vectorises).
 *
 * <p>Why a class of its own: the launcher lets C2 compile {@link Kernels} (scripts/inference-jit.json),
 * and C2 compiles a method once it has been called often enough, whichever branch the calls took. When
 * the engine called Kernels' versions in its cold first second too, C2 spent about 0.5 s of CPU
 * compiling them there (their AOT-cached profiles include the Vector API branches), on two cores the CPU
 * the engine's own threads needed. Kept out of that second, a fresh 128 + 128-token {@code generate} of
 * the small preset read its prompt at 457 tokens/s against 397 and ended after 1.34 s against 1.40 s
 * (medians of 8 alternating runs, Zen 1, 2 threads); a 128 + 768-token one took as long as before.
 */
final class Elementwise {
    private Elementwise() {}

    private static boolean cold() {
        return Kernels.SCALAR || ColdStart.coldElementwise();
    }

    static void rmsnorm(float[] out, float[] x, float[] g, int n, float eps) {
        rmsnorm(out, 0, x, 0, g, n, eps);
    }

    static void rmsnorm(float[] out, int oo, float[] x, int xo, float[] g, int n, float eps) {
        if (cold()) ColdKernels.rmsnorm(out, oo, x, xo, g, n, eps);
        else Kernels.rmsnorm(out, oo, x, xo, g, n, eps);
    }

    static float max(float[] x, int off, int n) {
        return cold() ? ColdKernels.max(x, off, n) : Kernels.max(x, off, n);
    }

    static double logSumExp(float[] x, int off, int n) {
        return cold() ? ColdKernels.logSumExp(x, off, n) : Kernels.logSumExp(x, off, n);
    }

    static void softmax(float[] x, int off, int n) {
        softmax(x, off, n, 1f);
    }

    static void softmax(float[] x, int off, int n, float scale) {
        if (cold()) ColdKernels.softmax(x, off, n, scale);
        else Kernels.softmax(x, off, n, scale);
    }

    static void swiglu(float[] h, int ho, float[] g, int go, float[] u, int uo, int n) {
        if (cold()) ColdKernels.swiglu(h, ho, g, go, u, uo, n);
        else Kernels.swiglu(h, ho, g, go, u, uo, n);
    }

    static void add(float[] y, float[] x, int n) {
        add(y, 0, x, 0, n);
    }

    static void add(float[] y, int yo, float[] x, int xo, int n) {
        if (cold()) ColdKernels.add(y, yo, x, xo, n);
        else Kernels.add(y, yo, x, xo, n);
    }
}
