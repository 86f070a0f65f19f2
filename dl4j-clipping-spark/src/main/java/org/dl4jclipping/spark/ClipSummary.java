package org.dl4jclipping.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.dl4jclipping.engine.ClipReport;

/**
 * What the clipping did over a distributed run, summed over every worker's steps: the value of a
 * {@link SparkClipStats} accumulator.
 *
 * <p>A step is one parameter update of one worker's network copy (one minibatch on one worker): with two workers
 * and 10 minibatches each, 20 steps. Norms are the global L2 norms of the worker's local mean gradient before and
 * after clipping ({@link ClipReport#totalNormBefore()}, {@link ClipReport#totalNormAfter()}); steps with a
 * non-finite norm and skipped steps are left out of the norm statistics but counted. The first {@code capacity}
 * steps that reach the driver are also kept one by one ({@link #keptSteps()}), in no particular order across workers.
 */
public final class ClipSummary implements Serializable {

    private static final long serialVersionUID = 1L;

    /** One worker's step. */
    public record Step(String executor, int partition, long iteration, double normBefore, double normAfter,
                       double minScale, long clipped, long zeroed, long nonFinite, boolean skipped)
            implements Serializable {
    }

    private final int capacity;
    long steps;
    long changedSteps;
    long skippedSteps;
    long clippedElements;
    long zeroedElements;
    long nonFiniteElements;
    long normCount;
    double minBefore = Double.POSITIVE_INFINITY;
    double maxBefore = Double.NEGATIVE_INFINITY;
    double sumBefore;
    double minAfter = Double.POSITIVE_INFINITY;
    double maxAfter = Double.NEGATIVE_INFINITY;
    double sumAfter;
    final ArrayList<Step> kept = new ArrayList<>();

    ClipSummary(int capacity) {
        this.capacity = capacity;
    }

    ClipSummary copy() {
        ClipSummary c = new ClipSummary(capacity);
        c.merge(this);
        return c;
    }

    boolean isEmpty() {
        return steps == 0;
    }

    void add(ClipReport r, String executor, int partition) {
        steps++;
        if (r.skipped()) {
            skippedSteps++;
        } else if (r.changed()) {
            changedSteps++;
        }
        clippedElements += r.totalClipped();
        zeroedElements += r.totalZeroed();
        nonFiniteElements += r.totalNonFinite();
        double before = r.totalNormBefore();
        double after = r.totalNormAfter();
        if (!r.skipped() && Double.isFinite(before) && Double.isFinite(after)) {
            normCount++;
            minBefore = Math.min(minBefore, before);
            maxBefore = Math.max(maxBefore, before);
            sumBefore += before;
            minAfter = Math.min(minAfter, after);
            maxAfter = Math.max(maxAfter, after);
            sumAfter += after;
        }
        if (kept.size() < capacity) {
            kept.add(new Step(executor, partition, r.iteration(), before, after, r.minScale(), r.totalClipped(),
                    r.totalZeroed(), r.totalNonFinite(), r.skipped()));
        }
    }

    void merge(ClipSummary o) {
        steps += o.steps;
        changedSteps += o.changedSteps;
        skippedSteps += o.skippedSteps;
        clippedElements += o.clippedElements;
        zeroedElements += o.zeroedElements;
        nonFiniteElements += o.nonFiniteElements;
        normCount += o.normCount;
        minBefore = Math.min(minBefore, o.minBefore);
        maxBefore = Math.max(maxBefore, o.maxBefore);
        sumBefore += o.sumBefore;
        minAfter = Math.min(minAfter, o.minAfter);
        maxAfter = Math.max(maxAfter, o.maxAfter);
        sumAfter += o.sumAfter;
        for (Step s : o.kept) {
            if (kept.size() >= capacity) {
                break;
            }
            kept.add(s);
        }
    }

    /** Clipping steps over all workers (one per minibatch per worker). */
    public long steps() {
        return steps;
    }

    /** Steps in which clipping changed the gradient (scaled, clipped or zeroed anything). */
    public long clippedSteps() {
        return changedSteps;
    }

    /** Steps skipped by a non-finite policy. */
    public long skippedSteps() {
        return skippedSteps;
    }

    /** Elements moved to a bound by value clipping, over all steps. */
    public long clippedElements() {
        return clippedElements;
    }

    /** Elements set to zero (zero-out, non-finite ZERO), over all steps. */
    public long zeroedElements() {
        return zeroedElements;
    }

    /** Non-finite gradient elements found, over all steps. */
    public long nonFiniteElements() {
        return nonFiniteElements;
    }

    /** Smallest global norm before clipping (NaN when no step had a finite norm). */
    public double minNormBefore() {
        return normCount == 0 ? Double.NaN : minBefore;
    }

    /** Mean global norm before clipping over the steps with a finite norm (NaN when none). */
    public double meanNormBefore() {
        return normCount == 0 ? Double.NaN : sumBefore / normCount;
    }

    /** Largest global norm before clipping (NaN when none). */
    public double maxNormBefore() {
        return normCount == 0 ? Double.NaN : maxBefore;
    }

    /** Smallest global norm after clipping (NaN when none). */
    public double minNormAfter() {
        return normCount == 0 ? Double.NaN : minAfter;
    }

    /** Mean global norm after clipping (NaN when none). */
    public double meanNormAfter() {
        return normCount == 0 ? Double.NaN : sumAfter / normCount;
    }

    /** Largest global norm after clipping (NaN when none). */
    public double maxNormAfter() {
        return normCount == 0 ? Double.NaN : maxAfter;
    }

    /** The individual steps kept (at most the accumulator's capacity), in no particular order across workers. */
    public List<Step> keptSteps() {
        return Collections.unmodifiableList(kept);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ClipSummary{steps=%d, clipped=%d, skipped=%d, norm before min/mean/max="
                        + "%.6g/%.6g/%.6g, after=%.6g/%.6g/%.6g, elements clipped=%d, zeroed=%d, nonFinite=%d}",
                steps, changedSteps, skippedSteps, minNormBefore(), meanNormBefore(), maxNormBefore(),
                minNormAfter(), meanNormAfter(), maxNormAfter(), clippedElements, zeroedElements, nonFiniteElements);
    }
}
