package dev.llmkit.finetune.data;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.StorageException;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Expands SFT inputs (files, directories, globs) into a deterministic list of files: inputs in the
 * order given, each directory (recursively, hidden files left out) or glob expanded in sorted path
 * order, keeping only supported names; a file named twice is read once.
 */
final class SftInputs {
    private SftInputs() {}

    static final String SUFFIXES = ".jsonl, .json or .csv, optionally with .gz or .zst";

    enum Container { JSONL, JSON, CSV }

    enum Compression { NONE, GZIP, ZSTD }

    /** One input file: how its records are laid out and how it is compressed. */
    record SftFile(Path path, Container container, Compression compression) {
        SftFile {
            java.util.Objects.requireNonNull(path, "path");
            java.util.Objects.requireNonNull(container, "container");
            java.util.Objects.requireNonNull(compression, "compression");
        }
    }

    /** The container and compression told by the file name, or null for an unsupported name. */
    static SftFile of(Path p) {
        String name = p.getFileName() == null ? "" : p.getFileName().toString().toLowerCase(Locale.ROOT);
        Compression c = Compression.NONE;
        if (name.endsWith(".gz")) {
            c = Compression.GZIP;
            name = name.substring(0, name.length() - 3);
        } else if (name.endsWith(".zst")) {
            c = Compression.ZSTD;
            name = name.substring(0, name.length() - 4);
        }
        Container k = name.endsWith(".jsonl") ? Container.JSONL
                : name.endsWith(".json") ? Container.JSON
                : name.endsWith(".csv") ? Container.CSV : null;
        return k == null ? null : new SftFile(p, k, c);
    }

    static List<SftFile> resolve(List<String> inputs) {
        if (inputs == null || inputs.isEmpty()) {
            throw new ConfigException("no SFT input given", "name files, directories or globs of " + SUFFIXES);
        }
        Set<Path> seen = new HashSet<>();
        List<SftFile> out = new ArrayList<>();
        for (String input : inputs) {
            if (input == null || input.isBlank()) throw new ConfigException("an SFT input is empty", "name a file, directory or glob");
            for (SftFile f : expand(input)) {
                if (seen.add(f.path().toAbsolutePath().normalize())) out.add(f);
            }
        }
        return out;
    }

    private static List<SftFile> expand(String input) {
        Path p = Paths.get(input);
        if (Files.isDirectory(p)) {
            List<SftFile> files = walk(p);
            if (files.isEmpty()) {
                throw new ConfigException("SFT input directory " + input + " contains no supported file (" + SUFFIXES + ")",
                        "check the directory, or name the files");
            }
            return files;
        }
        if (Files.isRegularFile(p)) {
            SftFile f = of(p);
            if (f == null) {
                throw new ConfigException("SFT input " + input + " is not a supported file (" + SUFFIXES + ")",
                        "convert it to JSON Lines, JSON or CSV, or fix its name");
            }
            return List.of(f);
        }
        if (!hasGlob(input)) throw new ConfigException("SFT input " + input + " does not exist", "check the path");
        List<SftFile> files = glob(input);
        if (files.isEmpty()) {
            throw new ConfigException("SFT input glob " + input + " matches no supported file (" + SUFFIXES + ")",
                    "check the pattern (quote it so the shell does not expand it)");
        }
        return files;
    }

    private static List<SftFile> glob(String input) {
        // the longest glob-free directory prefix is the root to walk; the rest is the pattern
        String[] parts = input.split("/", -1);
        StringBuilder base = new StringBuilder();
        int i = 0;
        for (; i < parts.length - 1 && !hasGlob(parts[i]); i++) base.append(parts[i]).append('/');
        Path root = base.isEmpty() ? Paths.get(".") : Paths.get(base.toString());
        if (!Files.isDirectory(root)) return List.of();
        String pattern = String.join("/", List.of(parts).subList(i, parts.length));
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        // "a/**/b" also matches "a/b", as in shells with globstar
        PathMatcher flat = pattern.contains("**/") ? FileSystems.getDefault().getPathMatcher("glob:" + pattern.replace("**/", "")) : m;
        boolean dotFiles = parts[parts.length - 1].startsWith(".");   // as in shells, '*' skips hidden files
        List<SftFile> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(x -> !x.equals(root)).sorted().forEach(x -> {
                Path rel = root.relativize(x);
                if (!m.matches(rel) && !flat.matches(rel)) return;
                if (Files.isDirectory(x)) {
                    out.addAll(walk(x));
                } else if (Files.isRegularFile(x) && (dotFiles || !x.getFileName().toString().startsWith("."))) {
                    SftFile f = of(base.isEmpty() ? rel : x);
                    if (f != null) out.add(f);
                }
            });
        } catch (IOException e) {
            throw new StorageException("cannot list " + root + ": " + e.getMessage(), "check permissions", e);
        }
        return out;
    }

    private static List<SftFile> walk(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(x -> !x.getFileName().toString().startsWith("."))
                    .sorted().map(SftInputs::of).filter(f -> f != null).toList();
        } catch (IOException e) {
            throw new StorageException("cannot list " + dir + ": " + e.getMessage(), "check permissions", e);
        }
    }

    private static boolean hasGlob(String s) {
        return s.indexOf('*') >= 0 || s.indexOf('?') >= 0 || s.indexOf('[') >= 0 || s.indexOf('{') >= 0;
    }
}
