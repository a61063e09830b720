package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.ModelSection;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code llmkit model}: create checkpoints. */
@Command(name = "model", mixinStandardHelpOptions = true, description = "Create model checkpoints.",
        subcommands = {ModelCommand.Init.class}, footer = {"", ExitCodes.HELP})
public final class ModelCommand {
    /** {@code llmkit model init}. */
    @Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Write a randomly initialised checkpoint (config.json, model.safetensors, tokenizer.json, provenance.json) for a tokenizer: normal(0, init_std) matrices, residual projections scaled by 1/sqrt(2 n_layers), norms at 1. The architecture comes from --preset (tiny, small) or the model section of --config/--set.",
            footer = {"", "Example:", "  llmkit model init --preset tiny --tokenizer runs/demo/01-tokenizer/tokenizer.json --out runs/demo/model-init", "", ExitCodes.HELP})
    public static final class Init implements Callable<Integer> {
        @Option(names = "--preset", paramLabel = "NAME", description = "tiny or small (applied before --set).")
        String preset;

        @Option(names = {"-t", "--tokenizer"}, required = true, paramLabel = "FILE", description = "tokenizer.json; its size is the vocabulary size.")
        Path tokenizer;

        @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Checkpoint directory.")
        Path out;

        @Option(names = "--force", description = "Replace the output directory if it exists.")
        boolean force;

        @Mixin
        ConfigOptions config;

        @Override
        public Integer call() {
            config.preset(preset);
            ConfigLoader.Resolved r = config.resolve(List.of());
            ModelSection m = r.config().model();
            Tokenizer tok = Tokenizer.load(tokenizer);
            ModelConfig c = m.toConfig(tok.vocabSize());
            Weights w = Weights.init(c, m.initStd(), m.seed());
            Provenance prov = new Provenance("model.init", Provenance.versions(Map.of()),
                    List.of(Provenance.InputRef.of(tokenizer, tok.sha256())), m,
                    ConfigLoader.sha256(dev.llmkit.core.Json.MAPPER.valueToTree(m)));
            Checkpoint.write(out, w, tokenizer, prov, force);
            System.out.printf(Locale.ROOT, "initialised %s: %,d parameters (dim %d, %d layers, %d heads, %d kv heads, hidden %d, vocab %d, context %d%s)%n",
                    out, c.parameters(), c.dim(), c.nLayers(), c.nHeads(), c.nKvHeads(), c.hiddenDim(), c.vocabSize(), c.contextLength(),
                    c.tiedEmbeddings() ? ", tied embeddings" : "");
            for (String limit : c.quantizationLimits()) System.out.println("note: " + limit);
            return ExitCodes.OK;
        }
    }


    /** An inference command's --threads: all cores when not given, else 1..1024 (0 or a negative count is a usage error). */
    static int engineThreads(Integer threads) {
        if (threads == null) return Runtime.getRuntime().availableProcessors();
        if (threads < 1 || threads > 1024) throw new ConfigException("--threads must be in [1, 1024], got " + threads, "omit --threads to use every core");
        return threads;
    }

    /**
     * {@link #load} for the engine: a quantized .gguf file keeps its tensors in their block types
     * (run as stored); everything else loads as F32. The model a fresh process's command line named may
     * have been loaded already, while the command line was parsed ({@link ModelPrefetch}).
     */
    static Checkpoint.Loaded loadForInference(Path model) {
        Checkpoint.Loaded ahead = ModelPrefetch.take(model);
        return ahead != null ? ahead : loadNow(model);
    }

    /** {@link #loadForInference} here and now, on this thread. */
    static Checkpoint.Loaded loadNow(Path model) {
        return loadNow(model, null);
    }

    /**
     * {@link #loadNow(Path)}, telling {@code matrixTypes} (when not null) the storage types of the weight matrices
     * as soon as they are known: a .gguf file's once its header is read, F32 at once for everything else.
     */
    static Checkpoint.Loaded loadNow(Path model, java.util.function.Consumer<java.util.Set<dev.llmkit.core.quant.GgmlType>> matrixTypes) {
        boolean gguf = Files.isRegularFile(model) && model.getFileName().toString().endsWith(".gguf");
        if (matrixTypes != null && !gguf) matrixTypes.accept(java.util.Set.of(dev.llmkit.core.quant.GgmlType.F32));
        Checkpoint.Loaded m = gguf ? GgufModel.loadQuantized(model, matrixTypes) : load(model);
        Checkpoint.requireFinite(m.weights(), model);     // NaN weights would decode one token forever
        return m;
    }

    /** A checkpoint directory, a LoRA adapter directory (merged into its base on load) or a .gguf file, every tensor F32. */
    static Checkpoint.Loaded load(Path model) {
        if (Files.isRegularFile(model) && model.getFileName().toString().endsWith(".gguf")) return GgufModel.load(model);
        if (Files.isDirectory(model) && dev.llmkit.trainer.Adapters.isAdapter(model)) return dev.llmkit.trainer.Adapters.loadMerged(model, null);
        if (Files.isDirectory(model)) return Checkpoint.read(model);
        throw new ConfigException(model + ": neither a checkpoint directory nor a .gguf file", "pass --model DIR or --model FILE.gguf");
    }
}
