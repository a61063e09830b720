package dev.llmkit.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path yaml(String text) throws IOException {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void defaultsWhenNothingGiven() {
        ConfigLoader.Resolved r = ConfigLoader.load(null, List.of());
        assertEquals(LlmkitConfig.defaults(), r.config());
        assertEquals(64, r.sha256().length());
    }

    @Test
    void precedenceIsDefaultsThenFileThenSet() throws IOException {
        Path f = yaml("data:\n  prepare:\n    val_fraction: 0.1\n    text_field: body\n  synth:\n    people: 77\n");
        ConfigLoader.Resolved r = ConfigLoader.load(f, List.of("data.prepare.val_fraction=0.25"));
        PrepareConfig p = r.config().data().prepare();
        assertEquals(0.25, p.valFraction());          // --set beats the file
        assertEquals("body", p.textField());          // file beats defaults
        assertEquals(77, r.config().data().synth().people());
        assertEquals(PrepareConfig.defaults().shardBytes(), p.shardBytes()); // untouched default
        assertNotEquals(ConfigLoader.load(null, List.of()).sha256(), r.sha256());
    }

    @Test
    void unknownKeyInFileNamesKeyAndFile() throws IOException {
        Path f = yaml("data:\n  prepare:\n    val_fracton: 0.1\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f, List.of()));
        assertTrue(e.getMessage().contains("data.prepare.val_fracton"), e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.hint().contains("val_fraction"), e.hint());
    }

    @Test
    void aBinaryOrNonMappingConfigIsRefusedInPlainWords() throws IOException {
        Path bin = Files.createTempFile("llmkit-config", ".yaml");
        Files.write(bin, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2, (byte) 0x80});
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(bin, List.of()));
        assertTrue(e.getMessage().contains("is not UTF-8 text") && !e.getMessage().contains("Input length"), e.getMessage());
        Path list = yaml("- a\n- b\n");
        ConfigException e2 = assertThrows(ConfigException.class, () -> ConfigLoader.load(list, List.of()));
        assertTrue(e2.getMessage().endsWith("must be a YAML mapping, not a list"), e2.getMessage());
    }

    @Test
    void unknownKeyInSetNamesTheOverride() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("data.nope.x=1")));
        assertTrue(e.getMessage().contains("data.nope") && e.getMessage().contains("--set"), e.getMessage());
    }

    @Test
    void wrongTypesAreErrorsNamingTheKey() throws IOException {
        Path f = yaml("data:\n  prepare:\n    strict: maybe\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f, List.of()));
        assertTrue(e.getMessage().contains("data.prepare.strict") && e.getMessage().contains("boolean"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("data.synth.people=1.5")));
        assertTrue(e.getMessage().contains("data.synth.people") && e.getMessage().contains("integer"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("data.prepare=3")));
        assertTrue(e.getMessage().contains("section"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("data.synth.people=99999999999")));
        assertTrue(e.getMessage().contains("32 bits"), e.getMessage());
    }

    @Test
    void invalidValuesAreErrorsNamingTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("data.prepare.val_fraction=1.5")));
        assertTrue(e.getMessage().contains("val_fraction") && e.getMessage().contains("data.prepare"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("data.prepare.normalization=NFX")));
        assertTrue(e.getMessage().contains("normalization"), e.getMessage());
    }

    @Test
    void stringKeysAcceptScalarsAndSetNeedsEquals() {
        assertEquals("123", ConfigLoader.load(null, List.of("data.prepare.text_field=123")).config().data().prepare().textField());
        assertEquals("none", ConfigLoader.load(null, List.of("data.prepare.normalization=None")).config().data().prepare().normalization());
        assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("data.prepare.strict")));
    }

    @Test
    void badYamlAndMissingFileAreConfigErrors() throws IOException {
        Path f = yaml("data: [unclosed\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f, List.of()));
        assertTrue(e.getMessage().contains("not valid YAML") && e.getMessage().contains("line"), e.getMessage());
        assertThrows(ConfigException.class, () -> ConfigLoader.load(dir.resolve("missing.yaml"), List.of()));
        Path list = yaml("- a\n- b\n");
        assertThrows(ConfigException.class, () -> ConfigLoader.load(list, List.of()));
    }

    @Test
    void emptyFileMeansDefaults() throws IOException {
        assertEquals(LlmkitConfig.defaults(), ConfigLoader.load(yaml("# nothing\n"), List.of()).config());
    }

    /** configs/defaults.yaml, which README points to for every key, holds exactly the defaults of the code. */
    @Test
    void defaultsYamlIsTheCodesDefaults() {
        Path defaults = Path.of(System.getProperty("user.dir")).resolveSibling("configs").resolve("defaults.yaml");
        assertEquals(LlmkitConfig.defaults(), ConfigLoader.load(defaults, List.of()).config());
    }

    @Test
    void aKeyGivenTwiceIsRefused() throws IOException {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(yaml("pretrain:\n  steps: 10\n  steps: 20\n"), List.of()));
        assertTrue(e.getMessage().contains("Duplicate field 'steps'"), e.getMessage());
    }

    @Test
    void aSingleValueForAListIsAListOfOne() throws IOException {
        var c = ConfigLoader.load(yaml(""), List.of("pipeline.inputs=shards/", "pipeline.quantize=[q8_0, q4_0]")).config().pipeline();
        assertEquals(List.of("shards/"), c.inputs());
        assertEquals(List.of("q8_0", "q4_0"), c.quantize());
        assertThrows(ConfigException.class, () -> ConfigLoader.load(yaml(""), List.of("pipeline.quantize=[q9]")));
    }

    /** Every configs/*.yaml loads; an experiment's arms (llmkit pipeline) load as the rest of the file with each arm's overrides. */
    @Test
    void shippedPresetsLoad() throws IOException {
        Path configs = Path.of(System.getProperty("user.dir")).resolveSibling("configs");
        try (var s = Files.list(configs)) {
            for (Path p : s.filter(x -> x.toString().endsWith(".yaml")).toList()) {
                var tree = dev.llmkit.core.Json.YAML.readTree(p.toFile());
                if (tree == null || !tree.has("arms")) {
                    ConfigLoader.load(p, List.of());
                    continue;
                }
                var arms = ((com.fasterxml.jackson.databind.node.ObjectNode) tree).remove("arms");
                Path base = yaml(dev.llmkit.core.Json.YAML.writeValueAsString(tree));
                for (var arm : arms) {
                    List<String> sets = new java.util.ArrayList<>();
                    arm.path("set").forEach(v -> sets.add(v.asText()));
                    ConfigLoader.load(base, sets);
                }
            }
        }
    }
}
