package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.model.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading the model of a generate, chat or eval command line while picocli parses it. */
class ModelPrefetchTest {
    @TempDir
    static Path dir;
    static Path gguf;
    static Weights weights;

    @BeforeAll
    static void model() throws Exception {
        ModelConfig c = new ModelConfig(32, 48, 1, 2, 1, 300, 32, 1e-5f, 10000f, true);
        weights = Weights.init(c, 0.02f, 7);
        gguf = dir.resolve("m.gguf");
        GgufModel.export(weights, DecodeBench.byteTokenizer(c.vocabSize()), gguf, Gguf.F32, "prefetch");
    }

    @AfterEach
    void clear() {
        ModelPrefetch.take(gguf);     // nothing left over for the next test
        assertNull(ModelPrefetch.pending());
    }

    @Test
    void theCommandTakesTheModelLoadedAhead() {
        ModelPrefetch.start(new String[] {"--debug", "generate", "-p", "x", "-m", gguf.toString(), "-n", "3"});
        assertEquals(gguf, ModelPrefetch.pending());
        Checkpoint.Loaded m = ModelPrefetch.take(dir.resolve(".").resolve("m.gguf"));    // the same file, named otherwise
        assertNotNull(m);
        assertEquals(weights.config(), m.weights().config());
        assertArrayEquals(weights.get(TensorNames.EMBED), m.weights().get(TensorNames.EMBED));
        assertNull(ModelPrefetch.take(gguf), "taken once");
        // and loadForInference gives what a load here and now gives
        ModelPrefetch.start(new String[] {"chat", "--model=" + gguf});
        assertEquals(gguf, ModelPrefetch.pending());
        Checkpoint.Loaded viaAhead = ModelCommand.loadForInference(gguf);
        assertNull(ModelPrefetch.pending());
        assertArrayEquals(ModelCommand.loadNow(gguf).weights().get(TensorNames.EMBED), viaAhead.weights().get(TensorNames.EMBED));
    }

    @Test
    void onlyCommandsThatLoadAModelAndOnlyFilesThatExist() {
        String[][] none = {
            {"export", "-m", gguf.toString(), "-o", dir.resolve("x").toString()},     // not a command that loads ahead
            {"generate", "-m", dir.resolve("none.gguf").toString()},                  // no such file
            {"generate", "-p", "x", "-m"},                                            // no value
            {"generate", "--", "-m", gguf.toString()},                                // after --: not an option
            {"-m", gguf.toString()},                                                   // no command
        };
        for (String[] args : none) {
            ModelPrefetch.start(args);
            assertNull(ModelPrefetch.pending(), String.join(" ", args));
        }
        ModelPrefetch.start(new String[] {"eval", "-m", gguf.toString(), "-m", dir.resolve("other.gguf").toString()});
        assertEquals(gguf, ModelPrefetch.pending(), "the first model named");
    }

    @Test
    void anotherModelOrAFailedLoadIsLoadedByTheCommand() throws Exception {
        ModelPrefetch.start(new String[] {"eval", "-m", gguf.toString()});
        assertNull(ModelPrefetch.take(dir.resolve("other.gguf")), "not the model loaded ahead");
        assertNull(ModelPrefetch.pending(), "abandoned: the first model a command loads is the one it names first");
        Path broken = dir.resolve("broken.gguf");
        Files.write(broken, java.util.Arrays.copyOf(Files.readAllBytes(gguf), 100));
        ModelPrefetch.start(new String[] {"generate", "-m", broken.toString(), "-p", "x"});
        assertEquals(broken, ModelPrefetch.pending());
        CliRun r = CliRun.run("generate", "-m", broken.toString(), "-p", "x");     // takes the failed load, loads again
        assertNull(ModelPrefetch.pending());
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().contains("broken.gguf"), r.err());
    }
}
