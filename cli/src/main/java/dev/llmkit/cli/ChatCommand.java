package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.tokenizer.ChatMessage;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.eval.engine.LanguageModel;
import dev.llmkit.eval.engine.State;
import dev.llmkit.eval.engine.Sampler;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llmkit chat}: a conversation with a fine-tuned model through its chat template. */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Chat with a fine-tuned model (checkpoint directory or GGUF with a ChatML chat template) on the pure-Java engine. "
                + "On a terminal: type a message, the answer streams as it is generated; the conversation is kept while it fits the "
                + "context (the oldest turns are dropped first); /reset starts over, /exit (or end of input) quits. With --prompt, or "
                + "with a message on standard input when it is not a terminal: one answer, then exit. The KV cache is reused across turns.",
        footer = {"", "Examples:", "  llmkit chat --model runs/demo/04-finetune/final",
                "  llmkit chat --model runs/demo/04-finetune/final --prompt \"Where was Alice Smith born?\" --temperature 0",
                "  echo \"What did Bo Li study?\" | llmkit chat --model model.gguf", "", ExitCodes.HELP})
public final class ChatCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|FILE", description = "Checkpoint directory or .gguf file with a chat template.")
    Path model;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message at the start of the conversation.")
    String system;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "One user message: print the answer and exit.")
    String prompt;

    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", defaultValue = "256", description = "Tokens per answer at most (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @picocli.CommandLine.Mixin
    SamplerOptions sampling;

    @Option(names = "--threads", paramLabel = "N", description = "Engine threads (default: all cores).")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        Sampler.Params sp = sampling.params("chat");
        if (maxTokens < 1) throw new ConfigException("--max-tokens must be >= 1, got " + maxTokens, null);
        Checkpoint.Loaded m = ModelCommand.loadForInference(model);
        if (m.chatTemplate() == null || !m.chatTemplate().contains(ChatTemplate.IM_START)) {
            throw new ConfigException(model + " has " + (m.chatTemplate() == null ? "no chat template (it was not fine-tuned)" : "a chat template other than ChatML"),
                    "fine-tune it with `llmkit finetune`, or use `llmkit generate` for plain text");
        }
        ChatTemplate.require(m.tokenizer());
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        boolean tty = System.console() != null && System.console().isTerminal();
        // standard input stays open (not closed with the reader): the caller owns it
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (State state = LanguageModel.of(m).newState(m.weights().config().contextLength(), ModelCommand.engineThreads(threads))) {
            Session s = new Session(state, m.tokenizer(), new Sampler(sp, m.weights().config().vocabSize()), maxTokens, system);
            if (prompt != null || !tty) {
                String msg = prompt != null ? prompt : in.lines().reduce((a, b) -> a + "\n" + b).orElse("").strip();
                if (msg.isEmpty()) throw new ConfigException("no message: pass --prompt TEXT or write one to standard input", null);
                s.answer(msg, out);
                out.println();
                return ExitCodes.OK;
            }
            out.println("llmkit chat: " + model + " (" + state.capacity() + " tokens of context). /reset starts over, /exit quits.");
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) break;
                if (line.strip().equals("/reset")) {
                    s.reset();
                    out.println("(conversation reset)");
                    continue;
                }
                if (line.isBlank()) continue;
                try {
                    s.answer(line, out);
                    out.println();
                } catch (dev.llmkit.core.LlmkitException e) {     // e.g. a message longer than the context: say so, keep chatting
                    out.println("llmkit: " + e.getMessage() + (e.hint() == null ? "" : " (" + e.hint() + ")"));
                }
            }
        }
        return ExitCodes.OK;
    }

    /** The conversation, the tokens in the KV cache, and answering one message. */
    static final class Session {
        private final State state;
        private final Tokenizer tok;
        private final Sampler sampler;
        private final int maxTokens, imEnd;
        private final String system;
        private final List<ChatMessage> history = new ArrayList<>();
        private int[] cached = new int[0];

        Session(State state, Tokenizer tok, Sampler sampler, int maxTokens, String system) {
            this.state = state; this.tok = tok; this.sampler = sampler; this.maxTokens = maxTokens; this.system = system;
            this.imEnd = tok.addedId(ChatTemplate.IM_END);
            reset();
        }

        void reset() {
            history.clear();
            if (system != null && !system.isEmpty()) history.add(new ChatMessage(ChatMessage.SYSTEM, system));
        }

        /** Streams the answer to {@code msg} and adds both turns to the history (neither when the message cannot fit). */
        void answer(String msg, PrintStream out) {
            history.add(new ChatMessage(ChatMessage.USER, msg));
            int ctx = state.capacity();
            int[] ids = ChatTemplate.render(tok, history, true).tokens();
            // 1. Drop the oldest exchanges (user + assistant, after the system message) until the prompt leaves room to answer.
            while (ids.length + Math.min(maxTokens, ctx / 4) > ctx && history.size() > firstTurn() + 2) {
                history.remove(firstTurn());
                history.remove(firstTurn());
                ids = ChatTemplate.render(tok, history, true).tokens();
            }
            if (ids.length >= ctx) {
                history.remove(history.size() - 1);
                throw new ConfigException("the message is " + ids.length + " tokens with its template; the context is " + ctx, "send a shorter message");
            }
            // 2. Prefill only what the KV cache does not hold yet.
            int same = 0;
            while (same < Math.min(cached.length, ids.length - 1) && cached[same] == ids[same]) same++;
            state.rewind(Math.min(same, state.position()));
            float[] logits = state.prefill(ids, same, ids.length);
            // 3. Sample until <|im_end|>, <|endoftext|>, max tokens or the context's end.
            int[] all = Arrays.copyOf(ids, ctx);
            int pos = ids.length;
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            int shown = 0;
            for (int n = 0; n < maxTokens && pos < ctx; n++) {
                int next = sampler.next(logits, all, pos);
                if (next == imEnd || next == tok.eotId()) break;
                all[pos] = next;
                text.writeBytes(tok.tokenBytes(next));
                shown = emit(text.toByteArray(), shown, out);
                if (pos + 1 < ctx) logits = state.decode(next);
                pos++;
            }
            String answer = text.toString(StandardCharsets.UTF_8);
            if (shown < text.size()) out.print(new String(text.toByteArray(), shown, text.size() - shown, StandardCharsets.UTF_8));
            out.flush();
            cached = Arrays.copyOf(all, pos);
            history.add(new ChatMessage(ChatMessage.ASSISTANT, answer));
        }

        private int firstTurn() {
            return !history.isEmpty() && history.get(0).role().equals(ChatMessage.SYSTEM) ? 1 : 0;
        }

        /** Prints the complete UTF-8 characters past {@code shown}; returns the new count of bytes shown. */
        private static int emit(byte[] b, int shown, PrintStream out) {
            int end = dev.llmkit.eval.engine.Generator.completePrefix(b);
            if (end > shown) {
                out.print(new String(b, shown, end - shown, StandardCharsets.UTF_8));
                out.flush();
            }
            return Math.max(shown, end);
        }
    }
}
