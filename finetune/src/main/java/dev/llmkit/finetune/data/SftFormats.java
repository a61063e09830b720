package dev.llmkit.finetune.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.tokenizer.ChatMessage;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns one parsed record (a JSON value; CSV rows arrive as objects of strings) into the turns of a
 * {@link Conversation}, or rejects it with a {@link BadRecord} naming the skip reason. Stateless.
 */
final class SftFormats {
    static final String AUTO = "auto", PROMPT_COMPLETION = "prompt_completion", QUESTION_ANSWER = "question_answer",
            ALPACA = "alpaca", MESSAGES = "messages", SHAREGPT = "sharegpt";
    static final List<String> FORMATS = List.of(AUTO, PROMPT_COMPLETION, QUESTION_ANSWER, ALPACA, MESSAGES, SHAREGPT);
    static final String PROMPT = "prompt", COMPLETION = "completion", SYSTEM = "system";
    static final List<String> TARGETS = List.of(PROMPT, COMPLETION, SYSTEM);

    static final String INVALID_JSON = "invalid_json", NOT_AN_OBJECT = "not_an_object", UNKNOWN_FORMAT = "unknown_format",
            MISSING_FIELD = "missing_field", NOT_A_STRING = "not_a_string", NOT_A_LIST = "not_a_list",
            UNKNOWN_ROLE = "unknown_role", EMPTY_ANSWER = "empty_answer", NO_ASSISTANT_TURN = "no_assistant_turn",
            LAST_TURN_NOT_ASSISTANT = "last_turn_not_assistant", INVALID_UTF8 = "invalid_utf8", INVALID_CSV = "invalid_csv";

    /** Detection order: a format whose fields are all present wins, else the first with any of them. */
    private static final List<Map.Entry<String, List<String>>> DETECT = List.of(
            Map.entry(MESSAGES, List.of("messages")),
            Map.entry(SHAREGPT, List.of("conversations")),
            Map.entry(ALPACA, List.of("instruction", "output")),
            Map.entry(PROMPT_COMPLETION, List.of(PROMPT, COMPLETION)),
            Map.entry(QUESTION_ANSWER, List.of("question", "answer")));

    private static final Map<String, String> SHAREGPT_ROLES = Map.of(
            "human", ChatMessage.USER, "user", ChatMessage.USER,
            "gpt", ChatMessage.ASSISTANT, "assistant", ChatMessage.ASSISTANT, "chatgpt", ChatMessage.ASSISTANT,
            "bing", ChatMessage.ASSISTANT, "bard", ChatMessage.ASSISTANT,
            "system", ChatMessage.SYSTEM);

    /** A record that cannot become a conversation; the message is the detail. */
    static final class BadRecord extends Exception {
        final String reason;

        BadRecord(String reason, String detail) {
            super(detail, null, false, false);
            this.reason = reason;
        }
    }

    private final String format;
    private final String promptField, completionField, systemField;   // from a field mapping; null without one

    SftFormats(String format, Map<String, String> fields) {
        this.format = format;
        this.promptField = sourceOf(fields, PROMPT);
        this.completionField = sourceOf(fields, COMPLETION);
        this.systemField = fields.isEmpty() ? null : sourceOf(fields, SYSTEM);
    }

    private static String sourceOf(Map<String, String> fields, String target) {
        for (Map.Entry<String, String> e : fields.entrySet()) if (e.getValue().equals(target)) return e.getKey();
        return target.equals(SYSTEM) ? SYSTEM : null;
    }

    /** The checked turns of {@code node}: [system?] user/assistant ... ending with a non-empty assistant turn. */
    List<ChatMessage> convert(JsonNode node) throws BadRecord {
        if (!node.isObject()) throw new BadRecord(NOT_AN_OBJECT, "the record is " + describe(node) + ", not a JSON object");
        List<ChatMessage> turns;
        if (promptField != null) {
            turns = singleTurn(node, str(node, promptField), str(node, completionField), systemField);
        } else {
            String f = format.equals(AUTO) ? detect(node) : format;
            turns = switch (f) {
                case PROMPT_COMPLETION -> singleTurn(node, str(node, PROMPT), str(node, COMPLETION), SYSTEM);
                case QUESTION_ANSWER -> singleTurn(node, str(node, "question"), str(node, "answer"), SYSTEM);
                case ALPACA -> alpaca(node);
                case MESSAGES -> turns(node, "messages", "role", "content", false);
                case SHAREGPT -> turns(node, "conversations", "from", "value", true);
                default -> throw new IllegalStateException("format " + f);
            };
        }
        check(turns);
        return turns;
    }

    static String detect(JsonNode node) throws BadRecord {
        for (Map.Entry<String, List<String>> e : DETECT) {
            if (e.getValue().stream().allMatch(node::has)) return e.getKey();
        }
        for (Map.Entry<String, List<String>> e : DETECT) {
            if (e.getValue().stream().anyMatch(node::has)) return e.getKey();
        }
        throw new BadRecord(UNKNOWN_FORMAT, "fields " + fieldNames(node) + " match no format"
                + " (prompt/completion, question/answer, instruction/output, messages, conversations)");
    }

