package org.dl4jclipping.strategy;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStep;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.NonFiniteHandling;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * What to do when a step's gradient holds NaN or +-Inf.
 *
 * <ul>
 *   <li>{@link NonFiniteHandling.Action#FAIL}: throw {@link org.dl4jclipping.engine.NonFiniteGradientException} naming the layer,
 *       the parameter, the iteration and the count (PyTorch's {@code error_if_nonfinite=True}). This is also
 *       what happens when no policy is configured at all.</li>
 *   <li>{@link NonFiniteHandling.Action#SKIP_STEP}: the step is skipped: in a DL4J network <b>every</b> parameter and the
 *       <b>whole</b> updater state (clipped layers or not) stay bit-identical, the non-finite elements are counted
 *       in the report, and no strategy runs (Optax {@code apply_if_finite}). After {@code maxConsecutiveSkips}
 *       skipped steps in a row (default {@value #DEFAULT_MAX_CONSECUTIVE_SKIPS}) the next non-finite step fails with
 *       {@link org.dl4jclipping.engine.SkipLimitExceededException} naming the parameters where non-finite values
 *       appeared: a run whose data went bad stops instead of skipping forever. DL4J still counts a skipped
 *       step as an iteration: Adam's bias correction and learning-rate schedules see the iteration number
 *       advance by one, as with PyTorch's {@code GradScaler} skips.</li>
 *   <li>{@link NonFiniteHandling.Action#ZERO}: NaN and +-Inf elements are replaced by 0 and counted; the chain goes on with the
 *       repaired gradient (Optax {@code zero_nans}, extended to infinities).</li>
 * </ul>
 * Detection costs nothing extra: the engine takes every parameter's L2 norm at the start of a step, and a norm
 * is NaN or infinite exactly when an element is (finite elements never overflow it). Elements are counted only
 * when a norm says there is something to count. Put the policy first in a chain: the engine decides a skip from
 * the gradient as it arrives, and a norm strategy placed before a ZERO policy fails on a non-finite norm.
 *
 * <p>Parameters that no rule covers (layers with a plain updater beside clipped ones) are handled by the
 * network's policy: SKIP_STEP if any rule skips, else ZERO if any rule zeroes, else the step fails.
 */
@Getter
@EqualsAndHashCode
public final class NonFinitePolicy implements ClipStrategy {

    private static final long serialVersionUID = 1L;

    /** Skipped steps allowed in a row before the next non-finite step fails. */
    public static final int DEFAULT_MAX_CONSECUTIVE_SKIPS = 10;

    private final NonFiniteHandling.Action action;
    private final int maxConsecutiveSkips;

    /** A policy taking {@code action} on a non-finite gradient, with the default skip limit. */
    public NonFinitePolicy(NonFiniteHandling.Action action) {
        this(action, DEFAULT_MAX_CONSECUTIVE_SKIPS);
    }

    /**
     * A policy taking {@code action} on a non-finite gradient; {@code maxConsecutiveSkips >= 1} (a missing value
     * in JSON written before the limit existed means the default).
     */
    @JsonCreator
    public NonFinitePolicy(@JsonProperty("action") NonFiniteHandling.Action action,
                           @JsonProperty("maxConsecutiveSkips") Integer maxConsecutiveSkips) {
        this.action = Check.notNull("action", action);
        this.maxConsecutiveSkips = maxConsecutiveSkips == null ? DEFAULT_MAX_CONSECUTIVE_SKIPS
                : (int) Check.inRange("maxConsecutiveSkips", maxConsecutiveSkips, 1, Integer.MAX_VALUE);
    }

    /** Java deserialisation goes through the constructor's validation too. */
    private Object readResolve() {
        return new NonFinitePolicy(action, maxConsecutiveSkips == 0 ? null : maxConsecutiveSkips);
    }

    @Override
    public void apply(ClipStep step) {
        int[] all = step.members();
        switch (action) {
            case FAIL -> {
                if (step.hasNonFinite()) {
                    throw step.nonFiniteError(all);
                }
            }
            case SKIP_STEP -> {
                if (step.hasNonFinite()) {
                    step.skip(maxConsecutiveSkips);
                }
            }
            case ZERO -> {
                for (int i : all) {
                    step.zeroNonFinite(i);
                }
            }
            default -> throw new IllegalStateException("unknown action " + action);
        }
    }

    @Override
    public NonFiniteHandling nonFiniteHandling() {
        return new NonFiniteHandling(action, maxConsecutiveSkips);
    }

    @Override
    public String toString() {
        return "non-finite[" + action + (action == NonFiniteHandling.Action.SKIP_STEP
                ? ", max " + maxConsecutiveSkips + " in a row" : "") + "]";
    }
}
