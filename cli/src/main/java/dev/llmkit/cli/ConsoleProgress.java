package dev.llmkit.cli;

import dev.llmkit.core.Progress;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows progress on stderr: a bar with rate and ETA when stderr is a terminal, otherwise a log line
 * every {@code LLMKIT_PROGRESS_SECONDS} seconds (default 10) and one at the end of each phase.
 */
public final class ConsoleProgress implements Progress {
    private final PrintStream err;
    private final boolean terminal;
    private final long intervalNanos;
    private ProgressBar bar;
    private String task;
    private String unit;
    private long total;
    private long done;
    private long startNanos;
    private long lastLogNanos;
    private volatile String status = "";

    private ConsoleProgress(PrintStream err, boolean terminal, long intervalSeconds) {
        this.err = err;
        this.terminal = terminal;
        this.intervalNanos = Duration.ofSeconds(intervalSeconds).toNanos();
    }

    /** Log lines to {@code err} every {@code intervalSeconds} (tests). */
    static ConsoleProgress lines(PrintStream err, long intervalSeconds) {
        return new ConsoleProgress(err, false, intervalSeconds);
    }

    /** Chooses the bar or the log lines by whether a terminal is attached. */
    public static ConsoleProgress create() {
        boolean tty = System.console() != null && System.console().isTerminal() && System.getenv("CI") == null;
        long interval = 10;
        String env = System.getenv("LLMKIT_PROGRESS_SECONDS");
        if (env != null && env.matches("\\d+")) interval = Math.max(1, Long.parseLong(env));
        return new ConsoleProgress(System.err, tty, interval);
    }

    @Override
    public synchronized void start(String task, long total, String unit) {
        close();
        this.task = task;
        this.total = total;
        this.unit = unit;
        this.done = 0;
        this.startNanos = System.nanoTime();
        this.lastLogNanos = startNanos;
        if (terminal) {
            boolean bytes = unit.equals("B");
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total > 0 ? total : -1)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUnit(bytes ? "MB" : " " + unit, bytes ? 1 << 20 : 1)
                    .showSpeed().setUpdateIntervalMillis(250).continuousUpdate().build();
        }
    }

    @Override
    public synchronized void update(long done) {
        this.done = done;
        if (bar != null) {
            bar.stepTo(done);
        } else if (task != null) {
            long now = System.nanoTime();
            if (now - lastLogNanos >= intervalNanos) {
                lastLogNanos = now;
                log(now, false);
            }
        }
    }

    @Override
    public synchronized void status(String text) {
        status = text;
        if (bar != null) bar.setExtraMessage(" " + text);
    }

    @Override
    public synchronized void close() {
        if (task == null) return;
        if (bar != null) {
            bar.stepTo(total > 0 ? Math.max(done, 0) : done);
            bar.close();
            bar = null;
        } else {
            log(System.nanoTime(), true);
        }
        task = null;
    }

    /** A log line between progress updates (above the bar on a terminal). */
    public synchronized void log(String line) {
        err.println(bar != null ? "\r\033[K" + line : line);
    }

    private void log(long now, boolean end) {
        double secs = Math.max(1e-9, (now - startNanos) / 1e9);
        double rate = done / secs;
        StringBuilder sb = new StringBuilder(task).append(end ? ": done " : ": ");
        if (total > 0 && !end) sb.append(String.format(Locale.ROOT, "%.1f%% ", 100.0 * done / total));
        sb.append(amount(done)).append(total > 0 ? " / " + amount(total) : "");
        sb.append(", ").append(rate(rate)).append("/s");
        if (!end && total > 0 && rate > 0) sb.append(", ETA ").append(formatDuration((long) ((total - done) / rate)));
        if (end) sb.append(" in ").append(formatDuration((long) secs));
        if (!status.isEmpty()) sb.append(", ").append(status);
        err.println(sb);
    }

    private String amount(long n) {
        if (unit.equals("B")) return String.format(Locale.ROOT, "%.1f MB", n / 1048576.0);
        return n + " " + unit;
    }

    /** A rate of {@link #unit} per second, with decimals when small (a step of 2 s reads 0.50 steps/s, not 0). */
    String rate(double perSecond) {
        if (unit.equals("B")) return String.format(Locale.ROOT, "%.1f MB", perSecond / 1048576.0);
        String f = perSecond >= 99.95 ? "%.0f" : perSecond >= 9.995 ? "%.1f" : "%.2f";     // by the rounded value: 9.996 reads 10.0
        return String.format(Locale.ROOT, f, perSecond) + " " + unit;
    }

    static String formatDuration(long s) {
        return s >= 3600 ? String.format("%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60)
                : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
