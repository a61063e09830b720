package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.ModelSection;
import dev.llmkit.core.kernels.FmaPeak;
import dev.llmkit.core.kernels.Parallel;
import dev.llmkit.core.kernels.Sgemm;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.util.ProcessInfo;
import dev.llmkit.trainer.ThroughputBench;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code llmkit pretrain bench}: training throughput of the tiny and small presets with both matmul
 * backends, each in its own JVM (for its own peak RSS), beside the PyTorch anchor in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmark training throughput (forward + backward + clipping + AdamW on one fixed random batch of 16 x 256 tokens, "
                + "as ../shared/bench/torch_llama_train_bench.py does): tokens/s, MFU (6 x params x tokens/s / 400 GFLOP/s) and peak RSS per "
                + "preset and matmul backend, with PyTorch's tokens/s for the same architecture measured in the same run and the ratio.",
        footer = {"", "Example:", "  llmkit pretrain bench --presets tiny,small --matmul java,nd4j", "", ExitCodes.HELP})
public final class PretrainBenchCommand implements Callable<Integer> {
    @Option(names = "--presets", split = ",", defaultValue = "tiny,small", paramLabel = "P", description = "Presets (default ${DEFAULT-VALUE}).")
    List<String> presets;

    @Option(names = "--matmul", split = ",", defaultValue = "java,nd4j", paramLabel = "B", description = "Backends (default ${DEFAULT-VALUE}).")
    List<String> backends;

    @Option(names = "--threads", defaultValue = "2", paramLabel = "N", description = "Threads for every engine (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--steps", defaultValue = "10", paramLabel = "N", description = "Timed steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup", defaultValue = "3", paramLabel = "N", description = "Untimed steps first (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--torch-anchor", paramLabel = "FILE", description = "PyTorch anchor script (default ../shared/bench/torch-anchor.sh); 'none' to skip.")
    String torch;

    @Option(names = "--one", hidden = true, paramLabel = "PRESET:BACKEND", description = "Run one configuration and print JSON (used in the child JVM).")
    String one;

    static final int BATCH = 16, SEQ = 256;
    static final Map<String, Integer> VOCAB = Map.of("tiny", 4096, "small", 32000);

    @Override
    public Integer call() throws Exception {
        if (one != null) return runOne();
        for (String p : presets) if (!VOCAB.containsKey(p)) throw new ConfigException("unknown preset '" + p + "'", "use tiny and/or small");
        String home = System.getProperty("llmkit.home", ".");
        Path anchor = torch == null ? Path.of(home).resolve("../shared/bench/torch-anchor.sh").normalize() : "none".equals(torch) ? null : Path.of(torch);
        boolean haveTorch = anchor != null && Files.isRegularFile(anchor);
        System.out.printf(Locale.ROOT, "llmkit pretrain bench: batch %d x %d tokens, %d threads, %d warm-up + %d timed steps; PyTorch anchor: %s%n",
                BATCH, SEQ, threads, warmup, steps, haveTorch ? anchor : "unavailable");
        double fma, fma256;
        try (Parallel par = new Parallel(threads)) {
            fma = FmaPeak.gflops(par, 5);
            fma256 = FmaPeak.gflops256(par, 5);
        }
        System.out.printf(Locale.ROOT, "this machine now (%s), %d threads: FMA peak %.0f GFLOP/s with %d-bit vectors, %.0f with 256-bit (AVX2, as "
                + "OpenBLAS's Haswell kernels); pure-Java SGEMM %.0f GFLOP/s (4096 x 768 x 256); MFU below is model FLOPs "
                + "(6 x parameters x tokens/s) over the first figure%n",
                ProcessInfo.cpuModel(), threads, fma, FmaPeak.preferredBits(), fma256, sgemmPeak(threads));
        List<String[]> rows = new ArrayList<>();
        for (String preset : presets) {
            double torchTps = Double.NaN;
            long torchRss = -1;
            if (haveTorch) {
                JsonNode t = ChildProcesses.lastJson(ChildProcesses.run(List.of("bash", anchor.toString(), "--preset", preset, "--threads", String.valueOf(threads),
                        "--steps", String.valueOf(steps), "--warmup", String.valueOf(warmup)), Map.of()));
                torchTps = t.get("tokens_per_s").asDouble();
                torchRss = Math.round(t.get("peak_rss_mib").asDouble());
                rows.add(row(preset, "pytorch " + t.get("torch").asText(), torchTps, 6.0 * t.get("params").asLong() * torchTps / (fma * 1e9), torchRss, 1.0));
            }
            for (String b : backends) {
                List<String> cmd = ChildProcesses.javaCommand();
                cmd.addAll(List.of("pretrain", "bench", "--one", preset + ":" + b, "--threads", String.valueOf(threads),
                        "--steps", String.valueOf(steps), "--warmup", String.valueOf(warmup)));
                JsonNode r = ChildProcesses.lastJson(ChildProcesses.run(cmd, Map.of("OMP_WAIT_POLICY", "passive", "OMP_NUM_THREADS", String.valueOf(threads))));
                double tps = r.get("tokens_per_s").asDouble();
                rows.add(row(preset, "llmkit " + b, tps, 6.0 * r.get("params").asLong() * tps / (fma * 1e9), r.get("peak_rss_mib").asLong(), tps / torchTps));
            }
        }
        System.out.println();
        System.out.printf("| preset | engine | tokens/s | MFU | peak RSS | vs PyTorch |%n|---|---|---|---|---|---|%n");
        for (String[] r : rows) System.out.println("| " + String.join(" | ", r) + " |");
        System.out.println("goals (tiny): >= 1.75x the best PyTorch tokens/s, MFU >= 70% of the FMA peak measured above, peak RSS <= 2048 MiB");
        return ExitCodes.OK;
    }

