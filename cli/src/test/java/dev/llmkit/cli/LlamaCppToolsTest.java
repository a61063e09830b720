package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Where the llama.cpp tools of the oracle tests and benchmarks come from. */
class LlamaCppToolsTest {
    @Test
    void theEnvironmentVariableNamesTheToolsFolderElseSharedHasThem() {
        Path shared = Path.of(System.getProperty("llmkit.shared.dir", "../shared")).resolve("tools/llama.cpp");
        assertEquals(Path.of("/opt/llama.cpp/build/bin"), LlamaCppTools.dir("/opt/llama.cpp/build/bin"));
        assertEquals(shared, LlamaCppTools.dir(null));
        assertEquals(shared, LlamaCppTools.dir("  "));
    }
}
