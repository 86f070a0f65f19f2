package org.dl4jclipping.engine;

import java.util.List;

/**
 * Thrown when a step would be skipped (a non-finite gradient, or a spike) after the configured number of
 * consecutive skipped steps ({@link NonFiniteHandling#maxConsecutiveSkips()}): the data or the model went bad, and
 * skipping further would only look like training. Nothing of the step is applied.
 */
public final class SkipLimitExceededException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long iteration;
    private final int consecutiveSkips;
    private final List<String> parameters;

    /**
     * @param iteration        the iteration that would have been skipped once more
     * @param consecutiveSkips the number of steps skipped in a row before it
     * @param parameters       {@code layer/param} keys where non-finite values appeared in those steps and this one,
     *                         and "a loss or gradient-norm spike" when spikes were skipped
     */
    public SkipLimitExceededException(long iteration, int consecutiveSkips, List<String> parameters) {
        super("Step at iteration " + iteration + " would be skipped after " + consecutiveSkips + " consecutive "
                + "skipped steps, the limit: training stopped instead of skipping forever. The skips came from "
                + "non-finite values in, or spikes of: " + parameters + ". Check the data of these iterations (NaN or "
                + "infinite features or labels, outliers), lower the learning rate, or raise the limit with "
                + "Clip.skipNonFinite(maxConsecutive) or the spike skip's maxConsecutiveSkips.");
        this.iteration = iteration;
        this.consecutiveSkips = consecutiveSkips;
        this.parameters = List.copyOf(parameters);
    }

    public long getIteration() {
        return iteration;
    }

    public int getConsecutiveSkips() {
        return consecutiveSkips;
    }

    /** The {@code layer/param} keys where non-finite gradients appeared during the skipped run (and spikes). */
    public List<String> getParameters() {
        return parameters;
    }
}
