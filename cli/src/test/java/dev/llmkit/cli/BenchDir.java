package dev.llmkit.cli;

import dev.llmkit.core.AtomicFiles;
import java.nio.file.Files;
import java.nio.file.Path;

/** A benchmark's temporary folder (its GGUF files, tens of MB), deleted when the benchmark ends, however it ends. */
final class BenchDir {
    private BenchDir() {}

    interface Body {
        void run(Path dir) throws Exception;
    }

    static void with(String prefix, Body body) throws Exception {
        Path dir = Files.createTempDirectory(prefix);
        try {
            body.run(dir);
        } finally {
            try {
                AtomicFiles.deleteRecursively(dir);
            } catch (RuntimeException e) {
                System.err.println("could not delete " + dir + ": " + e);     // never hides the benchmark's own error
            }
        }
    }
}
