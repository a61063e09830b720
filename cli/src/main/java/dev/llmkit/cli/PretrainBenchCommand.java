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
import dev.llmkit.trainer.StepProfile;
import dev.llmkit.trainer.ThroughputBench;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code llmkit pretrain bench}: training throughput of the tiny and small presets with both matmul
 * backends, each in its own JVM (for its own peak RSS), beside the PyTorch anchor in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmark training throughput (forward + backward + clipping + AdamW on one fixed random batch of 16 x 256 tokens, "
                + "as ../shared/bench/torch_llama_train_bench.py does): tokens/s, MFU (6 x params x tokens/s over the FMA peak this run measures) and peak RSS per "
                + "preset and matmul backend, beside PyTorch's tokens/s for the same architecture in alternating rounds of the same run (as the environment "
                + "sets OpenBLAS; when it sets OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE, also without them; and with jemalloc keeping freed memory, where "
                + "Debian's libjemalloc2 is or can be installed), with medians and the ratio to the best PyTorch.",
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

    @Option(names = "--profile", description = "After the table, one more run of each llmkit configuration with the step's parts timed: "
            + "milliseconds per step, share and GFLOP/s of every part (each product, attention, norms, SwiGLU, cross-entropy, the optimizer) "
            + "and of attention's inner parts per worker thread.")
    boolean profile;

    @Option(names = "--one", hidden = true, paramLabel = "PRESET:BACKEND", description = "Run one configuration and print JSON (used in the child JVM).")
    String one;

    static final int BATCH = 16, SEQ = 256;
    static final Map<String, Integer> VOCAB = Map.of("tiny", 4096, "small", 32000);

    @Option(names = "--rounds", defaultValue = "3", paramLabel = "N", description = "Alternating rounds (ours, the anchors, ours, ...); the table gives medians (default ${DEFAULT-VALUE}).")
    int rounds;

    /** OpenBLAS's variables that the environment may set for old builds; the anchor at its best runs without them. */
    static final Set<String> OPENBLAS_VARS = Set.of("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE");

    /** jemalloc, preloaded into the anchor in its allocator configuration (Debian's multiarch folder of this machine). */
    static final Path JEMALLOC = Path.of("/usr/lib/" + (System.getProperty("os.arch").equals("aarch64") ? "aarch64" : "x86_64") + "-linux-gnu/libjemalloc.so.2");

    /** jemalloc never purging freed pages: PyTorch's activations are reused step after step without page faults. */
    static final String JEMALLOC_CONF = "dirty_decay_ms:-1,muzzy_decay_ms:-1";

    /** One configuration of the PyTorch anchor: variables set and unset in its command only. */
    private record TorchEnv(String name, Map<String, String> set, Set<String> unset) {}

    /** One engine configuration of the table: how to run it once, and its figures over the rounds. */
    private record Engine(String preset, String name, Callable<JsonNode> once, List<double[]> runs) {}

    @Override
    public Integer call() throws Exception {
        if (one != null) return runOne();
        for (String p : presets) if (!VOCAB.containsKey(p)) throw new ConfigException("unknown preset '" + p + "'", "use tiny and/or small");
        if (rounds < 1 || steps < 1 || warmup < 0) throw new ConfigException("--rounds and --steps must be >= 1 and --warmup >= 0", "e.g. --rounds 3 --steps 10 --warmup 3");
        String home = System.getProperty("llmkit.home", ".");
        Path anchor = torch == null ? Path.of(home).resolve("../shared/bench/torch-anchor.sh").normalize() : "none".equals(torch) ? null : Path.of(torch);
        boolean haveTorch = anchor != null && Files.isRegularFile(anchor);
        System.out.printf(Locale.ROOT, "llmkit pretrain bench: batch %d x %d tokens, %d threads, %d warm-up + %d timed steps, %d alternating rounds; PyTorch anchor: %s%n",
                BATCH, SEQ, threads, warmup, steps, rounds, haveTorch ? anchor : "unavailable");
        double fma, fma256;
        boolean only256 = FmaPeak.preferredBits() == 256;     // our vectors are 256-bit already: one figure
        try (Parallel par = new Parallel(threads)) {
            fma = FmaPeak.gflops(par, 5);
            fma256 = only256 ? fma : FmaPeak.gflops256(par, 5);
        }
        System.out.printf(Locale.ROOT, "this machine now (%s), %d threads: FMA peak %.0f GFLOP/s with %s; pure-Java SGEMM %.0f GFLOP/s "
                + "(4096 x 768 x 256); MFU below is model FLOPs (6 x parameters x tokens/s) over the FMA peak (the higher of the "
                + "first figure and the one measured after the rounds)%n",
                ProcessInfo.cpuModel(), threads, fma, only256 ? "256-bit vectors"
                        : String.format(Locale.ROOT, "%d-bit vectors, %.0f with 256-bit (AVX2, as OpenBLAS's Haswell kernels)", FmaPeak.preferredBits(), fma256),
                sgemmPeak(threads));
        // The anchor as the environment runs it; when the environment restricts OpenBLAS, without that restriction; and,
        // where jemalloc is installed, once more (OpenBLAS unrestricted) with an allocator that keeps freed memory (glibc's malloc gives
        // PyTorch's large activations back to the system every step: on a Zen 5 VM whose page faults are dear, 1.3 M faults
        // and half the wall time in the kernel, tiny at 3,078 tokens/s against 6,145 with jemalloc keeping them)
        List<TorchEnv> torchEnvs = new ArrayList<>();
        if (haveTorch) {
            boolean restricted = OPENBLAS_VARS.stream().anyMatch(v -> System.getenv(v) != null);
            torchEnvs.add(new TorchEnv("as the environment sets OpenBLAS", Map.of(), Set.of()));
            if (restricted) torchEnvs.add(new TorchEnv("OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset", Map.of(), OPENBLAS_VARS));
            if (!restricted) System.out.println("the environment sets neither OPENBLAS_CORETYPE nor OPENBLAS_L2_SIZE: PyTorch runs OpenBLAS's own choice, its best");
            Path jemalloc = jemalloc();
            if (jemalloc != null) {
                TorchEnv openblas = torchEnvs.getLast();     // OpenBLAS unrestricted
                torchEnvs.add(new TorchEnv(openblas.name() + ", jemalloc keeping freed memory",
                        Map.of("LD_PRELOAD", jemalloc + (System.getenv("LD_PRELOAD") == null ? "" : ":" + System.getenv("LD_PRELOAD")),
                                "MALLOC_CONF", JEMALLOC_CONF), openblas.unset()));
            } else {
                System.out.println("jemalloc is not installed (" + JEMALLOC + "; Debian's libjemalloc2): PyTorch runs with glibc's malloc only, "
                        + "which may return its activations to the system every step");
            }
        }
        List<Engine> engines = new ArrayList<>();
        for (String preset : presets) {
            for (String b : backends) {
                engines.add(new Engine(preset, "llmkit " + b, () -> ours(preset, b, false), new ArrayList<>()));
            }
            for (TorchEnv e : torchEnvs) {
                engines.add(new Engine(preset, "pytorch, " + e.name(), () -> ChildProcesses.lastJson(ChildProcesses.run(List.of("bash", anchor.toString(),
                        "--preset", preset, "--threads", String.valueOf(threads), "--steps", String.valueOf(steps), "--warmup", String.valueOf(warmup)),
                        e.set(), e.unset())), new ArrayList<>()));
            }
        }
        for (int r = 0; r < rounds; r++) {
            for (Engine e : engines) {
                JsonNode j = e.once().call();
                double tps = j.get("tokens_per_s").asDouble();
                e.runs().add(new double[] {tps, 6.0 * j.get("params").asLong() * tps, j.get("peak_rss_mib").asDouble()});
            }
            System.out.printf(Locale.ROOT, "round %d of %d done%n", r + 1, rounds);
        }
        // a noisy neighbour or a busy core during the first measurement would flatter every MFU: measured again, the higher counts
        double after;
        try (Parallel par = new Parallel(threads)) {
            after = FmaPeak.gflops(par, 5);
        }
        double peak = Math.max(fma, after);
        System.out.printf(Locale.ROOT, "FMA peak after the rounds: %.0f GFLOP/s; MFU is over %.0f%n", after, peak);
        // probed after the rounds: the anchor's script installs OpenBLAS on its first run
        for (TorchEnv e : torchEnvs) System.out.printf(Locale.ROOT, "PyTorch %s: OpenBLAS kernels %s%n", e.name(), openblasCore(e.unset()));
        for (Engine e : engines) for (double[] x : e.runs()) x[1] /= peak * 1e9;
        System.out.println();
        System.out.printf("| preset | engine | tokens/s (median) | per round | MFU | peak RSS | vs best PyTorch (median of per-round ratios) |%n|---|---|---|---|---|---|---|%n");
        for (Engine e : engines) {
            // the best PyTorch configuration of this preset in each round: ratios are per round, then their median
            double[] best = new double[rounds];
            for (Engine t : engines) {
                if (t.preset().equals(e.preset()) && t.name().startsWith("pytorch")) for (int r = 0; r < rounds; r++) best[r] = Math.max(best[r], t.runs().get(r)[0]);
            }
            double[] ratio = new double[rounds];
            StringBuilder per = new StringBuilder();
            for (int r = 0; r < rounds; r++) {
                ratio[r] = e.runs().get(r)[0] / best[r];
                per.append(r == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%,.0f", e.runs().get(r)[0]));
            }
            System.out.printf(Locale.ROOT, "| %s | %s | %,.0f | %s | %.1f%% | %.0f MiB | %s |%n", e.preset(), e.name(), median(e.runs(), 0), per,
                    100 * median(e.runs(), 1), median(e.runs(), 2), torchEnvs.isEmpty() ? "-" : String.format(Locale.ROOT, "%.2fx", median(ratio)));
        }
        System.out.println("goals: >= 1.75x the best PyTorch configuration on tiny and small; MFU >= 70% of the FMA peak measured above on tiny; peak RSS <= 2048 MiB");
        if (profile) {
            for (String preset : presets) for (String b : backends) printProfile(preset, b, ours(preset, b, true), peak);
        }
        return ExitCodes.OK;
    }

    /** One run of our engine in its own JVM; with {@code timed}, its step's parts timed too. */
    private JsonNode ours(String preset, String backend, boolean timed) throws Exception {
        List<String> cmd = ChildProcesses.javaCommand();
        cmd.addAll(List.of("pretrain", "bench", "--one", preset + ":" + backend, "--threads", String.valueOf(threads),
                "--steps", String.valueOf(steps), "--warmup", String.valueOf(warmup)));
        if (timed) cmd.add("--profile");
        return ChildProcesses.lastJson(ChildProcesses.run(cmd, Map.of("OMP_WAIT_POLICY", "passive", "OMP_NUM_THREADS", String.valueOf(threads))));
    }

    /** The profile of one timed run (see {@link StepProfile}): a table of the parts, the products together, attention's inner parts. */
    private void printProfile(String preset, String backend, JsonNode j, double peak) {
        JsonNode parts = j.get("profile");
        double step = 0, productMs = 0, productFlops = 0;
        for (JsonNode p : parts) {
            step += p.get("ms").asDouble();
            if (p.has("gflops")) {
                productMs += p.get("ms").asDouble();
                productFlops += p.get("gflops").asDouble() * p.get("ms").asDouble() * 1e6;
            }
        }
        System.out.printf(Locale.ROOT, "%nprofile of one more run, %s preset, llmkit %s, its parts timed (%,.0f tokens/s; %.1f ms per step "
                + "over the parts; FMA peak %.0f GFLOP/s):%n%n| part | ms per step | share | GFLOP/s | of the FMA peak |%n|---|---|---|---|---|%n",
                preset, backend, j.get("tokens_per_s").asDouble(), step, peak);
        for (JsonNode p : parts) {
            boolean product = p.has("gflops");
            System.out.printf(Locale.ROOT, "| %s | %.2f | %.1f%% | %s | %s |%n", p.get("part").asText(), p.get("ms").asDouble(), 100 * p.get("ms").asDouble() / step,
                    product ? String.format(Locale.ROOT, "%.0f", p.get("gflops").asDouble()) : "-",
                    product ? String.format(Locale.ROOT, "%.0f%%", 100 * p.get("gflops").asDouble() / peak) : "-");
        }
        System.out.printf(Locale.ROOT, "| all matrix products above (attention's not included) | %.2f | %.1f%% | %.0f | %.0f%% |%n",
                productMs, 100 * productMs / step, productFlops / productMs / 1e6, 100 * productFlops / productMs / 1e6 / peak);
        StringBuilder a = new StringBuilder();
        JsonNode threadsMs = j.get("attention_ms");
        List<String> names = StepProfile.attentionParts();
        for (int i = 0; i < names.size(); i++) {
            a.append(i == 0 ? "" : "; ").append(names.get(i)).append(' ');
            for (int t = 0; t < threadsMs.size(); t++) {
                a.append(t == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.2f", threadsMs.get(t).get(i).asDouble()));
            }
        }
        System.out.printf(Locale.ROOT, "attention's inner parts, ms per step on each of the %d worker threads: %s%n", threadsMs.size(), a);
    }

    private static double median(List<double[]> runs, int k) {
        return median(runs.stream().mapToDouble(x -> x[k]).toArray());
    }

    /** The median of v (the mean of the middle two for an even count); the benchmarks' one median. */
    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** OpenBLAS's kernel set (openblas_get_corename) in the anchor's environment, with {@code unset} removed; "unknown" when it cannot tell. */
    private static String openblasCore(Set<String> unset) {
        try {
            String out = ChildProcesses.run(List.of("/usr/bin/python3", "-c", "import ctypes; l = ctypes.CDLL('libopenblas.so.0'); "
                    + "l.openblas_get_corename.restype = ctypes.c_char_p; print(l.openblas_get_corename().decode())"),
                    Map.of("LD_LIBRARY_PATH", "/usr/lib/x86_64-linux-gnu/openblas-openmp"), unset).trim();
            String[] lines = out.split("\n");
            return lines[lines.length - 1];
        } catch (Exception e) {
            return "unknown";
        }
    }

    /** jemalloc's library, installed with Debian's libjemalloc2 when absent (as the anchor's script installs PyTorch); null when unavailable. */
    private static Path jemalloc() {
        if (!Files.isRegularFile(JEMALLOC)) {
            try {
                ProcessBuilder pb = new ProcessBuilder("bash", "-c", "apt-get install -y -qq libjemalloc2 || (apt-get update -qq && apt-get install -y -qq libjemalloc2)")
                        .redirectErrorStream(true);
                pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
                ChildProcesses.output(pb, "apt-get install libjemalloc2", 300);     // a hung network: five minutes, not the hour
            } catch (Exception e) {
                return null;
            }
        }
        return Files.isRegularFile(JEMALLOC) ? JEMALLOC : null;
    }

    private int runOne() throws IOException {
        String[] p = one.split(":");
        ConfigLoader.Resolved r = ConfigLoader.load(null, ModelSection.PRESETS.getOrDefault(p[0], List.of()));
        ModelConfig c = r.config().model().toConfig(VOCAB.get(p[0]));     // the presets' context is SEQ
        StepProfile prof = profile ? new StepProfile(threads) : null;
        ThroughputBench.Result res = ThroughputBench.run(c, p[1], threads, BATCH, SEQ, warmup, steps, prof);
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("preset", p[0]).put("matmul", p[1]).put("threads", threads).put("params", res.params())
                .put("tokens_per_s", Math.round(res.tokensPerSecond() * 10) / 10.0).put("mfu", res.mfu())
                .put("first_loss", res.firstLoss()).put("last_loss", res.lastLoss()).put("peak_rss_mib", ProcessInfo.peakRssMib());
        if (prof != null) {
            var parts = o.putArray("profile");
            for (StepProfile.Part part : prof.parts()) {
                ObjectNode n = parts.addObject().put("part", part.name()).put("ms", part.msPerStep());
                if (!Double.isNaN(part.gflops())) n.put("gflops", part.gflops());
            }
            var att = o.putArray("attention_ms");
            for (double[] t : prof.attentionMs()) {
                var row = att.addArray();
                for (double v : t) row.add(v);
            }
        }
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
                par.parts((m + Sgemm.MR - 1) / Sgemm.MR, (part, b0, b1) -> Sgemm.rows(b0 * Sgemm.MR, Math.min(m, b1 * Sgemm.MR), n, k, a, 0, k, 1, bp, 0, Sgemm.NR, k * Sgemm.NR, c, 0, n, false, sc[part]));
                best = Math.min(best, System.nanoTime() - t0);
            }
        }
        return 2.0 * m * n * k / best;
    }
}
