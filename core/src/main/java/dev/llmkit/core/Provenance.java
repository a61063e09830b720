package dev.llmkit.core;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * provenance.json of a stage's output: what produced it (stage, versions), from what (inputs with
 * their sha256) and how (the resolved config of the stage and its sha256). It holds no timestamps,
 * so the same inputs and config give a byte-identical file.
 */
public record Provenance(String stage, Map<String, String> versions, List<InputRef> inputs, Object config, String configSha256) {

    /** One input artefact. */
    public record InputRef(String path, long bytes, String sha256) {}

    /** llmkit, Java and Unicode versions, plus the caller's library versions. */
    public static Map<String, String> versions(Map<String, String> extra) {
        Map<String, String> v = new TreeMap<>(extra);
        v.put("llmkit", Version.llmkit());
        v.put("java", Runtime.version().feature() + "." + Runtime.version().interim() + "." + Runtime.version().update());
        return v;
    }
}
