package dev.llmkit.spark;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import dev.llmkit.core.StorageException;
import java.io.IOException;
import java.io.OutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * An output directory on a Hadoop file system, built in a staging directory beside it
 * ({@code .NAME.partial}) and renamed into place when complete, as the single-machine path does:
 * the output appears complete or not at all.
 */
final class OutDir {
    final String target;
    final Path path;
    final Path staging;
    final FileSystem fs;

    private OutDir(String target, Path path, Path staging, FileSystem fs) {
        this.target = target;
        this.path = path;
        this.staging = staging;
        this.fs = fs;
    }

    static OutDir begin(String out, boolean overwrite, Configuration conf) {
        return begin(out, overwrite, conf, null, false);
    }

    /**
     * Starts the output; with {@code resume} (a state file name and its content), a staging directory left
     * by a killed run whose state file has that same content is kept, with what it holds, when {@code keep}.
     */
    static OutDir begin(String out, boolean overwrite, Configuration conf, String[] resume, boolean keep) {
        Path p = new Path(out);
        try {
            FileSystem fs = HadoopConf.fs(p, conf);
            p = fs.makeQualified(p);
            if (fs.exists(p) && !overwrite) {
                throw new ConfigException("output directory " + out + " already exists", "choose another --out or pass --force to replace it");
            }
            Path staging = new Path(p.getParent(), "." + p.getName() + ".partial");
            if (resume != null && keep && fs.exists(new Path(staging, resume[0]))) {
                try (java.io.InputStream in = fs.open(new Path(staging, resume[0]))) {
                    if (new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).equals(resume[1])) return new OutDir(out, p, staging, fs);
                }
            }
            fs.delete(staging, true);
            if (!fs.mkdirs(staging)) throw new IOException("mkdirs failed");
            OutDir d = new OutDir(out, p, staging, fs);
            if (resume != null) d.write(resume[0], resume[1].getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return d;
        } catch (IOException e) {
            throw new StorageException("cannot create the output directory " + out + ": " + e.getMessage(), "check the path and permissions", e);
        }
    }

    /** Writes {@code value} as pretty JSON (as Json.write does) into the staging directory. */
    void writeJson(String name, Object value) {
        write(name, Json.bytes(value));
    }

    void write(String name, byte[] bytes) {
        try (OutputStream o = fs.create(new Path(staging, name), true)) {
            o.write(bytes);
        } catch (IOException e) {
            throw ioError(e);
        }
    }

    /**
     * Deletes what the staging directory holds besides the output before the commit: hidden files (a resume
     * state and its records) and the directories of task attempts ({@code _attempt-N}).
     */
    void deleteHidden() {
        try {
            for (org.apache.hadoop.fs.FileStatus f : fs.listStatus(staging)) {
                String n = f.getPath().getName();
                if (n.startsWith(".") || n.startsWith("_")) fs.delete(f.getPath(), true);
            }
        } catch (IOException e) {
            throw ioError(e);
        }
    }

    void rename(String from, String to) {
        try {
            if (!fs.rename(new Path(staging, from), new Path(staging, to))) throw new IOException("rename " + from + " to " + to + " failed");
        } catch (IOException e) {
            throw ioError(e);
        }
    }

    /** Moves the staging directory into place, replacing the old output if there is one. */
    void commit() {
        try {
            if (fs.exists(path)) {
                Path old = new Path(path.getParent(), "." + path.getName() + ".old");
                fs.delete(old, true);
                if (!fs.rename(path, old)) throw new IOException("cannot move the previous output aside");
                if (!fs.rename(staging, path)) {
                    fs.rename(old, path);
                    throw new IOException("rename failed");
                }
                fs.delete(old, true);
            } else if (!fs.rename(staging, path)) {
                throw new IOException("rename failed");
            }
        } catch (IOException e) {
            throw new StorageException("cannot move " + staging + " to " + target + ": " + e.getMessage(),
                    "check permissions and free space; any previous output is kept", e);
        }
    }

    /** Removes the staging directory after a failure; never throws. */
    void abort() {
        try {
            fs.delete(staging, true);
        } catch (IOException ignored) {
            // best effort: a later run deletes it first
        }
    }

    private StorageException ioError(IOException e) {
        return new StorageException("cannot write in " + staging + ": " + e.getMessage(), "check free space and permissions", e);
    }
}
