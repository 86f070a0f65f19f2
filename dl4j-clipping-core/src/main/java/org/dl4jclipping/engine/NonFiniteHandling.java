package org.dl4jclipping.engine;

/**
 * What a step does when a gradient holds NaN or +-Inf: the engine's view of a non-finite policy
 * ({@code org.dl4jclipping.strategy.NonFinitePolicy} is the strategy that carries one).
 *
 * @param action              fail, skip the step, or zero the non-finite elements
 * @param maxConsecutiveSkips for {@link Action#SKIP_STEP}: how many steps in a row may be skipped; the next
 *                            non-finite step after that many fails with {@link SkipLimitExceededException}
 *                            (Optax {@code apply_if_finite(inner, max_consecutive_errors)}). Ignored by the other
 *                            actions. At least 1.
 */
public record NonFiniteHandling(Action action, int maxConsecutiveSkips) {

    /** The three behaviours. */
    public enum Action {
        /** Throw {@link NonFiniteGradientException} naming layer, parameter, iteration and count (the default). */
        FAIL,
        /** Skip the whole update: parameters and updater state stay bit-identical. */
        SKIP_STEP,
        /** Replace NaN and +-Inf elements by 0 and go on. */
        ZERO
    }

    /** Validates the fields. */
    public NonFiniteHandling {
        if (action == null) {
            throw new IllegalArgumentException("action = null is out of range: must be FAIL, SKIP_STEP or ZERO");
        }
        if (maxConsecutiveSkips < 1) {
            throw new IllegalArgumentException("maxConsecutiveSkips = " + maxConsecutiveSkips
                    + " is out of range: must be >= 1 (to fail at the first non-finite step, use FAIL)");
        }
    }
}