    private static List<ChatMessage> alpaca(JsonNode node) throws BadRecord {
        String user = str(node, "instruction");
        String output = str(node, "output");
        JsonNode input = node.get("input");
        if (input != null && !input.isNull()) {
            if (!input.isTextual()) throw notAString("input", input);
            if (!input.textValue().isBlank()) user = user + "\n\n" + input.textValue();
        }
        return singleTurn(node, user, output, SYSTEM);
    }

    private static List<ChatMessage> singleTurn(JsonNode node, String user, String answer, String systemField) throws BadRecord {
        List<ChatMessage> out = new ArrayList<>(3);
        JsonNode sys = node.get(systemField);
        if (sys != null && !sys.isNull()) {
            if (!sys.isTextual()) throw notAString(systemField, sys);
            if (!sys.textValue().isBlank()) out.add(new ChatMessage(ChatMessage.SYSTEM, sys.textValue()));
        }
        out.add(new ChatMessage(ChatMessage.USER, user));
        out.add(new ChatMessage(ChatMessage.ASSISTANT, answer));
        return out;
    }

    /** OpenAI messages (role/content) or ShareGPT conversations (from/value). */
    private static List<ChatMessage> turns(JsonNode node, String list, String roleKey, String textKey, boolean sharegpt)
            throws BadRecord {
        JsonNode arr = node.get(list);
        if (arr == null) throw new BadRecord(MISSING_FIELD, "no '" + list + "' field");
        if (!arr.isArray()) throw new BadRecord(NOT_A_LIST, "'" + list + "' is " + describe(arr) + ", not an array");
        List<ChatMessage> out = new ArrayList<>(arr.size());
        for (int i = 0; i < arr.size(); i++) {
            JsonNode m = arr.get(i);
            String at = list + "[" + i + "]";
            if (!m.isObject()) throw new BadRecord(NOT_AN_OBJECT, at + " is " + describe(m) + ", not an object");
            String raw = str(m, roleKey, at + "." + roleKey);
            String key = raw.strip().toLowerCase(Locale.ROOT);
            String role = sharegpt ? SHAREGPT_ROLES.get(key)
                    : key.equals(ChatMessage.SYSTEM) || key.equals(ChatMessage.USER) || key.equals(ChatMessage.ASSISTANT) ? key : null;
            if (role == null) {
                throw new BadRecord(UNKNOWN_ROLE, at + "." + roleKey + " is '" + clip(raw) + "' ("
                        + (sharegpt ? "human, user, gpt, assistant, chatgpt, bing, bard or system" : "system, user or assistant") + ")");
            }
            out.add(new ChatMessage(role, str(m, textKey, at + "." + textKey)));
        }
        return out;
    }

    /** The conversation-level rules shared by every format. */
    private static void check(List<ChatMessage> turns) throws BadRecord {
        boolean assistant = false;
        for (int i = 0; i < turns.size(); i++) {
            ChatMessage m = turns.get(i);
            int bad = unpairedSurrogate(m.content());
            if (bad >= 0) {
                throw new BadRecord(INVALID_UTF8, String.format("turn %d (%s) has an unpaired surrogate \\u%04x",
                        i + 1, m.role(), (int) m.content().charAt(bad)));
            }
            if (m.role().equals(ChatMessage.ASSISTANT)) assistant = true;
        }
        if (!assistant) throw new BadRecord(NO_ASSISTANT_TURN, "no assistant turn among " + turns.size() + " turn(s)");
        for (int i = 0; i < turns.size(); i++) {
            ChatMessage m = turns.get(i);
            if (m.role().equals(ChatMessage.ASSISTANT) && m.content().isBlank()) {
                throw new BadRecord(EMPTY_ANSWER, "assistant turn " + (i + 1) + " of " + turns.size() + " is "
                        + (m.content().isEmpty() ? "empty" : "only whitespace"));
            }
        }
        ChatMessage last = turns.get(turns.size() - 1);
        if (!last.role().equals(ChatMessage.ASSISTANT)) {
            throw new BadRecord(LAST_TURN_NOT_ASSISTANT, "the last of " + turns.size() + " turns is '" + last.role() + "', not 'assistant'");
        }
    }

    private static String str(JsonNode node, String field) throws BadRecord {
        return str(node, field, field);
    }

    private static String str(JsonNode node, String field, String label) throws BadRecord {
        JsonNode v = node.get(field);
        if (v == null) throw new BadRecord(MISSING_FIELD, "no '" + label + "' field");
        if (!v.isTextual()) throw notAString(label, v);
        return v.textValue();
    }

    private static BadRecord notAString(String label, JsonNode v) {
        return new BadRecord(NOT_A_STRING, "'" + label + "' is " + describe(v) + ", not a string");
    }

    /** Index of the first unpaired UTF-16 surrogate (a JSON escape like \ud800 alone), or -1. */
    static int unpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
                else return i;
            } else if (Character.isLowSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    static String describe(JsonNode v) {
        return switch (v.getNodeType()) {
            case OBJECT -> "an object";
            case ARRAY -> "an array";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            case STRING -> "a string";
            default -> v.getNodeType().toString().toLowerCase(Locale.ROOT);
        };
    }

    private static String fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        Iterator<String> it = node.fieldNames();
        while (it.hasNext() && names.size() < 8) names.add("'" + clip(it.next()) + "'");
        if (it.hasNext()) names.add("...");
        return names.isEmpty() ? "(none)" : "[" + String.join(", ", names) + "]";
    }

    private static String clip(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
