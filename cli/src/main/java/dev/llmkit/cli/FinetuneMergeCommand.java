package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.util.Text;
import dev.llmkit.trainer.Adapters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llmkit finetune merge}: a LoRA adapter folded into its base, written as a plain checkpoint. */
@Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Merge a LoRA adapter directory (adapter_model.safetensors + adapter_config.json, Hugging Face PEFT format) into its base "
                + "model: W' = W + (lora_alpha / r) B A for every adapted projection. Writes a plain checkpoint (config.json, model.safetensors, "
                + "tokenizer.json and tokenizer_config.json of the adapter) that every later stage reads.",
        footer = {"", "Example:", "  llmkit finetune merge --adapter runs/demo/04-lora/final --out runs/demo/04-lora-merged", "", ExitCodes.HELP})
public final class FinetuneMergeCommand implements Callable<Integer> {
    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "Adapter directory (a LoRA run's checkpoint).")
    Path adapter;

    @Option(names = "--base", paramLabel = "DIR", description = "Base checkpoint (default: base_model_name_or_path of adapter_config.json).")
    Path base;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Output checkpoint directory.")
    Path out;

    @Option(names = "--force", description = "Replace the output directory if it exists.")
    boolean force;

    @Override
    public Integer call() {
        if (!Adapters.isAdapter(adapter)) throw new ConfigException(adapter + " is not an adapter directory (no " + Adapters.CONFIG + ")", "pass a LoRA run's checkpoint");
        if (Files.exists(out) && !force) throw new ConfigException(out + " already exists", "pass --force to replace it");
        Path b = Adapters.base(adapter, base);
        Checkpoint.Loaded m = Adapters.loadMerged(adapter, b);
        Path w = adapter.resolve(Adapters.WEIGHTS);
        Provenance prov = new Provenance("finetune.merge", Provenance.versions(Map.of()),
                List.of(Provenance.InputRef.of(b.resolve("model.safetensors"), Text.sha256(b.resolve("model.safetensors"))), Provenance.InputRef.of(w, Text.sha256(w))),
                Map.of("adapter", adapter.toString(), "base", b.toString()), Text.sha256((adapter + "\n" + b).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        Checkpoint.write(out, m.weights(), adapter.resolve("tokenizer.json"), prov, force);
        System.out.println("merged " + adapter + " into " + b + ": " + out + (m.chatTemplate() != null && Files.exists(out.resolve(ChatTemplate.TOKENIZER_CONFIG)) ? " (with its chat template)" : ""));
        return ExitCodes.OK;
    }
}
