package dev.llmkit.core;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The shared Jackson mappers: snake_case property names, records, deterministic output (declared
 * field order, sorted map keys, pretty printed, trailing newline) so artefacts are reproducible.
 */
public final class Json {
    private Json() {}

    public static final ObjectMapper MAPPER = configure(JsonMapper.builder()).build();

    public static final ObjectMapper YAML = configure(YAMLMapper.builder(YAMLFactory.builder()
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                    .build()))
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)     // a key given twice is an error, not "the last wins"
            .build();

    private static <M extends ObjectMapper, B extends com.fasterxml.jackson.databind.cfg.MapperBuilder<M, B>> B configure(B b) {
        return b.propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                .serializationInclusion(JsonInclude.Include.ALWAYS);
    }

    /** One-line JSON (JSON Lines records, hashing). */
    public static final com.fasterxml.jackson.databind.ObjectWriter COMPACT = MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT);

    /** Pretty JSON with a trailing newline, as UTF-8 bytes. */
    public static byte[] bytes(Object value) {
        try {
            return (MAPPER.writeValueAsString(value) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    /** Writes {@code value} as pretty JSON to {@code file} atomically. */
    public static void write(Path file, Object value) {
        AtomicFiles.write(file, bytes(value));
    }

    /** Raises Jackson's default string-length limit so documents up to {@code maxBytes} parse. */
    public static StreamReadConstraints constraints(long maxBytes) {
        int max = (int) Math.min(Integer.MAX_VALUE - 16, Math.max(maxBytes, 1L << 20));
        return StreamReadConstraints.builder().maxStringLength(max).maxDocumentLength(-1).build();
    }
}
