package org.dl4jclipping.dl4j;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.dl4jclipping.engine.ClipReport;

/**
 * A bounded history of clipping steps, for plots, CSV files and threshold advice: keeps the last
 * {@code capacity} steps, dropping the oldest.
 *
 * <p>Each {@link Step} holds the iteration, the global L2 norm before and after clipping, the smallest scale
 * applied, the elements clipped, zeroed and non-finite, whether the step was skipped (and whether for a spike),
 * the smallest norm threshold an adaptive strategy used ({@link ClipReport#minThreshold()}, NaN when none), and
 * each layer's L2 norm before and after. Thread-safe.
 */
public final class ClipHistory implements Consumer<ClipReport> {

    /** One recorded step. Layer arrays follow {@link #layers()}. */
    public record Step(long iteration, double normBefore, double normAfter, double minScale, long clipped,
                       long zeroed, long nonFinite, boolean skipped, boolean skippedBySpike, double threshold,
                       double[] layerNormBefore, double[] layerNormAfter) {
    }

    private final int capacity;
    private final Deque<Step> steps = new ArrayDeque<>();
    private List<String> layers = List.of();
    private long recorded;

    /** A history of at most {@code capacity} steps, {@code capacity >= 1}. */
    public ClipHistory(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity = " + capacity + " is out of range: must be >= 1");
        }
        this.capacity = capacity;
    }

    @Override
    public synchronized void accept(ClipReport r) {
        layers = r.layout().layers();
        int n = layers.size();
        double[] before = new double[n];
        double[] after = new double[n];
        for (int l = 0; l < n; l++) {
            before[l] = r.layerNormBefore(l);
            after[l] = r.layerNormAfter(l);
        }
        if (steps.size() == capacity) {
            steps.removeFirst();
        }
        steps.addLast(new Step(r.iteration(), r.totalNormBefore(), r.totalNormAfter(), r.minScale(),
                r.totalClipped(), r.totalZeroed(), r.totalNonFinite(), r.skipped(), r.skippedBySpike(),
                r.minThreshold(), before, after));
        recorded++;
    }

    /**
     * Records a step that did not come from the clipping engine (a private training step, say), with the names of
     * the layers its arrays follow.
     *
     * @param layers the layer names, one per element of the step's per-layer arrays
     */
    public synchronized void record(List<String> layers, Step step) {
        if (step.layerNormBefore().length != layers.size() || step.layerNormAfter().length != layers.size()) {
            throw new IllegalArgumentException("step has " + step.layerNormBefore().length + " / "
                    + step.layerNormAfter().length + " layer norms for " + layers.size() + " layers " + layers);
        }
        this.layers = List.copyOf(layers);
        if (steps.size() == capacity) {
            steps.removeFirst();
        }
        steps.addLast(step);
        recorded++;
    }

    /** The recorded steps, oldest first (a copy). */
    public synchronized List<Step> steps() {
        return new ArrayList<>(steps);
    }

    /** Layer names of the last recorded step, the order of the per-layer arrays. */
    public synchronized List<String> layers() {
        return layers;
    }

    /** Steps seen in all (including those dropped for capacity). */
    public synchronized long recorded() {
        return recorded;
    }

    /** Steps skipped among those kept. */
    public synchronized long skippedSteps() {
        return steps.stream().filter(Step::skipped).count();
    }

    /** Steps among those kept in which anything was clipped, scaled or zeroed. */
    public synchronized long clippedSteps() {
        return steps.stream().filter(s -> !s.skipped() && (s.minScale() < 1 || s.clipped() > 0 || s.zeroed() > 0))
                .count();
    }

    /** Global norms before clipping of the kept steps, oldest first (skipped and non-finite steps left out). */
    public synchronized double[] normsBefore() {
        return steps.stream().filter(s -> !s.skipped() && Double.isFinite(s.normBefore()))
                .mapToDouble(Step::normBefore).toArray();
    }

    /**
     * Writes the kept steps as CSV: {@code iteration,norm_before,norm_after,min_scale,clipped,zeroed,non_finite,
     * skipped,skipped_by_spike,threshold}, then {@code before:<layer>} and {@code after:<layer>} per layer.
     */
    public synchronized void writeCsv(Path file) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            StringBuilder header = new StringBuilder(
                    "iteration,norm_before,norm_after,min_scale,clipped,zeroed,non_finite,skipped,skipped_by_spike,"
                            + "threshold");
            for (String l : layers) {
                header.append(",before:").append(l);
            }
            for (String l : layers) {
                header.append(",after:").append(l);
            }
            w.write(header.append('\n').toString());
            for (Step s : steps) {
                StringBuilder row = new StringBuilder();
                row.append(s.iteration()).append(',').append(num(s.normBefore())).append(',')
                        .append(num(s.normAfter())).append(',').append(num(s.minScale())).append(',')
                        .append(s.clipped()).append(',').append(s.zeroed()).append(',').append(s.nonFinite())
                        .append(',').append(s.skipped()).append(',').append(s.skippedBySpike()).append(',')
                        .append(num(s.threshold()));
                for (double v : s.layerNormBefore()) {
                    row.append(',').append(num(v));
                }
                for (double v : s.layerNormAfter()) {
                    row.append(',').append(num(v));
                }
                w.write(row.append('\n').toString());
            }
        }
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.9g", v);
    }
}
