package org.dl4jclipping.strategy;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStep;
import org.dl4jclipping.engine.ClipStrategy;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Clip by value: every gradient element is clamped into {@code [lo, hi]}.
 *
 * <p>Formula: {@code x <- min(max(x, lo), hi)}; by default {@code lo = -c, hi = c}. +-Inf go to the bounds; NaN
 * is left as it is, for the non-finite policy (the engine fails the step when there is none). A step with every
 * element inside the bounds writes nothing.
 *
 * <p>Parameters: {@code lo} and {@code hi} finite with {@code lo < hi}; {@code c} finite and {@code > 0}. No
 * default: the threshold depends on the model.
 *
 * <p>Reports the number of elements moved to a bound per parameter.
 *
 * <p>Same as PyTorch's {@code clip_grad_value_}, Keras's {@code clipvalue} and DL4J's
 * {@code GradientNormalization.ClipElementWiseAbsoluteValue}.
 *
 * @see ZeroOut
 * @see ClipByNorm
 */
@Getter
@EqualsAndHashCode
public final class ClipByValue implements ClipStrategy {

    private static final long serialVersionUID = 1L;

    private final double lo;
    private final double hi;

    /** Clamps into {@code [lo, hi]}. */
    @JsonCreator
    public ClipByValue(@JsonProperty("lo") double lo, @JsonProperty("hi") double hi) {
        this.lo = Check.finite("lo", lo);
        this.hi = Check.finite("hi", hi);
        if (!(lo < hi)) {
            throw Check.outOfRange("lo", lo, "must be < hi = " + hi);
        }
    }

    /** Clamps into {@code [-c, c]}. */
    public static ClipByValue symmetric(double c) {
        Check.positiveFinite("clipValue", c);
        return new ClipByValue(-c, c);
    }

    /** Java deserialisation goes through the constructor's validation too. */
    private Object readResolve() {
        return new ClipByValue(lo, hi);
    }

    @Override
    public void apply(ClipStep step) {
        for (int i : step.members()) {
            step.clamp(i, lo, hi);
        }
    }

    @Override
    public String toString() {
        return "value[" + lo + ", " + hi + "]";
    }
}
