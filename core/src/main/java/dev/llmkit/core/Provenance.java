package dev.llmkit.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * provenance.json of a stage's output: what produced it (stage, versions), from what (inputs with
 * their sha256) and how (the resolved config of the stage and its sha256). It holds no timestamps,
 * so the same inputs and config give a byte-identical file.
 */
public record Provenance(String stage, Map<String, String> versions, List<InputRef> inputs, Object config, String configSha256) {

    /** One input artefact; bytes is -1 when the size cannot be read. */
    public record InputRef(String path, long bytes, String sha256) {
        public static InputRef of(Path file, String sha256) {
            long bytes;
            try {
                bytes = Files.size(file);
            } catch (IOException e) {
                bytes = -1;
            }
            return new InputRef(file.toString(), bytes, sha256);
        }
    }

    /** llmkit, Java and Unicode versions, plus the caller's library versions. */
    public static Map<String, String> versions(Map<String, String> extra) {
        Map<String, String> v = new TreeMap<>(extra);
        v.put("llmkit", Version.llmkit());
        v.put("java", Runtime.version().feature() + "." + Runtime.version().interim() + "." + Runtime.version().update());
        return v;
    }
}
