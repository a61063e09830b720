package dev.llmkit.spark;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.StorageException;
import dev.llmkit.data.prepare.InputFiles;
import dev.llmkit.data.prepare.InputFormat;
import dev.llmkit.data.prepare.InputSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * One input file of a Spark run: the name reports use, its URI, format and size. A local path (no
 * scheme) is resolved as the single-machine path resolves it ({@link InputFiles}), so both name and
 * order the files alike; a URI ({@code hdfs:}, {@code s3a:}, {@code file:}) is listed through its Hadoop
 * file system in the same way: arguments in order, directories walked recursively and globs expanded
 * in sorted path order, hidden files (. or _) skipped, a file named twice read once.
 */
record SparkInput(String name, String uri, InputFormat format, long size) implements Serializable {

    /** The file as the data stage's readers see it, opened through {@code conf} on an executor. */
    InputSource source(HadoopConf conf, String textField) {
        SparkInput in = this;
        return new InputSource() {
            @Override
            public String name() {
                return in.name;
            }

            @Override
            public InputFormat format() {
                return in.format;
            }

            @Override
            public long size() {
                return in.size;
            }

            @Override
            public InputStream open() throws IOException {
                return decoded() ? new ParquetLines(path(), conf.get(), textField) : openOnDisk();
            }

            @Override
            public boolean decoded() {
                return in.format == InputFormat.PARQUET;
            }

            @Override
            public InputStream openOnDisk() throws IOException {
                Path p = path();
                return conf.fs(p).open(p, 1 << 17);
            }

            private Path path() {
                return new Path(java.net.URI.create(in.uri));
            }
        };
    }

    static List<SparkInput> resolve(List<String> args, Configuration conf) {
        if (args == null || args.isEmpty()) throw new ConfigException("no input given", "pass --input with files, directories, globs or URIs");
        Set<String> seen = new LinkedHashSet<>();
        List<SparkInput> out = new ArrayList<>();
        for (String arg : args) {
            if (!arg.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*")) {
                for (InputFiles.Input i : InputFiles.resolve(List.of(arg), true)) {
                    String uri = i.path().toAbsolutePath().normalize().toUri().toString();
                    if (seen.add(uri)) out.add(new SparkInput(i.name(), uri, i.format(), i.size()));
                }
                continue;
            }
            for (FileStatus f : expand(arg, conf)) {
                String uri = f.getPath().toUri().toString();
                if (seen.add(uri)) out.add(new SparkInput(f.getPath().toString(), uri, InputFormat.of(f.getPath().getName()), f.getLen()));
            }
        }
        return out;
    }

    /** Whether a name on the way from {@code root} to {@code file} starts with . or _ (a hidden file, _temporary/, .spark-staging). */
    private static boolean hidden(Path root, Path file) {
        String top = root.toUri().getPath();
        for (Path p = file; p != null && !p.toUri().getPath().equals(top); p = p.getParent()) {
            String n = p.getName();
            if (n.startsWith(".") || n.startsWith("_")) return true;
        }
        return false;
    }

    private static List<FileStatus> expand(String arg, Configuration conf) {
        Path p = new Path(arg);
        try {
            FileSystem fs = HadoopConf.fs(p, conf);
            FileStatus[] matched = fs.globStatus(p);
            boolean glob = arg.indexOf('*') >= 0 || arg.indexOf('?') >= 0 || arg.indexOf('[') >= 0 || arg.indexOf('{') >= 0;
            if (matched == null || matched.length == 0) {
                throw new ConfigException("--input " + arg + (glob ? " matches no input file" : " does not exist"), "check the path or URI");
            }
            List<FileStatus> sorted = new ArrayList<>(List.of(matched));
            sorted.sort(Comparator.comparing(s -> s.getPath().toString()));
            List<FileStatus> files = new ArrayList<>();
            for (FileStatus s : sorted) {
                if (s.isDirectory()) {
                    List<FileStatus> under = new ArrayList<>();
                    RemoteIterator<LocatedFileStatus> it = fs.listFiles(s.getPath(), true);
                    while (it.hasNext()) {
                        LocatedFileStatus f = it.next();
                        if (f.isFile() && !hidden(s.getPath(), f.getPath()) && InputFormat.of(f.getPath().getName()) != null) under.add(f);
                    }
                    under.sort(Comparator.comparing(x -> x.getPath().toString()));
                    files.addAll(under);
                } else if (InputFormat.of(s.getPath().getName()) != null) {
                    files.add(s);
                } else if (!glob) {
                    throw new ConfigException("--input " + arg + " is not a supported input (" + InputFormat.suffixes() + ")",
                            "rename the file or convert it to JSON Lines");
                }
            }
            if (files.isEmpty()) throw new ConfigException("--input " + arg + " matches no input file (" + InputFormat.suffixes() + ")", "check the path or URI");
            return files;
        } catch (IOException e) {
            throw new StorageException("cannot list " + arg + ": " + e.getMessage(), "check the URI, the file system's configuration and permissions", e);
        }
    }
}
