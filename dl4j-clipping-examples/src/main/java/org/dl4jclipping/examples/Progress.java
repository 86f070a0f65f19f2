package org.dl4jclipping.examples;

import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress on standard error: on a terminal a bar that redraws in place (me.tongfei:progressbar, with rate and
 * ETA); when standard error is not a terminal (CI, a log file) one plain line at every 10% instead of a stream of
 * carriage returns; or nothing when turned off.
 */
final class Progress implements AutoCloseable {

    private final ProgressBar bar;
    private final PrintStream lines;
    private final String task;
    private final long max;
    private int tenths;
    private long done;

    /**
     * @param max     the units of the whole task (steps, or seconds of a time budget)
     * @param start   units already done (a resumed run)
     * @param enabled false: no output at all
     */
    Progress(String task, long max, long start, boolean enabled) {
        this.task = task;
        this.max = Math.max(1, max);
        boolean terminal = System.console() != null;
        this.bar = enabled && terminal ? new ProgressBarBuilder().setTaskName(task).setInitialMax(this.max)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).startsFrom(start, java.time.Duration.ZERO)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build() : null;
        this.lines = enabled && !terminal ? System.err : null;
        this.tenths = (int) (10 * Math.min(start, this.max) / this.max);
        this.done = start;
    }

    /** Advances by one unit. */
    void step(String message) {
        stepTo(done + 1, message);
    }

    /** Advances to {@code done} units; {@code message} describes the latest step. */
    void stepTo(long done, String message) {
        this.done = done;
        if (bar != null) {
            bar.stepTo(done);
            bar.setExtraMessage(message);
        } else if (lines != null) {
            int now = (int) (10 * Math.min(done, max) / max);
            if (now > tenths) {
                tenths = now;
                lines.printf(Locale.ROOT, "%s: %d%% (%d/%d), %s%n", task, 10 * now, Math.min(done, max), max, message);
                lines.flush();
            }
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
