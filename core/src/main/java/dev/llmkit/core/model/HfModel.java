package dev.llmkit.core.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.Json;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.io.Safetensors;
import dev.llmkit.core.quant.GgmlType;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import dev.llmkit.core.util.Text;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * A model as a Hugging Face Transformers directory that {@code AutoModelForCausalLM.from_pretrained}
 * and {@code AutoTokenizer.from_pretrained} load as they are:
 *
 * <pre>
 * config.json              LlamaForCausalLM, as a checkpoint's (torch_dtype = the tensors' type)
 * generation_config.json   bos/eos token ids (a chat model also stops at &lt;|im_end|&gt;, as llmkit chat does)
 * model.safetensors        Hugging Face names, q/k rows in rotate-half order, all F32, F16 or BF16
 * tokenizer.json           the model's own (a verbatim copy when there is a file)
 * tokenizer_config.json    special tokens, model_max_length, the chat template when there is one
 * special_tokens_map.json  the special tokens again, for older transformers
 * </pre>
 *
 * Built in a staging directory and renamed into place, so the directory is complete or absent.
 */
public final class HfModel {
    private HfModel() {}

    /** The tensor types a Hugging Face export holds. */
    public static final List<GgmlType> TYPES = List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16);

    /** PyTorch's name of a type (config.json's torch_dtype). */
    public static String torchDtype(GgmlType type) {
        return switch (type) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> throw new IllegalArgumentException(type + " is not a Hugging Face tensor type (F32, F16, BF16)");
        };
    }

    /**
     * Writes the directory {@code dir} (replaced when {@code overwrite}, else it must not exist).
     *
     * @param tokenizerJson the model's tokenizer.json, copied verbatim when it is the file
     *                      {@code m.tokenizer()} was read from (same sha256); otherwise (null, another
     *                      file) tokenizer.json is written from the tokenizer
     * @param extra         writes more files into the staging directory (a model card); may be null
     */
    public static void export(Checkpoint.Loaded m, Path tokenizerJson, Path dir, GgmlType type, boolean overwrite, Checkpoint.Extra extra) {
        String dtype = torchDtype(type);
        Weights w = m.weights();
        Tokenizer tok = m.tokenizer();
        Path staging = AtomicFiles.beginDir(dir, overwrite);
        try {
            // 1. The model: config.json and the tensors, both as a checkpoint writes them.
            Json.write(staging.resolve("config.json"), Checkpoint.hfConfig(w.config(), tok, dtype));
            Json.write(staging.resolve("generation_config.json"), generationConfig(tok, m.chatTemplate() != null));
            Safetensors.write(staging.resolve("model.safetensors"), Checkpoint.hfTensors(w), Map.of("format", "pt"), type);
            // 2. The tokenizer: its own file, then the special tokens and the chat template.
            if (tokenizerJson != null && Files.isRegularFile(tokenizerJson) && Text.sha256(tokenizerJson).equals(tok.sha256())) {
                Files.copy(tokenizerJson, staging.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            } else {
                AtomicFiles.write(staging.resolve("tokenizer.json"), TokenizerJson.toBytes(tok));
            }
            ObjectNode tc = ChatTemplate.tokenizerConfig(tok, w.config().contextLength(), m.chatTemplate());
            AtomicFiles.write(staging.resolve(ChatTemplate.TOKENIZER_CONFIG), ChatTemplate.pretty(tc));
            AtomicFiles.write(staging.resolve("special_tokens_map.json"), ChatTemplate.pretty(ChatTemplate.specialTokensMap(tc)));
            if (extra != null) extra.write(staging);
            AtomicFiles.commitDir(staging, dir);
        } catch (IOException e) {
            AtomicFiles.abortDir(staging);
            throw new StorageException(dir + ": cannot write: " + e.getMessage(), "check that the directory is writable and the disk is not full", e);
        } catch (RuntimeException e) {
            AtomicFiles.abortDir(staging);
            throw e;
        }
    }

    /**
     * generation_config.json: {@code <|endoftext|>} as bos and eos (config.json's ids); a chat model
     * also ends at {@code <|im_end|>}, which closes every answer it was trained on. Nothing else: no
     * sampling settings llmkit did not choose.
     */
    static ObjectNode generationConfig(Tokenizer tok, boolean chat) {
        ObjectNode n = new ObjectMapper().createObjectNode();
        int eot = tok.eotId(), imEnd = chat ? tok.addedId(ChatTemplate.IM_END) : -1;
        if (eot >= 0) n.put("bos_token_id", eot);
        if (imEnd >= 0 && eot >= 0) n.putArray("eos_token_id").add(imEnd).add(eot);
        else if (imEnd >= 0 || eot >= 0) n.put("eos_token_id", Math.max(imEnd, eot));
        return n;
    }
}