    private static String[] row(String preset, String engine, double tps, double mfu, long rss, double ratio) {
        return new String[] {preset, engine, String.format(Locale.ROOT, "%,.0f", tps), String.format(Locale.ROOT, "%.1f%%", 100 * mfu),
            rss + " MiB", Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.2fx", ratio)};
    }

    private int runOne() throws IOException {
        String[] p = one.split(":");
        ConfigLoader.Resolved r = ConfigLoader.load(null, ModelSection.PRESETS.getOrDefault(p[0], List.of()));
        ModelConfig c = r.config().model().toConfig(VOCAB.get(p[0]));     // the presets' context is SEQ
        ThroughputBench.Result res = ThroughputBench.run(c, p[1], threads, BATCH, SEQ, warmup, steps);
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("preset", p[0]).put("matmul", p[1]).put("threads", threads).put("params", res.params())
                .put("tokens_per_s", Math.round(res.tokensPerSecond() * 10) / 10.0).put("mfu", res.mfu())
                .put("first_loss", res.firstLoss()).put("last_loss", res.lastLoss()).put("peak_rss_mib", ProcessInfo.peakRssMib());
        System.out.println(Json.COMPACT.writeValueAsString(o));
        return ExitCodes.OK;
    }


    private static double sgemmPeak(int threads) {
        int m = 4096, n = 768, k = 256;
        float[] a = new float[m * k], w = new float[n * k], c = new float[m * n], bp = new float[Sgemm.packedSize(n, k)];
        java.util.Arrays.fill(a, 0.5f);
        java.util.Arrays.fill(w, 0.25f);
        float[][] sc = new float[threads][];
        for (int i = 0; i < threads; i++) sc[i] = Sgemm.packScratch();
        long best = Long.MAX_VALUE;
        try (Parallel par = new Parallel(threads)) {
            Sgemm.packTransposed(w, 0, k, n, k, bp, 0, Sgemm.panels(n));
            for (int rep = 0; rep < 150; rep++) {
                long t0 = System.nanoTime();
                par.parts(m / Sgemm.MR, (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, b1 * Sgemm.MR, n, k, a, 0, k, 1, bp, 0, Sgemm.NR, k * Sgemm.NR, c, 0, n, false, sc[part]));
                best = Math.min(best, System.nanoTime() - t0);
            }
        }
        return 2.0 * m * n * k / best;
    }
}
