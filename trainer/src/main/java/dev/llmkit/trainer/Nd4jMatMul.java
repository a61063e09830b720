package dev.llmkit.trainer;

import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The ND4J backend: {@code Nd4j.gemm} (OpenBLAS) on off-heap arrays that are allocated once per
 * shape and reused; operands are copied in and the result out through NIO views. ND4J types stay
 * inside this class. It runs on the trainer's thread count. OpenBLAS picks its kernels from
 * OPENBLAS_CORETYPE (SkylakeX is fastest on full-width AVX-512 machines) and should run with
 * OMP_WAIT_POLICY=passive on few cores; both are read from the environment when the library loads.
 */
final class Nd4jMatMul implements MatMul {
    /** One slot (operands and result, off-heap) per operation and shape, shared by the layers. */
    private record Shape(char op, int m, int n, int k) {}

    private static final class Slot {
        final INDArray a, b, c;
        final FloatBuffer av, bv, cv;
        float[] weights;
        int weightsOff = -1;

        Slot(long[] as, long[] bs, long[] cs) {
            a = Nd4j.create(DataType.FLOAT, as, 'c');
            b = Nd4j.create(DataType.FLOAT, bs, 'c');
            c = Nd4j.create(DataType.FLOAT, cs, 'c');
            av = a.data().asNioFloat();
            bv = b.data().asNioFloat();
            cv = c.data().asNioFloat();
        }
    }

    private final Map<Shape, Slot> slots = new HashMap<>();

    private Nd4jMatMul() {}

    /** The backend on {@code threads} BLAS and ND4J threads (the run's pretrain.threads, not the core count). */
    static Nd4jMatMul create(int threads) {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        try {
            Nd4j.create(DataType.FLOAT, 1, 1);
            Nd4j.factory().blas().setMaxThreads(threads);
            Nd4j.getEnvironment().setMaxThreads(threads);
        } catch (Throwable e) {
            throw new IllegalStateException("the nd4j backend failed to load its native library: " + e
                    + " (use pretrain.matmul=java)", e);
        }
        return new Nd4jMatMul();
    }

    @Override
    public void xwT(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, int m, int n, int k, boolean acc) {
        Slot s = slots.computeIfAbsent(new Shape('T', m, n, k), sh -> new Slot(new long[] {m, k}, new long[] {n, k}, new long[] {m, n}));
        put(s.av, x, xOff, m * k);
        if (s.weights != w || s.weightsOff != wOff) {     // skipped only when the same weight comes again before a step
            put(s.bv, w, wOff, n * k);
            s.weights = w;
            s.weightsOff = wOff;
        }
        run(s, y, yOff, m * n, false, true, acc);
    }

    @Override
    public void xw(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff, int m, int n, int k, boolean acc) {
        Slot s = slots.computeIfAbsent(new Shape('N', m, n, k), sh -> new Slot(new long[] {m, k}, new long[] {k, n}, new long[] {m, n}));
        put(s.av, dy, dyOff, m * k);
        put(s.bv, w, wOff, k * n);
        run(s, dx, dxOff, m * n, false, false, acc);
    }

    @Override
    public void aTb(float[] dy, int dyOff, float[] x, int xOff, float[] dw, int dwOff, int m, int n, int k, boolean acc) {
        Slot s = slots.computeIfAbsent(new Shape('A', m, n, k), sh -> new Slot(new long[] {k, m}, new long[] {k, n}, new long[] {m, n}));
        put(s.av, dy, dyOff, k * m);
        put(s.bv, x, xOff, k * n);
        run(s, dw, dwOff, m * n, true, false, acc);
    }

    private static void put(FloatBuffer dst, float[] src, int off, int len) {
        dst.clear();
        dst.put(src, off, len);
    }

    private static void run(Slot s, float[] c, int cOff, int len, boolean ta, boolean tb, boolean acc) {
        if (acc) put(s.cv, c, cOff, len);
        Nd4j.gemm(s.a, s.b, s.c, ta, tb, 1.0, acc ? 1.0 : 0.0);
        s.cv.clear();
        s.cv.get(c, cOff, len);
    }

    @Override
    public void weightsChanged() {
        for (Slot s : slots.values()) s.weights = null;
    }

    @Override
    public String name() {
        return "nd4j";
    }

    @Override
    public void close() {
        for (Slot s : slots.values()) {
            s.a.close();
            s.b.close();
            s.c.close();
        }
        slots.clear();
    }
}
