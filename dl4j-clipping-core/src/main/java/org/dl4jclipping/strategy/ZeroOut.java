package org.dl4jclipping.strategy;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStep;
import org.dl4jclipping.engine.ClipStrategy;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Zero-out: gradient elements larger in magnitude than a threshold are set to zero ("gradient cut to zero").
 *
 * <p>Formula: {@code x <- 0 where |x| > t}. So +-Inf become 0; NaN is left for the non-finite policy. Unlike
 * {@link ClipByValue}, an outlier does not keep a large value in its own direction: it stops contributing.
 *
 * <p>Parameters: {@code threshold} finite and {@code > 0}, no default. Reports the elements zeroed per parameter.
 * A parameter whose L2 norm is at most the threshold is not read again (no element can exceed it).
 *
 * @see ClipByValue
 */
@Getter
@EqualsAndHashCode
public final class ZeroOut implements ClipStrategy {

    private static final long serialVersionUID = 1L;

    private final double threshold;

    /** Zeroes elements with {@code |x| > threshold}. */
    @JsonCreator
    public ZeroOut(@JsonProperty("threshold") double threshold) {
        this.threshold = Check.positiveFinite("threshold", threshold);
    }

    /** Java deserialisation goes through the constructor's validation too. */
    private Object readResolve() {
        return new ZeroOut(threshold);
    }

    @Override
    public void apply(ClipStep step) {
        for (int i : step.members()) {
            step.zeroAbove(i, threshold);
        }
    }

    @Override
    public String toString() {
        return "zero-out[|x| > " + threshold + "]";
    }
}
