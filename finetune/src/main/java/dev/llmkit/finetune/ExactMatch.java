package dev.llmkit.finetune;

import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.ChatMessage;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.eval.engine.LanguageModel;
import dev.llmkit.eval.engine.State;
import dev.llmkit.finetune.data.Conversation;
import java.util.ArrayList;
import java.util.List;

/**
 * Generation-based exact match: each conversation's last assistant turn is the reference; the model
 * answers the turns before it greedily, through the chat template (stopping at {@code <|im_end|>}),
 * or, {@code raw}, from the plain text of the last user turn followed by a space (stopping at a
 * newline or {@code <|endoftext|>}): how a base model that never saw the template is asked.
 * Answers and references are compared after {@link #normalize}: exact match, and "contains" (the
 * reference appears in the answer).
 */
public final class ExactMatch {
    /** Scores, and the first few (question, reference, answer) triples. */
    public record Score(int n, int exact, int contains, int matched, List<String[]> samples, double seconds) {
        public double exactRate() {
            return n == 0 ? Double.NaN : (double) exact / n;
        }

        public double containsRate() {
            return n == 0 ? Double.NaN : (double) contains / n;
        }

        /** Share of answers in which the {@code match} pattern was found (NaN without one). */
        public double matchRate() {
            return n == 0 || matched < 0 ? Double.NaN : (double) matched / n;
        }
    }

    private ExactMatch() {}

    public static Score score(Weights w, Tokenizer tok, List<Conversation> convs, String systemPrompt, int maxTokens, int threads, boolean raw) {
        return score(w, tok, convs, systemPrompt, maxTokens, threads, raw, null);
    }

    /** As {@link #score(Weights, Tokenizer, List, String, int, int, boolean)}, also counting the answers in which {@code match} is found. */
    public static Score score(Weights w, Tokenizer tok, List<Conversation> convs, String systemPrompt, int maxTokens, int threads, boolean raw,
                              java.util.regex.Pattern match) {
        if (!raw) ChatTemplate.require(tok);
        int imEnd = raw ? -1 : tok.addedId(ChatTemplate.IM_END);
        int eot = tok.eotId();
        int exact = 0, contains = 0, matched = match == null ? -1 : 0;
        List<String[]> samples = new ArrayList<>();
        long t0 = System.nanoTime();
        try (State engine = LanguageModel.of(w, tok, null).newState(w.config().contextLength(), threads)) {
            int ctx = engine.capacity();
            for (Conversation c : convs) {
                List<ChatMessage> msgs = SftExamples.withSystem(c.messages(), systemPrompt);
                String reference = msgs.get(msgs.size() - 1).content();
                List<ChatMessage> prompt = msgs.subList(0, msgs.size() - 1);
                int[] ids = raw ? tok.encode(lastUser(prompt) + " ", false) : ChatTemplate.render(tok, prompt, true).tokens();
                String answer = "";
                if (ids.length > 0 && ids.length < ctx) answer = greedy(engine, tok, ids, Math.min(maxTokens, ctx - ids.length), imEnd, eot, raw);
                String a = normalize(answer), r = normalize(reference);
                if (a.equals(r)) exact++;
                if (!r.isEmpty() && a.contains(r)) contains++;
                if (match != null && match.matcher(answer).find()) matched++;
                if (samples.size() < 5) samples.add(new String[] {prompt.isEmpty() ? "" : prompt.get(prompt.size() - 1).content(), reference, answer});
            }
        }
        return new Score(convs.size(), exact, contains, matched, samples, (System.nanoTime() - t0) / 1e9);
    }

    private static String lastUser(List<ChatMessage> prompt) {
        for (int i = prompt.size() - 1; i >= 0; i--) if (prompt.get(i).role().equals(ChatMessage.USER)) return prompt.get(i).content();
        return "";
    }

    /** Greedy decoding from a prompt until a stop token, a newline (raw) or maxTokens. */
    private static String greedy(State engine, Tokenizer tok, int[] ids, int maxTokens, int imEnd, int eot, boolean raw) {
        engine.rewind(0);
        float[] logits = engine.prefill(ids, 0, ids.length);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int n = 0; n < maxTokens; n++) {
            int best = 0;
            for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
            if (best == imEnd || best == eot) break;
            byte[] b = tok.tokenBytes(best);
            int nl = raw ? indexOf(b, (byte) '\n') : -1;     // a raw answer ends at its line
            if (nl >= 0) {
                out.write(b, 0, nl);
                break;
            }
            out.writeBytes(b);
            if (n + 1 < maxTokens) logits = engine.decode(best);
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static int indexOf(byte[] b, byte v) {
        for (int i = 0; i < b.length; i++) if (b[i] == v) return i;
        return -1;
    }

    /** Whitespace trimmed and collapsed to single spaces, one trailing period removed; case kept. */
    public static String normalize(String s) {
        String x = s.strip().replaceAll("\\s+", " ");
        if (x.endsWith(".")) x = x.substring(0, x.length() - 1).stripTrailing();
        return x;
    }
}
