package dev.llmkit.cli;

import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.eval.engine.LlamaEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code llmkit aot-training} (hidden): the workload the launcher records its start-up archive of classes
 * from (a dynamic CDS archive, cli/target/llmkit.jsa, made once per build): a tiny random model initialised, exported to GGUF,
 * quantized to Q8_0 and Q4_0, and run by {@code generate} from the checkpoint directory (on the engine's cold-start kernels, then
 * once the decode kernels compiled ahead are ready), the quantized files (so) and the F32 GGUF file (on its Vector API kernels,
 * which a longer run switches to), in this process, so that the
 * classes those commands load, lambda classes included, come from the archive in later processes. Its output goes to the
 * launcher's log.
 */
@Command(name = "aot-training", hidden = true, description = "Record the start-up archive's workload (used by the launcher).")
public final class AotTrainingCommand implements Callable<Integer> {
    @picocli.CommandLine.Option(names = "--make", paramLabel = "DIR", description = "Only make the models, in DIR.")
    Path make;

    @picocli.CommandLine.Option(names = "--run", paramLabel = "DIR", description = "Only run the models made in DIR by --make.")
    Path run;

    @Override
    public Integer call() throws IOException {
        if (make != null) return make(make);
        if (run != null) return run(run);
        Path dir = Files.createTempDirectory("llmkit-aot-training");
        try {
            int rc = make(dir);
            return rc != 0 ? rc : run(dir);
        } finally {
            AtomicFiles.deleteRecursively(dir);
        }
    }

    /** The tiny model: a checkpoint directory, its F32 GGUF and Q8_0 and Q4_0 GGUFs. */
    private static int make(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path tok = dir.resolve("tokenizer.json"), ckpt = dir.resolve("model"), gguf = dir.resolve("model.gguf");
        int[][] merges = new int[64][];
        for (int i = 0; i < merges.length; i++) merges[i] = new int[] {'a' + i % 26, 'a' + i / 26};
        TokenizerJson.write(TokenizerJson.build(merges, List.of(Tokenizer.EOT), SplitPattern.GPT2), tok);
        List<String> shape = List.of("--set", "model.dim=64", "--set", "model.hidden_dim=128", "--set", "model.n_layers=2", "--set", "model.n_heads=2",
                "--set", "model.n_kv_heads=2", "--set", "model.context_length=64");
        int rc = Main.run(concat(List.of("model", "init", "-t", tok.toString(), "-o", ckpt.toString()), shape));
        rc = rc != 0 ? rc : Main.run("export", "-m", ckpt.toString(), "-o", gguf.toString());
        for (String type : List.of("q8_0", "q4_0")) {
            rc = rc != 0 ? rc : Main.run("quantize", "-m", gguf.toString(), "--type", type, "-o", dir.resolve("model-" + type + ".gguf").toString(),
                    "--eval-tokens", "0", "--bench-tokens", "0");
        }
        return rc;
    }

    /** generate on each of the models {@link #make} made in {@code dir}. */
    private static int run(Path dir) {
        Path ckpt = dir.resolve("model"), gguf = dir.resolve("model.gguf");
        List<Path> runs = List.of(ckpt, ckpt, dir.resolve("model-q8_0.gguf"), dir.resolve("model-q4_0.gguf"), gguf);
        int rc = 0;
        for (int i = 0; i < runs.size() && rc == 0; i++) {
            // the checkpoint on the cold start's kernels, then again once the decode kernels compiled ahead are ready
            // (their lambdas), the quantized files so (the quantized kernels' classes: the Vector API's integer and short
            // vectors, 100-140 ms of a fresh Q8_0 generate's compiling ahead when they came from the JDK's modules), the
            // F32 GGUF on the Vector API kernels
            if (i == 1) System.setProperty("llmkit.compileAheadWait", "10");
            if (i == runs.size() - 1) LlamaEngine.useWarmKernels();
            String[] line = {"generate", "-m", runs.get(i).toString(), "-p", "a training run", "-n", "40", "--temperature", "0", "--threads", "2"};
            ModelPrefetch.start(line);     // as Main.main does: the model loaded ahead
            rc = Main.run(line);
        }
        return rc;
    }

    private static String[] concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toArray(String[]::new);
    }
}
