package dev.llmkit.finetune;

import dev.llmkit.core.DataException;
import dev.llmkit.core.tokenizer.ChatMessage;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.util.Text;
import dev.llmkit.finetune.data.Conversation;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Conversations rendered through the chat template into token sequences with loss weights (1 on
 * assistant answers and the {@code <|im_end|>} closing them), split into training and validation by
 * a hash of their turns (the same conversation lands on the same side whatever the order, the seed,
 * the system prompt or the other files). A conversation longer than {@code seqLen + 1} tokens keeps
 * its leading turns up to the last assistant turn that fits; when not even its first answer fits, it
 * is dropped and counted.
 */
public final class SftExamples {
    /** One rendered example: {@code tokens[i]} is predicted with weight {@code weights[i]} from tokens[0..i). */
    public record Example(int[] tokens, float[] weights, Conversation conversation) {
        public int answerTokens() {
            int n = 0;
            for (float w : weights) if (w != 0f) n++;
            return n;
        }
    }

    /** The split, and what was cut or dropped (with up to 10 example sources). */
    public record Split(List<Example> train, List<Example> val, long truncated, long dropped, List<String> droppedExamples,
                        long trainAnswerTokens, long valAnswerTokens) {}

    private SftExamples() {}

    public static Split build(List<Conversation> conversations, Tokenizer tok, int seqLen, double valFraction, String systemPrompt) {
        List<Example> train = new ArrayList<>(), val = new ArrayList<>();
        List<String> droppedEx = new ArrayList<>();
        long truncated = 0, dropped = 0, trainAns = 0, valAns = 0;
        for (Conversation c : conversations) {
            List<ChatMessage> msgs = withSystem(c.messages(), systemPrompt);
            ChatTemplate.Rendered r = ChatTemplate.render(tok, msgs, false);
            if (r.tokens().length > seqLen + 1) {
                r = unweightedTailCut(r, seqLen + 1) != null ? unweightedTailCut(r, seqLen + 1) : leadingTurns(tok, msgs, seqLen + 1);
                if (r == null) {
                    dropped++;
                    if (droppedEx.size() < 10) droppedEx.add(c.source() + ": " + ChatTemplate.render(tok, msgs, false).tokens().length + " tokens");
                    continue;
                }
                truncated++;
            }
            Example e = new Example(r.tokens(), r.weights(), c);
            if (isValidation(c.messages(), valFraction)) {
                val.add(e);
                valAns += e.answerTokens();
            } else {
                train.add(e);
                trainAns += e.answerTokens();
            }
        }
        if (train.isEmpty() || trainAns == 0) {
            throw new DataException("no training example has an answer token left: " + conversations.size() + " conversations, " + dropped
                    + " dropped because seq_len " + seqLen + " cuts their answer" + (droppedEx.isEmpty() ? "" : " (e.g. " + droppedEx.get(0) + ")")
                    + ", " + val.size() + " in validation", "raise finetune.seq_len (up to the model's context_length), or lower finetune.val_fraction");
        }
        return new Split(train, val, truncated, dropped, droppedEx, trainAns, valAns);
    }

    /** The rendering cut to max tokens when nothing it loses carries a loss weight (the newline after the last turn), else null. */
    private static ChatTemplate.Rendered unweightedTailCut(ChatTemplate.Rendered r, int max) {
        for (int i = max; i < r.tokens().length; i++) if (r.weights()[i] != 0f) return null;
        return new ChatTemplate.Rendered(java.util.Arrays.copyOf(r.tokens(), max), java.util.Arrays.copyOf(r.weights(), max));
    }

    /**
     * A conversation too long for a row, cut at a turn boundary: its longest prefix that ends with an
     * assistant turn and fits in {@code max} tokens (the later turns are left out); null when not even
     * the first answer fits.
     */
    private static ChatTemplate.Rendered leadingTurns(Tokenizer tok, List<ChatMessage> msgs, int max) {
        for (int k = msgs.size() - 2; k >= 1; k--) {
            if (!msgs.get(k).role().equals(ChatMessage.ASSISTANT)) continue;
            ChatTemplate.Rendered r = ChatTemplate.render(tok, msgs.subList(0, k + 1), false);
            if (r.tokens().length <= max) return r;
        }
        return null;
    }

    /** The conversation with the system prompt first, unless it has a system message or the prompt is empty. */
    static List<ChatMessage> withSystem(List<ChatMessage> msgs, String systemPrompt) {
        if (systemPrompt.isEmpty() || msgs.get(0).role().equals(ChatMessage.SYSTEM)) return msgs;
        List<ChatMessage> all = new ArrayList<>(msgs.size() + 1);
        all.add(new ChatMessage(ChatMessage.SYSTEM, systemPrompt));
        all.addAll(msgs);
        return all;
    }

    /** Whether a conversation is in the validation split: the first 8 bytes of the sha256 of its turns, as a fraction of 2^64. */
    public static boolean isValidation(List<ChatMessage> msgs, double fraction) {
        if (fraction <= 0) return false;
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : msgs) sb.append(m.role()).append('\u0000').append(m.content()).append('\u0001');
        byte[] h = Text.newSha256().digest(sb.toString().getBytes(StandardCharsets.UTF_8));
        long x = 0;
        for (int i = 0; i < 8; i++) x = (x << 8) | (h[i] & 0xFF);
        double u = (x >>> 11) * 0x1.0p-53;
        return u < fraction;
    }
}
