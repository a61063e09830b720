package dev.llmkit.eval.engine;

import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.Tokenizer;

/**
 * A model that generation, chat and scoring run on: its config, its tokenizer (and chat template, when
 * it has one), and sequence states, whatever its weights' storage (F32 or any GGML block type).
 */
public interface LanguageModel {
    ModelConfig config();

    Tokenizer tokenizer();

    /** The Jinja chat template the model was fine-tuned with, or null. */
    String chatTemplate();

    /** A new sequence with room for {@code capacity} positions (at most the context length), on {@code threads} threads. */
    State newState(int capacity, int threads);

    /** The pure-Java engine on these weights. */
    static LanguageModel of(Checkpoint.Loaded m) {
        return of(m.weights(), m.tokenizer(), m.chatTemplate());
    }

    static LanguageModel of(Weights w, Tokenizer tok, String chatTemplate) {
        return new LanguageModel() {
            @Override public ModelConfig config() { return w.config(); }
            @Override public Tokenizer tokenizer() { return tok; }
            @Override public String chatTemplate() { return chatTemplate; }
            @Override public State newState(int capacity, int threads) { return new LlamaEngine(w, threads, capacity); }
        };
    }
}
