package dev.llmkit.core.tokenizer;

import java.util.Objects;

/**
 * One turn of a conversation: {@code role} is system, user or assistant; {@code content} its text.
 */
public record ChatMessage(String role, String content) {
    public static final String SYSTEM = "system", USER = "user", ASSISTANT = "assistant";

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (!role.equals(SYSTEM) && !role.equals(USER) && !role.equals(ASSISTANT)) {
            throw new IllegalArgumentException("unknown role '" + role + "' (system, user or assistant)");
        }
    }
}
