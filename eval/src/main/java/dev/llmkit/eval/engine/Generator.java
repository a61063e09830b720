package dev.llmkit.eval.engine;

import dev.llmkit.core.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/** Prompt in, streamed text out: prefill, then sample token by token until a stop condition. */
public final class Generator {
    public record Options(int maxTokens, Sampler.Params sampling, List<String> stop, boolean stopAtEot) {}

    public record Result(int[] promptTokens, int[] generated, String text, String stopReason, double prefillSeconds, double decodeSeconds) {
        public double prefillTokensPerSecond() {
            return promptTokens.length / Math.max(1e-9, prefillSeconds);
        }

        public double decodeTokensPerSecond() {
            return generated.length / Math.max(1e-9, decodeSeconds);
        }
    }

    private Generator() {}

    /**
     * Runs {@code prompt} (with special tokens recognised) from the start of {@code state} (rewound to
     * position 0) and streams decoded text to {@code out}.
     */
    public static Result generate(State state, Tokenizer tok, String prompt, Options o, Consumer<String> out) {
        int[] promptIds = tok.encode(prompt, true);
        if (promptIds.length == 0) promptIds = new int[] {Math.max(0, tok.eotId())};
        int ctx = state.capacity();
        state.rewind(0);
        if (promptIds.length >= ctx) {
            throw new dev.llmkit.core.ConfigException("the prompt has " + promptIds.length + " tokens; the context length is " + ctx,
                    "shorten the prompt");
        }
        int[] history = Arrays.copyOf(promptIds, (int) Math.min(ctx, promptIds.length + (long) Math.max(0, o.maxTokens())));
        // 1. Prefill: every prompt token through the model; logits only for the last.
        long t0 = System.nanoTime();
        float[] logits = state.prefill(promptIds, 0, promptIds.length);
        long t1 = System.nanoTime();
        // 2. Decode.
        Sampler sampler = new Sampler(o.sampling(), logits.length);
        StreamText text = new StreamText(tok, out);
        int pos = promptIds.length, n = 0;
        String reason = "max_tokens";
        while (n < o.maxTokens()) {
            if (pos >= ctx) {
                reason = "context_length";
                break;
            }
            requireFinite(logits, pos);
            int next = sampler.next(logits, history, pos);
            if (o.stopAtEot() && next == tok.eotId()) {
                reason = "end_of_text";
                break;
            }
            history[pos] = next;
            n++;
            if (text.add(next, o.stop())) {
                reason = "stop_string";
                break;
            }
            if (n < o.maxTokens() && pos + 1 < ctx) logits = state.decode(next);
            pos++;
        }
        text.flush();
        long t2 = System.nanoTime();
        return new Result(promptIds, Arrays.copyOfRange(history, promptIds.length, promptIds.length + n), text.text(), reason,
                (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }

    /** Emits text as soon as its UTF-8 bytes are complete; finds stop strings. */
    private static final class StreamText {
        private final Tokenizer tok;
        private final Consumer<String> out;
        private final StringBuilder all = new StringBuilder();
        private byte[] pending = new byte[0];
        private int emitted;

        StreamText(Tokenizer tok, Consumer<String> out) {
            this.tok = tok;
            this.out = out;
        }

        /** Adds a token; true when a stop string appeared (the text is cut before it). */
        boolean add(int id, List<String> stops) {
            byte[] b = tok.tokenBytes(id);
            byte[] p = Arrays.copyOf(pending, pending.length + b.length);
            System.arraycopy(b, 0, p, pending.length, b.length);
            int complete = completePrefix(p);
            all.append(new String(p, 0, complete, StandardCharsets.UTF_8));
            pending = Arrays.copyOfRange(p, complete, p.length);
            for (String s : stops) {
                int i = all.indexOf(s);
                if (i >= 0) {
                    all.setLength(i);
                    emit(all.length());
                    return true;
                }
            }
            // Hold back what could still become the start of a stop string.
            int hold = 0;
            for (String s : stops) hold = Math.max(hold, s.length() - 1);
            emit(Math.max(emitted, all.length() - hold));
            return false;
        }

        void flush() {
            if (pending.length > 0) all.append(new String(pending, StandardCharsets.UTF_8));
            pending = new byte[0];
            emit(all.length());
        }

        private void emit(int upTo) {
            if (upTo > emitted) {
                out.accept(all.substring(emitted, upTo));
                emitted = upTo;
            }
        }

        String text() {
            return all.toString();
        }
    }

    /** Length of the longest prefix of b that does not end inside a UTF-8 sequence (what can be printed now). */
    public static int completePrefix(byte[] b) {
        int n = b.length, i = n - 1, back = 0;
        while (i >= 0 && back < 3 && (b[i] & 0xC0) == 0x80) {
            i--;
            back++;
        }
        if (i < 0) return n;
        int lead = b[i] & 0xFF, need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return n - i >= need ? n : i;
    }

    /**
     * Logits with a NaN or +infinity mean the model's arithmetic overflowed (weights refused at load
     * are finite): an error naming the position rather than a token chosen from garbage. One vectorised
     * pass over the vocabulary, small beside the forward pass that made them.
     */
    static void requireFinite(float[] logits, int pos) {
        if (!Float.isFinite(Elementwise.max(logits, 0, logits.length))) {      // max propagates NaN (both versions)
            int bad = 0;
            while (bad < logits.length - 1 && !Float.isNaN(logits[bad]) && logits[bad] != Float.POSITIVE_INFINITY) bad++;
            throw new dev.llmkit.core.DataException("the model's logits at position " + pos + " are not finite (logit " + bad + " is " + logits[bad] + ")",
                    "its activations overflowed: check the checkpoint (llmkit eval with a perplexity task) or the quantized file");
        }
    }
}
