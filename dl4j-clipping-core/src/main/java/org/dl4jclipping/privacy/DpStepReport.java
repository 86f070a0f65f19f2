package org.dl4jclipping.privacy;

/**
 * What one DP-SGD step did: the per-example gradient norms before clipping, how many were clipped, the noise, and
 * the privacy spent after the step.
 *
 * @param step              the network's iteration count before the step
 * @param batchSize         the examples in the (Poisson-sampled) batch; may be 0
 * @param expectedBatchSize {@code q * N}, what the noisy sum was divided by
 * @param fastPath          whether the per-example gradients came from the fast path (else the generic one)
 * @param norms             each example's gradient L2 norm over all parameters, before clipping
 * @param fractionClipped   the fraction of examples scaled down (factor below 1 on any clipped group); 0 for an
 *                          empty batch
 * @param noiseStd          the standard deviation of the noise added to the clipped sum: {@code sigma * C}, with
 *                          {@code C} the flat threshold or the L2 norm of the per-layer thresholds
 * @param noiseSource       {@link NoiseSource#description()}: which generator, and whether it is private
 * @param epsilon           the epsilon spent after this step, at {@code delta}
 * @param delta             the delta of the guarantee
 * @param layers            the layers with parameters, in order (names as {@link PerExampleGradients#layerNames()})
 * @param minFactor         the smallest per-example clipping factor {@code min(1, C / (n + 1e-6))} of the step (1
 *                          when nothing was clipped)
 * @param layerNormClipped  per layer, the L2 norm of the clipped average {@code sum_i f_i g_i / (q N)}: what the
 *                          data contributed, before the noise
 * @param layerNormNoisy    per layer, the L2 norm of the gradient the updater received (clipped average plus noise)
 */
public record DpStepReport(long step, int batchSize, double expectedBatchSize, boolean fastPath, double[] norms,
                           double fractionClipped, double noiseStd, String noiseSource, double epsilon,
                           double delta, java.util.List<String> layers, double minFactor, double[] layerNormClipped,
                           double[] layerNormNoisy) {

    /** The number of examples scaled down. */
    public long clippedExamples() {
        return Math.round(fractionClipped * batchSize);
    }

    /** The L2 norm over all layers of {@link #layerNormClipped}. */
    public double normClipped() {
        return NoisyClippedSum.l2(layerNormClipped);
    }

    /** The L2 norm over all layers of {@link #layerNormNoisy}. */
    public double normNoisy() {
        return NoisyClippedSum.l2(layerNormNoisy);
    }

    /** The smallest per-example norm; NaN for an empty batch. */
    public double minNorm() {
        double min = Double.NaN;
        for (double n : norms) {
            min = Double.isNaN(min) ? n : Math.min(min, n);
        }
        return min;
    }

    /** The mean per-example norm; NaN for an empty batch. */
    public double meanNorm() {
        double sum = 0;
        for (double n : norms) {
            sum += n;
        }
        return norms.length == 0 ? Double.NaN : sum / norms.length;
    }

    /** The largest per-example norm; NaN for an empty batch. */
    public double maxNorm() {
        double max = Double.NaN;
        for (double n : norms) {
            max = Double.isNaN(max) ? n : Math.max(max, n);
        }
        return max;
    }

    @Override
    public String toString() {
        return String.format("DP step %d: batch %d (expected %.1f, %s path), per-example norms min %.4g mean %.4g "
                        + "max %.4g, %.1f%% clipped, noise std %.4g (%s), epsilon %.4f at delta %.1e", step, batchSize,
                expectedBatchSize, fastPath ? "fast" : "generic", minNorm(), meanNorm(), maxNorm(),
                100 * fractionClipped, noiseStd, noiseSource, epsilon, delta);
    }
}
