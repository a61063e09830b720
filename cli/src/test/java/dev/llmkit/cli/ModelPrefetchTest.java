package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

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
    }

    @Test
    void theCommandTakesTheModelLoadedAhead() {
        ModelPrefetch.start(new String[] {"--debug", "generate", "-p", "x", "-m", gguf.toString(), "-n", "3"});
        Checkpoint.Loaded m = ModelPrefetch.take(dir.resolve(".").resolve("m.gguf"));    // the same file, named otherwise
        assertNotNull(m);
        assertEquals(weights.config(), m.weights().config());
        assertArrayEquals(weights.get(TensorNames.EMBED), m.weights().get(TensorNames.EMBED));
        assertNull(ModelPrefetch.take(gguf), "taken once");
        // and loadForInference gives what a load here and now gives
        ModelPrefetch.start(new String[] {"chat", "--model=" + gguf});
        Checkpoint.Loaded viaAhead = ModelCommand.loadForInference(gguf);
        assertNull(ModelPrefetch.take(gguf));
        assertArrayEquals(ModelCommand.loadNow(gguf).weights().get(TensorNames.EMBED), viaAhead.weights().get(TensorNames.EMBED));
    }

    @Test
    void onlyCommandsThatLoadAModelAndOnlyFilesThatExist() {
        ModelPrefetch.start(new String[] {"export", "-m", gguf.toString(), "-o", dir.resolve("x").toString()});
        assertNull(ModelPrefetch.take(gguf));
        ModelPrefetch.start(new String[] {"generate", "-m", dir.resolve("none.gguf").toString()});
        assertNull(ModelPrefetch.take(dir.resolve("none.gguf")));
        ModelPrefetch.start(new String[] {"generate", "-p", "-m"});     // no value
        assertNull(ModelPrefetch.take(gguf));
    }

    @Test
    void anotherModelOrAFailedLoadIsLoadedByTheCommand() throws Exception {
        ModelPrefetch.start(new String[] {"eval", "-m", gguf.toString()});
        assertNull(ModelPrefetch.take(dir.resolve("other.gguf")), "not the model loaded ahead");
        assertNotNull(ModelPrefetch.take(gguf));
        Path broken = dir.resolve("broken.gguf");
        Files.write(broken, java.util.Arrays.copyOf(Files.readAllBytes(gguf), 100));
        ModelPrefetch.start(new String[] {"generate", "-m", broken.toString()});
        assertNull(ModelPrefetch.take(broken), "the command loads it again and reports the error as usual");
        assertEquals(3, CliRun.run("generate", "-m", broken.toString(), "-p", "x").code());
    }
}
