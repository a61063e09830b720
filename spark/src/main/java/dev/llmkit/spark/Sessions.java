package dev.llmkit.spark;

import org.apache.spark.sql.SparkSession;

/** How llmkit starts a Spark session when none is running. */
final class Sessions {
    private Sessions() {}

    /**
     * A session on {@code master} (null: spark-submit's --master, else {@code local[*]}). In local mode the web UI stays off, and shuffles
     * use two partitions per core instead of Spark's 200; a console progress bar shows on a terminal.
     */
    static SparkSession start(String master, String app) {
        // spark-submit passes --master and the rest as system properties; --master of llmkit wins over them
        boolean given = master != null && !master.isBlank();
        String m = given ? master : System.getProperty("spark.master", "local[*]");
        SparkSession.Builder b = SparkSession.builder().master(m);
        if (System.getProperty("spark.app.name") == null) b.appName(app);
        if (System.getProperty("spark.ui.showConsoleProgress") == null) b.config("spark.ui.showConsoleProgress", terminal());
        if (!m.startsWith("local") && System.getProperty("spark.jars") == null) {
            // a cluster's executors get llmkit's classes from the driver (spark-submit ships its jar itself)
            b.config("spark.jars", String.join(",", jars()));
        }
        if (m.startsWith("local")) {
            int cores = localCores(m);
            setIfAbsent(b, "spark.ui.enabled", "false");
            setIfAbsent(b, "spark.sql.shuffle.partitions", String.valueOf(Math.max(2, 2 * cores)));
            setIfAbsent(b, "spark.default.parallelism", String.valueOf(Math.max(1, cores)));
        }
        return b.getOrCreate();
    }

    /** The jars of the classes the executors run: llmkit's and what it needs beyond Spark. */
    private static java.util.List<String> jars() {
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        for (Class<?> c : new Class<?>[] {SparkEngine.class, dev.llmkit.data.prepare.FileRecords.class, dev.llmkit.core.Json.class,
                org.tukaani.xz.XZ.class, com.fasterxml.jackson.dataformat.yaml.YAMLFactory.class}) {
            scala.Option<String> jar = org.apache.spark.SparkContext.jarOfClass(c);
            if (jar.isDefined()) out.add(jar.get());
        }
        return java.util.List.copyOf(out);
    }

    private static void setIfAbsent(SparkSession.Builder b, String key, String value) {
        if (System.getProperty(key) == null) b.config(key, value);
    }

    /** Whether standard error is a terminal (the console bar) or a log (progress lines). */
    static boolean terminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    private static int localCores(String master) {
        java.util.regex.Matcher mm = java.util.regex.Pattern.compile("local\\[(\\d+|\\*)(,\\d+)?]").matcher(master);
        if (mm.matches() && !mm.group(1).equals("*")) return Integer.parseInt(mm.group(1));
        return Runtime.getRuntime().availableProcessors();
    }
}
