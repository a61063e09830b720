package dev.llmkit.data.prepare;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.StorageException;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Expands the {@code --input} arguments (files, directories, globs) into a deterministic list of
 * input files: arguments in the order given, each directory or glob expanded in sorted path order,
 * a file named twice read once. Directories are walked recursively and keep only known suffixes
 * (Parquet files only for the Spark engine; a Parquet file named on its own is refused with a hint).
 */
public final class InputFiles {
    private InputFiles() {}

    /** One local input file with its format and on-disk size. */
    public record Input(Path path, InputFormat format, long size) implements InputSource {
        @Override
        public String name() {
            return path.toString();
        }

        @Override
        public java.io.InputStream open() throws IOException {
            return new java.io.FileInputStream(path.toFile());
        }
    }

    public static List<Input> resolve(List<String> args) {
        return resolve(args, false);
    }

    /** As {@link #resolve(List)}; Parquet files are inputs only when {@code parquet} (the Spark engine reads them). */
    public static List<Input> resolve(List<String> args, boolean parquet) {
        if (args == null || args.isEmpty()) {
            throw new ConfigException("no input given", "pass --input with files, directories or globs");
        }
        Set<Path> seen = new LinkedHashSet<>();
        List<Input> out = new ArrayList<>();
        for (String arg : args) {
            List<Path> expanded = expand(arg, parquet);
            if (expanded.isEmpty()) {
                throw new ConfigException("--input " + arg + " matches no input file (" + InputFormat.suffixes() + ")",
                        parquet ? "check the path or glob" : "check the path or glob (.parquet files are read with --engine spark)");
            }
            for (Path p : expanded) {
                if (!seen.add(p.toAbsolutePath().normalize())) continue;
                InputFormat f = InputFormat.of(p);
                if (f == null) {
                    throw new ConfigException("--input " + p + " is not a supported input (" + InputFormat.suffixes() + ")",
                            "rename the file or convert it to JSON Lines");
                }
                if (f == InputFormat.PARQUET && !parquet) {
                    throw new ConfigException("--input " + p + " is Parquet, which the Spark engine reads", "pass --engine spark, or convert it to JSON Lines");
                }
                try {
                    out.add(new Input(p, f, Files.size(p)));
                } catch (IOException e) {
                    throw new StorageException("cannot read " + p + ": " + e.getMessage(), "check permissions", e);
                }
            }
        }
        return out;
    }

    /** A directory's or glob's files of the formats read (Parquet only when {@code parquet}); a named file as it is. */
    private static List<Path> expand(String arg, boolean parquet) {
        Path p = Paths.get(arg);
        if (Files.isDirectory(p)) return walk(p, parquet);
        if (Files.isRegularFile(p)) return List.of(p);
        if (!hasGlob(arg)) {
            throw new ConfigException("--input " + arg + " does not exist", "check the path");
        }
        // split into the longest glob-free directory prefix and the pattern
        String[] parts = arg.split("/", -1);
        StringBuilder base = new StringBuilder();
        int i = 0;
        for (; i < parts.length - 1 && !hasGlob(parts[i]); i++) base.append(parts[i]).append('/');
        Path root = base.isEmpty() ? Paths.get(".") : Paths.get(base.toString());
        if (!Files.isDirectory(root)) return List.of();
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + String.join("/", List.of(parts).subList(i, parts.length)));
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(x -> !x.equals(root) && m.matches(root.relativize(x))).sorted().forEach(x -> {
                if (Files.isDirectory(x)) out.addAll(walk(x, parquet));
                else if (Files.isRegularFile(x) && reads(x, parquet)) out.add(base.isEmpty() ? root.relativize(x) : x);
            });
        } catch (IOException e) {
            throw new StorageException("cannot list " + root + ": " + e.getMessage(), "check permissions", e);
        }
        return out;
    }

    private static boolean reads(Path file, boolean parquet) {
        InputFormat f = InputFormat.of(file);
        return f != null && (parquet || f != InputFormat.PARQUET);
    }

    private static List<Path> walk(Path dir, boolean parquet) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(x -> reads(x, parquet))
                    .filter(x -> !x.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new StorageException("cannot list " + dir + ": " + e.getMessage(), "check permissions", e);
        }
    }

    private static boolean hasGlob(String s) {
        return s.indexOf('*') >= 0 || s.indexOf('?') >= 0 || s.indexOf('[') >= 0 || s.indexOf('{') >= 0;
    }
}
