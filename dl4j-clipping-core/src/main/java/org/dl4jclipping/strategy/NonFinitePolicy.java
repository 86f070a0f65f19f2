package org.dl4jclipping.strategy;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStep;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * What to do when a step's gradient holds NaN or +-Inf.
 *
 * <ul>
 *   <li>{@link Action#FAIL}: throw {@link org.dl4jclipping.engine.NonFiniteGradientException} naming the layer,
 *       the parameter, the iteration and the count (PyTorch's {@code error_if_nonfinite=True}). This is also
 *       what happens when no policy is configured at all.</li>
 *   <li>{@link Action#SKIP_STEP}: the step is skipped: parameters and updater state stay bit-identical, the
 *       non-finite elements are counted in the report, and the rest of the chain does not run (Optax
 *       {@code apply_if_finite}).</li>
 *   <li>{@link Action#ZERO}: NaN and +-Inf elements are replaced by 0 and counted; the chain goes on with the
 *       repaired gradient (Optax {@code zero_nans}, extended to infinities).</li>
 * </ul>
 * Detection costs nothing extra: the engine takes every parameter's L2 norm at the start of a step, and a norm
 * is NaN or infinite exactly when an element is (finite elements never overflow it). Elements are counted only
 * when a norm says there is something to count. Put the policy first in a chain: a norm strategy placed before
 * it fails on a non-finite norm.
 */
@Getter
@EqualsAndHashCode
public final class NonFinitePolicy implements ClipStrategy {

    private static final long serialVersionUID = 1L;

    /** The three behaviours; see the class documentation. */
    public enum Action {
        FAIL,
        SKIP_STEP,
        ZERO
    }

    private final Action action;

    /** A policy taking {@code action} on a non-finite gradient. */
    @JsonCreator
    public NonFinitePolicy(@JsonProperty("action") Action action) {
        this.action = Check.notNull("action", action);
    }

    /** Java deserialisation goes through the constructor's validation too. */
    private Object readResolve() {
        return new NonFinitePolicy(action);
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
                    for (int i : all) {
                        step.countNonFinite(i);
                    }
                    step.skip();
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
    public boolean handlesNonFinite() {
        return true;
    }

    @Override
    public String toString() {
        return "non-finite[" + action + "]";
    }
}
