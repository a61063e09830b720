package dev.llmkit.core.config;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.quant.QuantPlan;
import java.util.List;

/**
 * {@code pipeline}: where {@code llmkit pipeline run} takes its data from and what its last stages do.
 *
 * @param inputs       RedPajama-style shards (files or directories) for 00-corpus; empty = synthesize the
 *                     biographies of {@code data.synth} into raw/
 * @param finetuneData Q&amp;A or conversation files for 04-finetune; empty = the synthesized fine-tuning
 *                     Q&amp;A when there are no inputs, no fine-tuning stage otherwise
 * @param quantize     GGUF presets 05-quantize writes (q8_0, q4_k_m, ...); empty = no quantization stage
 * @param evalTasks    tasks for 06-eval (presets, preset:PATH, YAML files); empty = biography Q&amp;A of the
 *                     fine-tuning and held-out people on synthesized data, the run's own validation tokens otherwise
 * @param evalLimit    documents per task at most; 0 = all
 */
public record PipelineConfig(List<String> inputs, List<String> finetuneData, List<String> quantize, List<String> evalTasks, int evalLimit) {
    public PipelineConfig {
        inputs = List.copyOf(inputs);
        finetuneData = List.copyOf(finetuneData);
        quantize = List.copyOf(quantize);
        evalTasks = List.copyOf(evalTasks);
        for (String t : quantize) {
            try {
                QuantPlan.Preset.parse(t);
            } catch (ConfigException e) {
                throw new ConfigException("pipeline.quantize: " + e.getMessage(), e.hint());
            }
        }
        Checks.require(evalLimit >= 0, "eval_limit", evalLimit, "must be >= 0 (0 = all)");
    }

    /** True when the corpus is synthesized (no {@code inputs}). */
    public boolean synthetic() {
        return inputs.isEmpty();
    }

    public static PipelineConfig defaults() {
        return new PipelineConfig(List.of(), List.of(), List.of("q8_0", "q4_k_m"), List.of(), 200);
    }
}
