package dev.llmkit.spark;

import org.apache.spark.sql.SparkSession;

/** How llmkit starts a Spark session when none is running. */
final class Sessions {
    private Sessions() {}

    /**
     * A session on {@code master} (null: {@code local[*]}). In local mode the web UI stays off, and shuffles
     * use two partitions per core instead of Spark's 200; a console progress bar shows on a terminal.
     */
    static SparkSession start(String master, String app) {
        String m = master == null || master.isBlank() ? "local[*]" : master;
        SparkSession.Builder b = SparkSession.builder().appName(app).master(m)
                .config("spark.ui.showConsoleProgress", terminal());
        if (m.startsWith("local")) {
            int cores = localCores(m);
            b.config("spark.ui.enabled", false)
                    .config("spark.sql.shuffle.partitions", Math.max(2, 2 * cores))
                    .config("spark.default.parallelism", Math.max(1, cores));
        }
        return b.getOrCreate();
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
