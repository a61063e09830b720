package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.trainer.Adapters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llmkit finetune export-lora}: a LoRA adapter directory as a GGUF adapter for llama.cpp's --lora. */
@Command(name = "export-lora", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write a LoRA adapter directory (a `finetune --lora` checkpoint) as a GGUF LoRA adapter: llama.cpp applies it to the base's "
                + "GGUF (`llmkit export --model BASE`) with `--lora FILE.gguf`, giving what the merged model gives.",
        footer = {"", "Example:", "  llmkit finetune export-lora --adapter runs/demo/04-lora/final --out runs/demo/lora.gguf",
                "  llama-cli -m runs/demo/base-f32.gguf --lora runs/demo/lora.gguf ...", "", ExitCodes.HELP})
public final class FinetuneExportLoraCommand implements Callable<Integer> {
    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "Adapter directory (a LoRA run's checkpoint).")
    Path adapter;

    @Option(names = "--base", paramLabel = "DIR", description = "Base checkpoint (default: base_model_name_or_path of adapter_config.json).")
    Path base;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "Output .gguf file.")
    Path out;

    @Option(names = "--force", description = "Replace the output file if it exists.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        if (!Adapters.isAdapter(adapter)) throw new ConfigException(adapter + " is not an adapter directory (no " + Adapters.CONFIG + ")", "pass a LoRA run's checkpoint");
        if (Files.exists(out) && !force) throw new ConfigException(out + " already exists", "pass --force to replace it");
        Path b = Adapters.base(adapter, base);
        Adapters.exportGguf(adapter, b.resolve("config.json"), out, adapter.toAbsolutePath().normalize().getFileName().toString());
        System.out.printf(Locale.ROOT, "exported %s (GGUF LoRA adapter for the base %s, %.1f MB)%n", out, b, Files.size(out) / 1e6);
        return ExitCodes.OK;
    }
}
