package dev.llmkit.spark;

import java.io.IOException;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The driver's Hadoop configuration (file systems, credentials from spark.hadoop.*), carried to the
 * executors, which open inputs and write shards with it.
 */
final class HadoopConf implements Serializable {
    private static final long serialVersionUID = 1L;
    private final HashMap<String, String> entries = new HashMap<>();
    private transient Configuration conf;

    HadoopConf(Configuration c) {
        for (Map.Entry<String, String> e : c) entries.put(e.getKey(), e.getValue());
        this.conf = c;
    }

    Configuration get() {
        if (conf == null) {
            Configuration c = new Configuration(false);
            entries.forEach(c::set);
            conf = c;
        }
        return conf;
    }

    /** The file system of {@code p}; the local one without Hadoop's .crc side files. */
    FileSystem fs(Path p) throws IOException {
        return fs(p, get());
    }

    static FileSystem fs(Path p, Configuration c) throws IOException {
        FileSystem fs;
        try {
            fs = p.getFileSystem(c);
        } catch (org.apache.hadoop.fs.UnsupportedFileSystemException e) {
            throw noFileSystem(p, e);
        } catch (RuntimeException e) {
            // a scheme Hadoop knows (s3a:, gs:, abfs:) whose implementation is not on the class path
            for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof ClassNotFoundException) throw noFileSystem(p, e);
            throw e;
        }
        return fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
    }

    private static dev.llmkit.core.ConfigException noFileSystem(Path p, Exception e) {
        return new dev.llmkit.core.ConfigException(p + ": no file system for the scheme \"" + p.toUri().getScheme() + "\" on the class path ("
                + e.getMessage() + ")", "add the file system's jars to the class path (for s3a: hadoop-aws and the AWS SDK bundle; with ./llmkit through "
                + "LLMKIT_SPARK_CLASSPATH), or run with spark-submit on a cluster that has them");
    }
}
