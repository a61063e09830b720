package dev.llmkit.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.DataException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code {{field}}} templates of a task spec, rendered against one document. A reference is a
 * dotted path ({@code question.stem}); {@code []} projects over an array ({@code question.choices[].text}
 * is the list of the choices' texts); an integer step indexes an array ({@code endings.0}). A template
 * that is exactly one reference keeps the value's kind (a list stays a list); otherwise values are
 * inserted as text. A string that is a Python list literal ({@code ['a', "b"]}, as MMLU-Redux's CSV
 * stores its choices) counts as a list.
 */
public final class Template {
    private Template() {}

    private static final Pattern REF = Pattern.compile("\\{\\{\\s*([^}]+?)\\s*}}");

    /** The template as text. */
    public static String text(String template, JsonNode doc, String where) {
        Matcher m = REF.matcher(template);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            Object v = resolve(doc, m.group(1), where);
            m.appendReplacement(b, Matcher.quoteReplacement(v instanceof List<?> l ? String.join(", ", strings(l)) : (String) v));
        }
        m.appendTail(b);
        return b.toString();
    }

    /** The template as a list: a single reference to a list (or a Python list literal), else one text. */
    public static List<String> list(String template, JsonNode doc, String where) {
        Matcher m = REF.matcher(template.strip());
        if (m.matches()) {
            Object v = resolve(doc, m.group(1), where);
            if (v instanceof List<?> l) return strings(l);
            List<String> py = PyList.parse((String) v);
            if (py != null) return py;
            return List.of((String) v);
        }
        return List.of(text(template, doc, where));
    }

    private static List<String> strings(List<?> l) {
        List<String> out = new ArrayList<>();
        for (Object o : l) out.add(String.valueOf(o));
        return out;
    }

    /** A path's value: a String, or a List of Strings for arrays. */
    private static Object resolve(JsonNode doc, String path, String where) {
        List<JsonNode> nodes = List.of(doc);
        boolean list = false;
        for (String step : path.split("\\.")) {
            boolean project = step.endsWith("[]");
            String key = project ? step.substring(0, step.length() - 2) : step;
            List<JsonNode> next = new ArrayList<>();
            for (JsonNode n : nodes) {
                JsonNode c = key.matches("\\d+") && n.isArray() ? n.get(Integer.parseInt(key)) : n.get(key);
                if (c == null || c.isNull()) throw new DataException(where + ": no field \"" + path + "\" (missing " + key + ")", "check the task's templates against the data");
                if (project) {
                    if (!c.isArray()) throw new DataException(where + ": field \"" + key + "\" of \"" + path + "\" is not an array", "check the task's templates against the data");
                    c.forEach(next::add);
                    list = true;
                } else {
                    next.add(c);
                }
            }
            nodes = next;
        }
        if (list) {
            List<String> out = new ArrayList<>();
            for (JsonNode n : nodes) out.add(n.isValueNode() ? n.asText() : n.toString());
            return out;
        }
        JsonNode n = nodes.get(0);
        if (n.isArray()) {
            List<String> out = new ArrayList<>();
            n.forEach(e -> out.add(e.isValueNode() ? e.asText() : e.toString()));
            return out;
        }
        return n.isValueNode() ? n.asText() : n.toString();
    }

    /** Python list literals of strings: {@code ['a', "b's", 'c\'d']}; null when the text is not one. */
    static final class PyList {
        private PyList() {}

        static List<String> parse(String s) {
            String t = s.strip();
            if (t.length() < 2 || t.charAt(0) != '[' || t.charAt(t.length() - 1) != ']') return null;
            List<String> out = new ArrayList<>();
            int i = 1, n = t.length() - 1;
            while (true) {
                while (i < n && Character.isWhitespace(t.charAt(i))) i++;
                if (i >= n) return out;
                char q = t.charAt(i);
                if (q != '\'' && q != '"') return null;
                StringBuilder b = new StringBuilder();
                i++;
                while (i < n && t.charAt(i) != q) {
                    char c = t.charAt(i++);
                    if (c == '\\' && i < n) {
                        char e = t.charAt(i++);
                        b.append(switch (e) {
                            case 'n' -> '\n';
                            case 't' -> '\t';
                            default -> e;
                        });
                    } else {
                        b.append(c);
                    }
                }
                if (i >= n) return null;
                out.add(b.toString());
                i++;
                while (i < n && Character.isWhitespace(t.charAt(i))) i++;
                if (i < n && t.charAt(i) == ',') i++;
                else if (i < n) return null;
            }
        }
    }
}
