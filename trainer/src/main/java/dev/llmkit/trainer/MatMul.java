package dev.llmkit.trainer;

/**
 * The three matrix products of a linear layer's forward and backward, on row-major float arrays
 * (leading dimension = row length). {@code acc} adds into C instead of overwriting it.
 * Two backends: {@link JavaMatMul} (default) and {@link Nd4jMatMul}.
 */
public interface MatMul extends AutoCloseable {
    /** Forward, {@code Y[m, n] (+)= X[m, k] W[n, k]^T}; W is a weight the backend may cache in packed form. */
    void xwT(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, int m, int n, int k, boolean acc);

    /** Input gradient, {@code dX[m, n] (+)= dY[m, k] W[k, n]}. */
    void xw(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff, int m, int n, int k, boolean acc);

    /** Weight gradient, {@code dW[m, n] (+)= dY[k, m]^T X[k, n]}. */
    void aTb(float[] dy, int dyOff, float[] x, int xOff, float[] dw, int dwOff, int m, int n, int k, boolean acc);

    /** The weights changed (an optimizer step): drop cached packed forms. */
    void weightsChanged();

    String name();

    @Override
    void close();

    static MatMul create(String backend, dev.llmkit.core.kernels.Parallel par) {
        return switch (backend) {
            case "java" -> new JavaMatMul(par);
            case "nd4j" -> Nd4jMatMul.create(par.threads());
            default -> throw new IllegalArgumentException("unknown matmul backend " + backend);
        };
    }
}
