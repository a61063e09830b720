package dev.llmkit.data.prepare;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/** Writes test inputs in every supported format and reads prepared shards back. */
final class Fixtures {
    private Fixtures() {}

    static byte[] lines(Object... lines) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object l : lines) {
            byte[] b = l instanceof byte[] raw ? raw : l.toString().getBytes(StandardCharsets.UTF_8);
            out.writeBytes(b);
            out.write('\n');
        }
        return out.toByteArray();
    }

    static String doc(String text) {
        return "{\"text\":" + quote(text) + ",\"meta\":{\"src\":\"t\"}}";
    }

    static String quote(String s) {
        try {
            return Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path write(Path file, byte[] content) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        String name = file.getFileName().toString();
        try (OutputStream raw = Files.newOutputStream(file);
             OutputStream out = name.endsWith(".gz") || name.endsWith(".tgz") ? new GZIPOutputStream(raw) : name.endsWith(".zst") ? new ZstdOutputStream(raw, 3)
                     : name.endsWith(".bz2") ? new org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream(raw)
                     : name.endsWith(".xz") ? new org.apache.commons.compress.compressors.xz.XZCompressorOutputStream(raw) : raw) {
            out.write(content);
        }
        return file;
    }

    /** Cuts the last {@code n} bytes off a file. */
    static void truncate(Path file, int n) throws IOException {
        byte[] all = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(all, all.length - n));
    }

    /** The output records of a prepared corpus, split by split name, in shard order. */
    static List<JsonNode> records(Path corpus, String split) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        try (var s = Files.list(corpus)) {
            for (Path shard : s.filter(p -> p.getFileName().toString().startsWith(split + "-")).sorted().toList()) {
                try (InputStream in = new ZstdInputStream(Files.newInputStream(shard))) {
                    for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                        if (!line.isEmpty()) out.add(Json.MAPPER.readTree(line));
                    }
                }
            }
        }
        return out;
    }

    static List<String> texts(Path corpus) throws IOException {
        List<String> t = new ArrayList<>();
        for (JsonNode n : records(corpus, "train")) t.add(n.get("text").asText());
        for (JsonNode n : records(corpus, "val")) t.add(n.get("text").asText());
        return t;
    }
}
