package dev.llmkit.spark;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;

/**
 * Progress of a Spark job as periodic log lines (tasks done per stage, at most one line per stage every
 * ten seconds, and one when it ends), for runs whose output is not a terminal; on a terminal Spark's own
 * console bar shows instead.
 */
final class ProgressLines extends SparkListener implements AutoCloseable {
    private static final long EVERY_NANOS = 10_000_000_000L;

    private final SparkSession spark;
    private final Consumer<String> log;
    private final ConcurrentHashMap<Integer, Stage> stages = new ConcurrentHashMap<>();

    private static final class Stage {
        final String name;
        final int tasks;
        final long start = System.nanoTime();
        final AtomicInteger done = new AtomicInteger();
        volatile long lastLine = System.nanoTime();

        Stage(String name, int tasks) {
            this.name = name;
            this.tasks = tasks;
        }
    }

    private ProgressLines(SparkSession spark, Consumer<String> log) {
        this.spark = spark;
        this.log = log;
    }

    /** Lines to {@code log} while the returned listener is open; none on a terminal. */
    static ProgressLines attach(SparkSession spark, Consumer<String> log) {
        ProgressLines p = new ProgressLines(spark, log);
        if (!Sessions.terminal()) spark.sparkContext().addSparkListener(p);
        return p;
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted e) {
        stages.put(e.stageInfo().stageId(), new Stage(e.stageInfo().name(), e.stageInfo().numTasks()));
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd e) {
        Stage s = stages.get(e.stageId());
        if (s == null) return;
        int n = s.done.incrementAndGet();
        long now = System.nanoTime();
        if (now - s.lastLine >= EVERY_NANOS) {
            s.lastLine = now;
            log.accept(line(e.stageId(), s, n, now));
        }
    }

    @Override
    public void onStageCompleted(SparkListenerStageCompleted e) {
        Stage s = stages.remove(e.stageInfo().stageId());
        if (s != null) log.accept(line(e.stageInfo().stageId(), s, s.done.get(), System.nanoTime()) + " done");
    }

    private static String line(int id, Stage s, int done, long now) {
        return String.format(Locale.ROOT, "spark: stage %d (%s): %d/%d tasks, %.1f s", id, s.name, done, s.tasks, (now - s.start) / 1e9);
    }

    @Override
    public void close() {
        spark.sparkContext().removeSparkListener(this);
    }
}
