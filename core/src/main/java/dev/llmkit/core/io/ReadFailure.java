package dev.llmkit.core.io;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.LlmkitException;
import dev.llmkit.core.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The error for an input file the readers of this package could not open or read: a missing file or a
 * directory in its place is the path the user gave (exit 2), anything else the disk's (exit 4).
 */
final class ReadFailure {
    private ReadFailure() {}

    /** {@code what} names the kind of file expected, e.g. "a GGUF file". */
    static LlmkitException of(Path file, IOException e, String what) {
        if (e instanceof NoSuchFileException) return new ConfigException(file + ": no such file", "check the path; it should name " + what, e);
        if (Files.isDirectory(file)) return new ConfigException(file + ": is a directory, not " + what, "name the file itself");
        return new StorageException(file + ": cannot read: " + e.getMessage(), "check the file's permissions and the disk", e);
    }
}
