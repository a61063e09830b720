package dev.llmkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.model.HfModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.quant.GgmlType;
import dev.llmkit.trainer.TrainerState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * README.md of a Hugging Face export: YAML front matter for the Hub, the architecture's figures, and
 * the training figures the checkpoint directory records (provenance.json, trainer-state/state.json).
 * Only what those files say: a figure they lack is left out, never estimated.
 */
final class ModelCard {
    private ModelCard() {}

    /**
     * @param checkpoint the checkpoint (or LoRA adapter) directory the model came from; null for a GGUF file
     * @param lora       whether the weights are a base with LoRA adapters merged in
     */
    static String render(String name, ModelConfig c, GgmlType type, boolean chat, Path checkpoint, boolean lora) {
        StringBuilder sb = new StringBuilder();
        // 1. Front matter and summary.
        sb.append("---\nlibrary_name: transformers\npipeline_tag: text-generation\ntags:\n- llmkit\n- llama\n- text-generation\n");
        if (chat) sb.append("- conversational\n");
        sb.append("---\n\n# ").append(name).append("\n\n");
        sb.append("A Llama-style causal language model (`LlamaForCausalLM`) exported by llmkit")
                .append(checkpoint == null ? " from a GGUF file" : " from the checkpoint `" + checkpoint.getFileName() + "`")
                .append(lora ? ", with its LoRA adapters merged into the base weights (W + alpha/r B A)" : "").append(".\n\n");
        // 2. Architecture.
        sb.append("## Architecture\n\n| | |\n|---|---|\n");
        row(sb, "parameters", String.format(Locale.ROOT, "%,d (%s)", c.parameters(), approx(c.parameters())));
        row(sb, "layers", Integer.toString(c.nLayers()));
        row(sb, "hidden size", Integer.toString(c.dim()));
        row(sb, "MLP size", c.hiddenDim() + " (SwiGLU)");
        row(sb, "attention heads", c.nHeads() + " (" + c.nKvHeads() + " key/value heads, head size " + c.headDim() + ")");
        row(sb, "vocabulary", String.format(Locale.ROOT, "%,d tokens (byte-level BPE)", c.vocabSize()));
        row(sb, "context", String.format(Locale.ROOT, "%,d tokens (rotary, theta %s)", c.contextLength(), plain(c.ropeTheta())));
        row(sb, "normalisation", "RMSNorm, eps " + plain(c.normEps()));
        row(sb, "embeddings", c.tiedEmbeddings() ? "tied (input = output)" : "untied");
        row(sb, "weights", HfModel.torchDtype(type) + " (model.safetensors)");
        // 3. Training, as the checkpoint records it.
        if (checkpoint != null) training(sb, checkpoint);
        // 4. Usage.
        sb.append("\n## Usage\n\n```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n\n")
                .append("tok = AutoTokenizer.from_pretrained(\"").append(name).append("\")\n")
                .append("model = AutoModelForCausalLM.from_pretrained(\"").append(name).append("\")\n");
        if (chat) {
            sb.append("ids = tok.apply_chat_template([{\"role\": \"user\", \"content\": \"Hello\"}], add_generation_prompt=True, return_tensors=\"pt\")\n")
                    .append("print(tok.decode(model.generate(ids, max_new_tokens=40)[0][ids.shape[1]:], skip_special_tokens=True))\n");
        } else {
            sb.append("ids = tok(\"Once upon a time\", return_tensors=\"pt\").input_ids\n")
                    .append("print(tok.decode(model.generate(ids, max_new_tokens=40)[0]))\n");
        }
        sb.append("```\n");
        return sb.toString();
    }

    /** The training section: provenance.json (stage, settings, inputs) and trainer-state/state.json (progress). */
    private static void training(StringBuilder sb, Path dir) {
        JsonNode prov = readJson(dir.resolve("provenance.json"));
        Path statePath = dir.resolve("trainer-state/state.json");
        TrainerState st = Files.isRegularFile(statePath) ? TrainerState.read(statePath) : null;
        if (prov == null && st == null) return;
        sb.append("\n## Training\n\n");
        if (prov != null) {
            String stage = prov.path("stage").asText("");
            sb.append("Stage: `").append(stage).append("`").append(stage.equals("model.init") ? " (randomly initialised, not trained)" : "")
                    .append(prov.path("versions").has("llmkit") ? ", llmkit " + prov.path("versions").path("llmkit").asText() : "").append(".\n\n");
        }
        if (st != null) {
            sb.append("| | |\n|---|---|\n");
            row(sb, "steps", st.step() + (st.loop() != null ? " of " + st.loop().steps() : ""));
            row(sb, "tokens seen", String.format(Locale.ROOT, "%,d", st.tokensSeen()));
            row(sb, "training time", duration(st.elapsedSeconds()));
            if (!Double.isNaN(st.bestValLoss())) row(sb, "best validation loss", String.format(Locale.ROOT, "%.4f (step %d)", st.bestValLoss(), st.bestStep()));
            if (st.skippedSteps() > 0) row(sb, "skipped steps (non-finite)", Long.toString(st.skippedSteps()));
            sb.append('\n');
        }
        if (prov != null && prov.path("config").isObject() && !prov.path("config").isEmpty()) {
            sb.append("Settings (provenance.json):\n\n| key | value |\n|---|---|\n");
            flatten(sb, "", prov.get("config"));
            sb.append('\n');
        }
        if (prov != null && prov.path("inputs").isArray() && !prov.path("inputs").isEmpty()) {
            sb.append("Inputs:\n\n| file | sha256 |\n|---|---|\n");
            for (JsonNode in : prov.get("inputs")) row(sb, "`" + in.path("path").asText() + "`", "`" + in.path("sha256").asText() + "`");
        }
    }

    /** One table row per scalar of the config, with dotted keys; the model section is the architecture above. */
    private static void flatten(StringBuilder sb, String prefix, JsonNode n) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (prefix.isEmpty() && e.getKey().equals("model") && e.getValue().isObject()) continue;
            String key = prefix + e.getKey();
            if (e.getValue().isObject()) flatten(sb, key + ".", e.getValue());
            else row(sb, "`" + key + "`", e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
        }
    }

    private static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) return null;
        try {
            return Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new DataException(file + ": not valid JSON: " + e.getMessage(), "the checkpoint directory is damaged", e);
        }
    }

    private static void row(StringBuilder sb, String key, String value) {
        sb.append("| ").append(key).append(" | ").append(value.replace("|", "\\|").replace('\n', ' ')).append(" |\n");
    }

    private static String approx(long n) {
        return n >= 1_000_000_000L ? String.format(Locale.ROOT, "%.2fB", n / 1e9)
                : n >= 1_000_000 ? String.format(Locale.ROOT, "%.1fM", n / 1e6) : String.format(Locale.ROOT, "%.1fK", n / 1e3);
    }

    private static String duration(double s) {
        return s < 120 ? String.format(Locale.ROOT, "%.1f s", s) : s < 7200 ? String.format(Locale.ROOT, "%.1f min", s / 60) : String.format(Locale.ROOT, "%.1f h", s / 3600);
    }

    /** A float as its shortest plain decimal (0.00001, not 1.0E-5). */
    private static String plain(float f) {
        return new java.math.BigDecimal(Float.toString(f)).stripTrailingZeros().toPlainString();
    }
}
