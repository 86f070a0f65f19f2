package org.dl4jclipping.engine;

import lombok.Getter;

/**
 * Thrown when a step's gradient holds NaN or +-Inf and the clipping chain has no policy for it (or its policy is
 * {@code FAIL}). It names where: layer, parameter, iteration, and how many elements.
 *
 * <p>The message says how to switch to another behaviour: {@code Clip.skipNonFinite()} or
 * {@code Clip.zeroNonFinite()} at the start of the chain.
 */
@Getter
public class NonFiniteGradientException extends ArithmeticException {

    private static final long serialVersionUID = 1L;

    private final String layer;
    private final String param;
    private final long iteration;
    private final long count;

    public NonFiniteGradientException(String layer, String param, long iteration, long count, long length) {
        super("Non-finite gradient at iteration " + iteration + ": layer '" + layer + "' parameter '" + param
                + "' has " + count + " NaN or infinite element(s) of " + length
                + ". To handle such steps instead of failing, start the clipping chain with "
                + "Clip.skipNonFinite() (skip the update) or Clip.zeroNonFinite() (replace them by 0).");
        this.layer = layer;
        this.param = param;
        this.iteration = iteration;
        this.count = count;
    }
}
