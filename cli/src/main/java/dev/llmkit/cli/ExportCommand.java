package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llmkit export}: a checkpoint to a GGUF file llama.cpp and Ollama load. */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Export a checkpoint directory as one GGUF v3 file (llama architecture, gpt2 byte-level tokenizer with merges, F32 or F16 matrices; norms stay F32). The file is written to a temporary name and renamed.",
        footer = {"", "Example:", "  llmkit export --model runs/demo/model-init --format gguf --type f16 --out runs/demo/model-f16.gguf", "", ExitCodes.HELP})
public final class ExportCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "Checkpoint directory (config.json, model.safetensors, tokenizer.json).")
    Path model;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "gguf", description = "Output format: gguf (default).")
    String format;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "f32", description = "Matrix type: f32 (default) or f16.")
    String type;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "Output .gguf file.")
    Path out;

    @Option(names = "--name", paramLabel = "NAME", description = "general.name (default: the checkpoint directory's name).")
    String name;

    @Option(names = "--force", description = "Replace the output file if it exists.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        if (!format.equals("gguf")) throw new ConfigException("unknown --format " + format, "only gguf is supported");
        int t = switch (type.toLowerCase(Locale.ROOT)) {
            case "f32" -> Gguf.F32;
            case "f16" -> Gguf.F16;
            default -> throw new ConfigException("unknown --type " + type, "use f32 or f16 (Q8_0/Q4_0 come with `llmkit quantize`)");
        };
        if (Files.exists(out) && !force) throw new ConfigException(out + " already exists", "pass --force to replace it");
        Checkpoint.Loaded m = ModelCommand.load(model);     // a checkpoint or LoRA adapter directory (merged into its base)
        GgufModel.export(m.weights(), m.tokenizer(), out, t, name != null ? name : model.toAbsolutePath().normalize().getFileName().toString(),
                m.chatTemplate());
        System.out.printf(Locale.ROOT, "exported %s (%s, %.1f MB)%n", out, type.toUpperCase(Locale.ROOT), Files.size(out) / 1e6);
        return ExitCodes.OK;
    }
}
