package org.dl4jclipping.constraint;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.Kernels;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Weight clipping by value: after each update every element of the constrained parameters is clamped into
 * {@code [-c, c]}, in place.
 *
 * <p>Formula: {@code w <- min(max(w, -c), c)}. Elements inside the bounds are not written. For float
 * parameters the bound is the largest float {@code <= c}, so every element ends within {@code [-c, c]} exactly;
 * double parameters use {@code c} itself. NaN elements are left as they are (a NaN weight means training has
 * already failed; the gradient clipping's non-finite policy is the place to stop it); +-Inf go to the bounds.
 * Idempotent: a second application changes nothing, bit for bit.
 *
 * <p>Parameters: {@code c} ({@code clipValue}) finite and {@code > 0}; no default (the WGAN paper uses
 * {@code 0.01}). Which parameters: set by the layer builder method that receives it ({@code constrainWeights},
 * {@code constrainBias}, {@code constrainAllParameters}) or by {@link WeightClipping#everyLayer}; weights only
 * is the usual choice. Serialised inside DL4J configurations by class name, with its parameter set.
 *
 * <pre>{@code
 * new DenseLayer.Builder().nIn(64).nOut(64).constrainWeights(new WeightValueClip(0.01)).build()
 * }</pre>
 *
 * <p>Reference: M. Arjovsky, S. Chintala, L. Bottou, "Wasserstein Generative Adversarial Networks", ICML 2017
 * (arXiv:1701.07875), Algorithm 1 ({@code w <- clip(w, -c, c)}, {@code c = 0.01}).
 *
 * @see UnitMaxNorm
 * @see WeightClipping
 */
@Getter
@EqualsAndHashCode(callSuper = true)
public final class WeightValueClip extends ParamConstraint {

    private static final long serialVersionUID = 1L;

    private final double clipValue;

    /**
     * Clamps into {@code [-clipValue, clipValue]}.
     *
     * @param clipValue the bound {@code c}, finite and {@code > 0}
     * @throws IllegalArgumentException naming the field, the value and the allowed range otherwise
     */
    @JsonCreator
    public WeightValueClip(@JsonProperty("clipValue") double clipValue) {
        this.clipValue = Check.positiveFinite("clipValue", clipValue);
    }

    /** Clamps {@code param} into {@code [-c, c]} in place (any shape). */
    public void apply(INDArray param) {
        if (param.length() == 0) {
            return;
        }
        double hi = Kernels.floatBelow(clipValue, param.dataType());
        BooleanIndexing.replaceWhere(param, hi, Conditions.greaterThan(hi));
        BooleanIndexing.replaceWhere(param, -hi, Conditions.lessThan(-hi));
    }

    @Override
    void apply(INDArray param, boolean bias) {
        apply(param);
    }

    @Override
    public WeightValueClip clone() {
        return withParamsOf(new WeightValueClip(clipValue));
    }

    @Override
    public String toString() {
        return "WeightValueClip(" + clipValue + ", params=" + getParams() + ")";
    }
}
