package dev.llmkit.core.kernels;

/** Not a test: GFLOP/s of the training-shaped GEMMs. Run with the test classpath. */
public final class SgemmBench {
    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int[][] shapes = {{4096, 768, 256}, {4096, 688, 256}, {4096, 256, 688}, {4096, 4096, 256}, {256, 256, 4096}, {688, 256, 4096}};
        try (Parallel par = new Parallel(threads)) {
            float[][] sc = {Sgemm.packScratch(), Sgemm.packScratch(), Sgemm.packScratch()};
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                float[] a = new float[m * k], w = new float[n * k], c = new float[m * n], bp = new float[Sgemm.packedSize(n, k)];
                for (int i = 0; i < a.length; i++) a[i] = (i % 7) * 0.1f;
                for (int i = 0; i < w.length; i++) w[i] = (i % 5) * 0.1f;
                String[] names = {"NT(pack)", "NN", "TN"};
                for (int op = 0; op < 3; op++) {
                    final int o = op;
                    Runnable run = () -> {
                        if (o == 0) {
                            par.range(Sgemm.panels(n), (p0, p1) -> Sgemm.packTransposed(w, 0, k, n, k, bp, p0, p1));
                            par.parts((m + Sgemm.MR - 1) / Sgemm.MR, (pt, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k, a, 0, k, 1, bp, 0, Sgemm.NR, k * Sgemm.NR, c, 0, n, false, sc[pt]));
                        } else if (o == 1) {
                            par.parts((m + Sgemm.MR - 1) / Sgemm.MR, (pt, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k, a, 0, k, 1, w, 0, n, Sgemm.NR, c, 0, n, false, sc[pt]));
                        } else {
                            par.parts((m + Sgemm.MR - 1) / Sgemm.MR, (pt, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k, a, 0, 1, m, w, 0, n, Sgemm.NR, c, 0, n, false, sc[pt]));
                        }
                    };
                    for (int i = 0; i < 5; i++) run.run();
                    long best = Long.MAX_VALUE;
                    for (int i = 0; i < 15; i++) {
                        long t0 = System.nanoTime();
                        run.run();
                        best = Math.min(best, System.nanoTime() - t0);
                    }
                    System.out.printf("%dx%dx%d %-9s %6.1f GFLOP/s%n", m, n, k, names[op], 2.0 * m * n * k / best);
                }
            }
        }
    }
}
