package org.dl4jclipping.engine;

import java.util.Arrays;

/**
 * What one clipping step did: L2 norms before and after per parameter, per layer and in total, the scale applied
 * to each parameter, the elements clipped (value clipping) or zeroed (zero-out, non-finite ZERO), the non-finite
 * elements found, and whether the step was skipped.
 *
 * <p>Norms here are always L2, whatever p the strategies use, so that runs can be compared. "Before" is the
 * gradient the chain received (the mean gradient of the minibatch); "after" is what the updater receives. After
 * norms are derived without another pass where the step only scaled ({@code scale * before}, exact to float
 * rounding) and recomputed only for parameters whose elements were changed. On a skipped step no update is made
 * and "after" repeats "before".
 *
 * <p>The engine reuses one report per {@link Clipper} and overwrites it every step, so that reporting allocates
 * nothing; {@link #copy()} keeps one.
 */
public final class ClipReport {

    private final GradientLayout layout;
    private long iteration;
    private boolean skipped;
    private boolean skippedBySpike;
    final double[] normBefore;
    final double[] threshold;
    final double[] normAfter;
    final double[] scale;
    final long[] clipped;
    final long[] zeroed;
    final long[] nonFinite;

    ClipReport(GradientLayout layout) {
        this.layout = layout;
        int n = layout.size();
        normBefore = new double[n];
        threshold = new double[n];
        normAfter = new double[n];
        scale = new double[n];
        clipped = new long[n];
        zeroed = new long[n];
        nonFinite = new long[n];
    }

    private ClipReport(ClipReport r) {
        layout = r.layout;
        iteration = r.iteration;
        skipped = r.skipped;
        skippedBySpike = r.skippedBySpike;
        normBefore = r.normBefore.clone();
        threshold = r.threshold.clone();
        normAfter = r.normAfter.clone();
        scale = r.scale.clone();
        clipped = r.clipped.clone();
        zeroed = r.zeroed.clone();
        nonFinite = r.nonFinite.clone();
    }

    void reset(long iteration) {
        this.iteration = iteration;
        this.skipped = false;
        this.skippedBySpike = false;
        Arrays.fill(threshold, Double.NaN);
        Arrays.fill(scale, 1.0);
        Arrays.fill(clipped, 0);
        Arrays.fill(zeroed, 0);
        Arrays.fill(nonFinite, 0);
    }

    void markSkipped(boolean bySpike) {
        skipped = true;
        skippedBySpike |= bySpike;
    }

    /** An independent copy of this report. */
    public ClipReport copy() {
        return new ClipReport(this);
    }

    /** The parameters the norms refer to. */
    public GradientLayout layout() {
        return layout;
    }

    /** The iteration the step belonged to. */
    public long iteration() {
        return iteration;
    }

    /**
     * Whether the step was skipped, by a non-finite policy or a spike (the parameters and updater state must not
     * change).
     */
    public boolean skipped() {
        return skipped;
    }

    /** Whether the step was skipped because its loss or gradient norm was a spike ({@code Clip.skipSpikes()}). */
    public boolean skippedBySpike() {
        return skippedBySpike;
    }

    /**
     * The norm threshold an adaptive strategy used for parameter {@code i} this step (AdaGC's
     * {@code lambda_rel * gamma_i}, AutoClip's percentile, ZClip's effective threshold, a spike limit), or NaN
     * when no strategy recorded one. When several did, the last one.
     */
    public double threshold(int i) {
        return threshold[i];
    }

    /** The smallest threshold recorded for any parameter this step, or NaN when none was. */
    public double minThreshold() {
        double m = Double.NaN;
        for (double t : threshold) {
            if (!Double.isNaN(t) && !(t >= m)) {
                m = t;
            }
        }
        return m;
    }

    /** L2 norm of parameter {@code i}'s gradient before clipping. */
    public double normBefore(int i) {
        return normBefore[i];
    }

    /** L2 norm of parameter {@code i}'s gradient after clipping. */
    public double normAfter(int i) {
        return normAfter[i];
    }

    /** The product of the scales applied to parameter {@code i} (1 when not scaled). */
    public double scale(int i) {
        return scale[i];
    }

    /** Elements of parameter {@code i} moved to a bound by value clipping. */
    public long clipped(int i) {
        return clipped[i];
    }

    /** Elements of parameter {@code i} set to zero (zero-out, or non-finite ZERO). */
    public long zeroed(int i) {
        return zeroed[i];
    }

    /** NaN or infinite elements found in parameter {@code i} (counted when a non-finite policy acted). */
    public long nonFinite(int i) {
        return nonFinite[i];
    }

    /** L2 norm of layer {@code l}'s gradient before clipping ({@code l} indexes {@link GradientLayout#layers()}). */
    public double layerNormBefore(int l) {
        return Norms.combine(normBefore, layout.groups(org.dl4jclipping.engine.Scope.LAYER)[l], 2.0);
    }

    /** L2 norm of layer {@code l}'s gradient after clipping. */
    public double layerNormAfter(int l) {
        return Norms.combine(normAfter, layout.groups(org.dl4jclipping.engine.Scope.LAYER)[l], 2.0);
    }

    /** Global L2 norm before clipping: the norm PyTorch's {@code clip_grad_norm_} returns. */
    public double totalNormBefore() {
        return Norms.combine(normBefore, layout.groups(org.dl4jclipping.engine.Scope.GLOBAL)[0], 2.0);
    }

    /** Global L2 norm after clipping. */
    public double totalNormAfter() {
        return Norms.combine(normAfter, layout.groups(org.dl4jclipping.engine.Scope.GLOBAL)[0], 2.0);
    }

    /** Elements moved to a bound, over all parameters. */
    public long totalClipped() {
        return Arrays.stream(clipped).sum();
    }

    /** Elements set to zero, over all parameters. */
    public long totalZeroed() {
        return Arrays.stream(zeroed).sum();
    }

    /** Non-finite elements found, over all parameters. */
    public long totalNonFinite() {
        return Arrays.stream(nonFinite).sum();
    }

    /** The smallest scale applied to any parameter (1 when nothing was scaled). */
    public double minScale() {
        double m = 1.0;
        for (double s : scale) {
            m = Math.min(m, s);
        }
        return m;
    }

    /** Whether the step changed any gradient element. */
    public boolean changed() {
        return !skipped && (minScale() < 1.0 || totalClipped() > 0 || totalZeroed() > 0);
    }

    @Override
    public String toString() {
        return String.format("ClipReport{iteration=%d, skipped=%s, norm %.6g -> %.6g, minScale=%.6g, clipped=%d,"
                        + " zeroed=%d, nonFinite=%d}", iteration, skipped, totalNormBefore(), totalNormAfter(),
                minScale(), totalClipped(), totalZeroed(), totalNonFinite());
    }
}
