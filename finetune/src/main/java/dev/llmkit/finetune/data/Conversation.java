package dev.llmkit.finetune.data;

import dev.llmkit.core.tokenizer.ChatMessage;
import java.util.List;
import java.util.Objects;

/**
 * One supervised fine-tuning example: its turns in order and where it came from, {@code file:line}
 * (1-based line of a JSON Lines record or of the first line of a CSV row) or {@code file:[index]}
 * (0-based element of a JSON array). {@link SftReader} only produces conversations that end with a
 * non-empty assistant turn.
 */
public record Conversation(List<ChatMessage> messages, String source) {
    public Conversation {
        Objects.requireNonNull(messages, "messages");
        Objects.requireNonNull(source, "source");
        if (messages.isEmpty()) throw new IllegalArgumentException("a conversation needs at least one message (" + source + ")");
        messages = List.copyOf(messages);
    }
}
