package dev.llmkit.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Crash-safe writes: files are written to a temporary sibling, fsynced and renamed; whole output
 * directories are built in a hidden sibling ({@code .NAME.partial}) and renamed into place when complete.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes {@code bytes} to {@code file} so that it holds either the old or the complete new content. */
    public static void write(Path file, byte[] bytes) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
        try {
            Files.createDirectories(dir);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            move(tmp, file);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new StorageException("cannot write " + file + ": " + e.getMessage(),
                    "check that the directory is writable and the disk is not full", e);
        }
    }

    /** Writes a file's content as a stream. */
    @FunctionalInterface
    public interface Content {
        void writeTo(java.io.OutputStream out) throws IOException;
    }

    /** Streams {@code content} into {@code file} atomically (temporary file, fsync, rename). */
    public static void write(Path file, Content content) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
        try {
            Files.createDirectories(dir);
            try (java.io.FileOutputStream fos = new java.io.FileOutputStream(tmp.toFile());
                 java.io.BufferedOutputStream out = new java.io.BufferedOutputStream(fos, 1 << 20)) {
                content.writeTo(out);
                out.flush();
                fos.getChannel().force(true);
            }
            move(tmp, file);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new StorageException("cannot write " + file + ": " + e.getMessage(),
                    "check that the directory is writable and the disk is not full", e);
        }
    }

    /** The staging directory used while building {@code target}. */
    public static Path stagingDir(Path target) {
        Path abs = target.toAbsolutePath().normalize();
        return abs.resolveSibling("." + abs.getFileName() + ".partial");
    }

    /**
     * Prepares an empty staging directory for {@code target}. Fails if {@code target} exists and
     * {@code overwrite} is false; removes a stale staging directory left by a crashed run.
     */
    public static Path beginDir(Path target, boolean overwrite) {
        Path abs = target.toAbsolutePath().normalize();
        if (Files.exists(abs) && !overwrite) {
            throw new ConfigException("output directory " + target + " already exists",
                    "choose another --out or pass --force to replace it");
        }
        Path staging = stagingDir(abs);
        try {
            deleteRecursively(staging);
            Files.createDirectories(staging);
        } catch (IOException e) {
            throw new StorageException("cannot create " + staging + ": " + e.getMessage(),
                    "check that the parent directory is writable", e);
        }
        return staging;
    }

    /** Moves a finished staging directory into place, replacing {@code target} if it exists. */
    public static void commitDir(Path staging, Path target) {
        Path abs = target.toAbsolutePath().normalize();
        try {
            fsyncTree(staging);
            if (Files.exists(abs)) {
                Path old = abs.resolveSibling("." + abs.getFileName() + ".old");
                deleteRecursively(old);
                move(abs, old);
                try {
                    move(staging, abs);
                } catch (IOException e) {
                    move(old, abs);                 // put the previous output back before reporting
                    throw e;
                }
                deleteRecursively(old);
            } else {
                move(staging, abs);
            }
            fsync(abs.getParent());
        } catch (IOException e) {
            throw new StorageException("cannot move " + staging + " to " + target + ": " + e.getMessage(),
                    "check permissions and free space; any previous output is kept", e);
        }
    }

    /** Removes a staging directory after a failure; never throws. */
    public static void abortDir(Path staging) {
        try {
            deleteRecursively(staging);
        } catch (IOException ignored) {
            // best effort: the next run removes it
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void fsyncTree(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {     // a copy of a read-only file is read-only
                    ch.force(true);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) {
                fsync(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void fsync(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // some file systems cannot fsync a directory; the rename is still atomic
        }
    }

    public static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                Files.deleteIfExists(f);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                try {
                    Files.deleteIfExists(d);
                } catch (DirectoryNotEmptyException | NoSuchFileException ignored) {
                    // raced with another deleter
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void deleteQuietly(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
