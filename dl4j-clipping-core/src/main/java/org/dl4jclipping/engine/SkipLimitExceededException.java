package org.dl4jclipping.engine;

import java.util.List;

/**
 * Thrown when a step would be skipped for a non-finite gradient after the configured number of consecutive
 * skipped steps ({@link NonFiniteHandling#maxConsecutiveSkips()}): the data or the model went bad, and skipping
 * further would only look like training. Nothing of the step is applied.
 */
public final class SkipLimitExceededException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long iteration;
    private final int consecutiveSkips;
    private final List<String> parameters;

    /**
     * @param iteration        the iteration that would have been skipped once more
     * @param consecutiveSkips the number of steps skipped in a row before it
     * @param parameters       {@code layer/param} keys where non-finite values appeared in those steps and this one
     */
    public SkipLimitExceededException(long iteration, int consecutiveSkips, List<String> parameters) {
        super("Non-finite gradient at iteration " + iteration + " after " + consecutiveSkips + " consecutive skipped "
                + "steps, the limit: training stopped instead of skipping forever. NaN or infinite values appeared in "
                + parameters + ". Check the data of these iterations (NaN or infinite features or labels), lower the "
                + "learning rate, or raise the limit with Clip.skipNonFinite(maxConsecutive).");
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

    /** The {@code layer/param} keys where non-finite gradients appeared during the skipped run. */
    public List<String> getParameters() {
        return parameters;
    }
}
