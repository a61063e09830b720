package dev.llmkit.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Resolves the configuration: defaults &lt; YAML file &lt; {@code --set a.b.c=value} overrides.
 * Every key of the file and of the overrides must exist in the defaults and have a compatible
 * type; errors name the key and where it came from.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    /** The resolved config, its canonical tree and the sha256 of that tree. */
    public record Resolved(LlmkitConfig config, JsonNode tree, String sha256) {
        /** The resolved config as YAML, with its sha256 in a leading comment. */
        public String toYaml() {
            try {
                return "# llmkit resolved config, sha256 " + sha256 + "\n" + Json.YAML.writeValueAsString(tree);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    public static Resolved load(Path file, List<String> sets) {
        ObjectNode tree = Json.MAPPER.valueToTree(LlmkitConfig.defaults());
        if (file != null) {
            JsonNode fileTree = readYaml(file);
            if (fileTree != null && !fileTree.isNull() && !fileTree.isMissingNode()) {
                if (!fileTree.isObject()) {
                    throw new ConfigException("config file " + file + " must be a YAML mapping, not " + describe(fileTree),
                            "start from a preset in configs/");
                }
                merge(tree, (ObjectNode) fileTree, "", "config file " + file);
            }
        }
        for (String set : sets == null ? List.<String>of() : sets) applySet(tree, set);
        return resolve(tree, file);
    }

    private static JsonNode readYaml(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            return Json.YAML.readTree(text);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist", "check the --config path");
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ConfigException("config file " + file + " is not UTF-8 text (a binary file?)", "pass a YAML config such as configs/tiny.yaml", e);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new ConfigException("config file " + file + " is not valid YAML" + where + ": " + e.getOriginalMessage(),
                    "fix the YAML syntax", e);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), "check the --config path", e);
        }
    }

    private static void applySet(ObjectNode tree, String set) {
        int eq = set.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException("--set '" + set + "' is not of the form key.path=value", "example: --set data.prepare.val_fraction=0.01");
        }
        String key = set.substring(0, eq).trim();
        String raw = set.substring(eq + 1);
        JsonNode value;
        try {
            value = raw.isEmpty() ? TextNode.valueOf("") : Json.YAML.readTree(raw);
            if (value == null || value.isMissingNode()) value = TextNode.valueOf(raw);
        } catch (JsonProcessingException e) {
            value = TextNode.valueOf(raw);
        }
        String[] parts = key.split("\\.");
        ObjectNode parent = tree;
        String path = "";
        for (int i = 0; i < parts.length - 1; i++) {
            path = join(path, parts[i]);
            JsonNode child = parent.get(parts[i]);
            if (child == null) throw unknownKey(path, parent, "--set " + key);
            if (!child.isObject()) {
                throw new ConfigException("--set " + key + ": '" + path + "' is a value, not a section", "use the full key of a value");
            }
            parent = (ObjectNode) child;
        }
        ObjectNode wrapper = Json.MAPPER.createObjectNode();
        wrapper.set(parts[parts.length - 1], value);
        merge(parent, wrapper, path, "--set " + key);
    }

    /** Merges {@code over} into {@code base} in place, checking keys and types against base. */
    private static void merge(ObjectNode base, ObjectNode over, String path, String source) {
        Iterator<Map.Entry<String, JsonNode>> it = over.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = join(path, e.getKey());
            JsonNode old = base.get(e.getKey());
            JsonNode value = e.getValue();
            if (old == null) throw unknownKey(key, base, source);
            if (old.isObject()) {
                if (!value.isObject()) throw wrongType(key, "a section (mapping)", value, source);
                merge((ObjectNode) old, (ObjectNode) value, key, source);
            } else {
                base.set(e.getKey(), checkLeaf(key, old, value, source));
            }
        }
    }

    private static JsonNode checkLeaf(String key, JsonNode old, JsonNode value, String source) {
        JsonNodeType t = old.getNodeType();
        if (t == JsonNodeType.BOOLEAN && !value.isBoolean()) throw wrongType(key, "a boolean (true/false)", value, source);
        if (t == JsonNodeType.NUMBER && old.isIntegralNumber()) {
            if (!value.isIntegralNumber()) throw wrongType(key, "an integer", value, source);
            if (old.isInt() && !value.canConvertToInt()) throw wrongType(key, "an integer that fits in 32 bits", value, source);
            if (!value.canConvertToLong()) throw wrongType(key, "an integer that fits in 64 bits", value, source);
        }
        if (t == JsonNodeType.NUMBER && !old.isIntegralNumber() && !value.isNumber()) throw wrongType(key, "a number", value, source);
        if (t == JsonNodeType.STRING) {
            if (value.isValueNode() && !value.isNull()) return TextNode.valueOf(value.asText());
            throw wrongType(key, "a string", value, source);
        }
        if (t == JsonNodeType.ARRAY && value.isValueNode() && !value.isNull()) {
            return Json.MAPPER.createArrayNode().add(value.asText());     // one value for a list: a list of one
        }
        if (t == JsonNodeType.ARRAY && !value.isArray()) throw wrongType(key, "a list", value, source);
        return value;
    }

    private static Resolved resolve(ObjectNode tree, Path file) {
        LlmkitConfig config;
        try {
            config = Json.MAPPER.treeToValue(tree, LlmkitConfig.class);
        } catch (JsonMappingException e) {
            String key = e.getPath().stream().map(r -> r.getFieldName() == null ? "[" + r.getIndex() + "]" : r.getFieldName())
                    .collect(Collectors.joining("."));
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String msg = cause instanceof IllegalArgumentException ? cause.getMessage() : e.getOriginalMessage();
            String from = file == null ? "defaults and --set" : file + " and --set";
            throw new ConfigException("invalid config value in section '" + key + "': " + msg + " (resolved from " + from + ")",
                    "fix the value in the config file or the --set override", e);
        } catch (JsonProcessingException e) {
            throw new ConfigException("invalid config: " + e.getOriginalMessage(), "fix the config", e);
        }
        JsonNode canonical = Json.MAPPER.valueToTree(config);
        return new Resolved(config, canonical, sha256(canonical));
    }

    /** sha256 of a tree's compact JSON text (declared field order). */
    public static String sha256(JsonNode tree) {
        try {
            return dev.llmkit.core.util.Text.sha256(Json.COMPACT.writeValueAsBytes(tree));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ConfigException unknownKey(String key, ObjectNode level, String source) {
        List<String> known = new ArrayList<>();
        level.fieldNames().forEachRemaining(known::add);
        return new ConfigException("unknown config key '" + key + "' in " + source,
                "known keys here: " + String.join(", ", known));
    }

    private static ConfigException wrongType(String key, String expected, JsonNode value, String source) {
        return new ConfigException("config key '" + key + "' in " + source + " must be " + expected + ", got " + describe(value)
                + (value.isValueNode() ? " '" + value.asText() + "'" : ""), "see README.md for the key's type and default");
    }

    private static String describe(JsonNode n) {
        return switch (n.getNodeType()) {
            case OBJECT -> "a mapping";
            case ARRAY -> "a list";
            case STRING -> "a string";
            case BOOLEAN -> "a boolean";
            case NUMBER -> n.isIntegralNumber() ? "an integer" : "a decimal number";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase();
        };
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }
}
