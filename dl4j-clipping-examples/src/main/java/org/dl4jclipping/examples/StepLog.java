package org.dl4jclipping.examples;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.engine.ClipReport;

/**
 * Per-step metrics of one training run: loss, global gradient norm before and after clipping, whether anything was
 * clipped, whether the step was skipped. Fed by the network's {@code ClippingListener} (also with
 * {@code --clip none}, whose threshold never binds); written as {@code metrics.csv}.
 */
public final class StepLog implements Consumer<ClipReport> {

    /** One step. */
    public record Row(int step, double loss, double normBefore, double normAfter, boolean clipped,
                      boolean skipped) implements java.io.Serializable {
    }

    private final ClipHistory history;
    private final List<Row> rows = new ArrayList<>();
    private double normBefore = Double.NaN;
    private double normAfter = Double.NaN;
    private boolean clipped;
    private boolean skipped;

    public StepLog(int capacity) {
        this.history = new ClipHistory(Math.max(1, capacity));
    }

    /** The library's history (per-layer norms too), for {@code clipping.csv}. */
    public ClipHistory history() {
        return history;
    }

    @Override
    public void accept(ClipReport r) {
        normBefore = r.totalNormBefore();
        normAfter = r.totalNormAfter();
        clipped = !r.skipped() && r.changed();
        skipped = r.skipped();
    }

    /** Records the step just taken with its loss; returns the row. */
    public Row record(double loss) {
        Row row = new Row(rows.size() + 1, loss, normBefore, normAfter, clipped, skipped);
        rows.add(row);
        normBefore = Double.NaN;
        normAfter = Double.NaN;
        clipped = false;
        skipped = false;
        return row;
    }

    /** Continues a resumed run: the rows recorded before its checkpoint come first. */
    void restore(List<Row> earlier) {
        if (!rows.isEmpty()) {
            throw new IllegalStateException("restore before the first step");
        }
        rows.addAll(earlier);
    }

    public List<Row> rows() {
        return rows;
    }

    /** Mean loss of the first {@code n} finite steps. */
    public double firstLoss(int n) {
        return rows.stream().mapToDouble(Row::loss).filter(Double::isFinite).limit(n).average().orElse(Double.NaN);
    }

    /** Mean loss of the last {@code n} steps. */
    public double lastLoss(int n) {
        return rows.subList(Math.max(0, rows.size() - n), rows.size()).stream().mapToDouble(Row::loss).average()
                .orElse(Double.NaN);
    }

    public long clippedSteps() {
        return rows.stream().filter(Row::clipped).count();
    }

    public long skippedSteps() {
        return rows.stream().filter(Row::skipped).count();
    }

    /** {@code step,loss,grad_norm_before,grad_norm_after,clipped,skipped}, with optional leading columns. */
    public static void writeCsv(Path file, String prefixHeader, List<String> prefixes, List<StepLog> logs)
            throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write((prefixHeader == null ? "" : prefixHeader + ",")
                    + "step,loss,grad_norm_before,grad_norm_after,clipped,skipped\n");
            for (int i = 0; i < logs.size(); i++) {
                String prefix = prefixHeader == null ? "" : prefixes.get(i) + ",";
                for (Row r : logs.get(i).rows) {
                    w.write(String.format(Locale.ROOT, "%s%d,%.6g,%.6g,%.6g,%b,%b%n", prefix, r.step, r.loss,
                            r.normBefore, r.normAfter, r.clipped, r.skipped));
                }
            }
        }
    }

    public void writeCsv(Path file) throws IOException {
        writeCsv(file, null, null, List.of(this));
    }
}
