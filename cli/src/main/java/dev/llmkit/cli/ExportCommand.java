package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.HfModel;
import dev.llmkit.core.quant.GgmlType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llmkit export}: a checkpoint to a GGUF file (llama.cpp, Ollama) or a Hugging Face Transformers directory. */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Export a checkpoint directory (or a LoRA adapter directory, merged into its base, or a GGUF file).",
            "--format gguf (default): one GGUF v3 file (llama architecture, gpt2 byte-level tokenizer with merges, F32 or F16 matrices; norms stay F32), written to a temporary name and renamed.",
            "--format hf: a directory that transformers' AutoModelForCausalLM and AutoTokenizer load as it is: config.json (LlamaForCausalLM), generation_config.json, model.safetensors (F32, F16 or BF16), tokenizer.json, tokenizer_config.json (with the chat template, if any), special_tokens_map.json and a README.md model card; built in a hidden sibling directory and renamed."},
        footer = {"", "Examples:", "  llmkit export --model runs/demo/model-init --format gguf --type f16 --out runs/demo/model-f16.gguf",
            "  llmkit export --model runs/demo/04-finetune/final --format hf --type bf16 --out runs/demo/hf", "", ExitCodes.HELP})
public final class ExportCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "Checkpoint directory (config.json, model.safetensors, tokenizer.json), LoRA adapter directory or .gguf file.")
    Path model;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "gguf", description = "gguf (default) or hf (Hugging Face Transformers directory).")
    String format;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "f32", description = "Tensor type: f32 (default) or f16; bf16 too with --format hf. Quantized GGUF types come with `llmkit quantize`.")
    String type;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "PATH", description = "Output: the .gguf file, or the directory for --format hf.")
    Path out;

    @Option(names = "--name", paramLabel = "NAME", description = "gguf: general.name (default: the checkpoint directory's name); hf: the model card's title (default: the output directory's name).")
    String name;

    @Option(names = "--force", description = "Replace the output if it exists (an existing empty directory is used without it).")
    boolean force;

    @Override
    public Integer call() throws Exception {
        return switch (format.toLowerCase(Locale.ROOT)) {
            case "gguf" -> gguf();
            case "hf" -> hf();
            default -> throw new ConfigException("unknown --format " + format, "use gguf or hf");
        };
    }

    private int gguf() throws IOException {
        int t = switch (type.toLowerCase(Locale.ROOT)) {
            case "f32" -> Gguf.F32;
            case "f16" -> Gguf.F16;
            default -> throw new ConfigException("unknown --type " + type + " for --format gguf",
                    "use f32 or f16 (bf16 with --format hf; Q8_0/Q4_0 come with `llmkit quantize`)");
        };
        if (Files.exists(out) && !force) throw new ConfigException(out + " already exists", "pass --force to replace it");
        Checkpoint.Loaded m = ModelCommand.load(model);     // a checkpoint or LoRA adapter directory (merged into its base)
        GgufModel.export(m.weights(), m.tokenizer(), out, t, name != null ? name : model.toAbsolutePath().normalize().getFileName().toString(),
                m.chatTemplate());
        System.out.printf(Locale.ROOT, "exported %s (%s, %.1f MB)%n", out, type.toUpperCase(Locale.ROOT), Files.size(out) / 1e6);
        return ExitCodes.OK;
    }

    private int hf() throws IOException {
        GgmlType t = HfModel.TYPES.stream().filter(x -> x.name().equalsIgnoreCase(type)).findFirst()
                .orElseThrow(() -> new ConfigException("unknown --type " + type + " for --format hf",
                        "use f32, f16 or bf16 (transformers' safetensors hold no GGML block types; quantized GGUF files come with `llmkit quantize`)"));
        checkOut();
        Checkpoint.Loaded m = ModelCommand.load(model);
        boolean dir = Files.isDirectory(model), lora = dir && dev.llmkit.trainer.Adapters.isAdapter(model);
        String title = name != null ? name : out.toAbsolutePath().normalize().getFileName().toString();
        String card = ModelCard.render(title, m.weights().config(), t, m.chatTemplate() != null, dir ? model.toRealPath() : null, lora);
        HfModel.export(m, dir ? model.resolve("tokenizer.json") : null, out, t, true,
                staging -> Files.writeString(staging.resolve("README.md"), card, StandardCharsets.UTF_8));
        System.out.printf(Locale.ROOT, "exported %s (Hugging Face Transformers, %s, %.1f MB)%n", out, t,
                Files.size(out.resolve("model.safetensors")) / 1e6);
        return ExitCodes.OK;
    }

    /** An existing output must be an empty directory, or be replaced with --force; never the model itself or a directory holding it. */
    private void checkOut() throws IOException {
        if (!Files.exists(out)) return;
        Path outReal = out.toRealPath();
        if (Files.exists(model) && model.toRealPath().startsWith(outReal)) {
            throw new ConfigException("--out " + out + " holds the model " + model + " (replacing it would delete the model)", "export to another directory");
        }
        if (force) return;
        boolean empty = false;
        if (Files.isDirectory(out)) {
            try (Stream<Path> s = Files.list(out)) {
                empty = s.findAny().isEmpty();
            }
        }
        if (!empty) throw new ConfigException(out + " already exists" + (Files.isDirectory(out) ? " and is not empty" : ""), "pass --force to replace it");
    }
}
