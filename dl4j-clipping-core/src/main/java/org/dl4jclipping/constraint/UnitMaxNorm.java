package org.dl4jclipping.constraint;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.Kernels;
import org.dl4jclipping.engine.Units;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Max-norm weight constraint per output unit: after each update, every unit whose L2 norm exceeds {@code c} is
 * scaled back to norm {@code c}, in place.
 *
 * <p>Formula, for each unit {@code W_i}: {@code W_i <- W_i * c / (||W_i|| + eps)} when {@code ||W_i|| > c},
 * else unchanged; {@code eps = }{@value #EPSILON}. This is {@code W_i * min(1, c / (||W_i|| + eps))} except in
 * the band {@code c - eps < ||W_i|| <= c}, where the literal formula would shrink a unit that already satisfies
 * the bound (by a factor within {@code eps / c} of 1). We leave such units untouched so that the constraint is
 * idempotent bit for bit in double precision (a scaled unit has norm {@code c * n / (n + eps) < c}, which a
 * second call leaves alone) and so that units inside the bound are never written. In float precision the margin
 * {@code eps / c} falls below float resolution for {@code c} of order 1 or more: a second call may then rescale
 * a just-clipped unit once more by a factor within 2e-7 of 1. After the call every unit's norm is at most
 * {@code c} (up to the rounding of the multiplication, {@code c * (1 + 1e-6)} is a safe bound).
 *
 * <p>Units ({@link Units}, the one definition shared with AGC's gradient units):
 * <ul>
 *   <li>rank 2, weights ({@code [nIn, nOut]}: Dense, Output, LSTM {@code W} and {@code RW}, Embedding): a unit is
 *       a <b>column</b>, the incoming weights of one output unit;</li>
 *   <li>rank 3 or more, weights (convolution {@code [out, in, kh, kw]}, Conv1D, Conv3D): a unit is one slice
 *       along dimension 0, one output channel. Layers with other layouts (Deconvolution2D {@code [in, out, kh,
 *       kw]}, depthwise and separable convolutions) get units along their dimension 0 too, which is not their
 *       output channel;</li>
 *   <li>biases (DL4J's bias keys, {@code [1, n]}) and rank 0 or 1 arrays: the whole array is one unit, as timm
 *       and Optax do for 1-D parameters.</li>
 * </ul>
 *
 * <p>Edge cases: a unit whose norm is NaN or infinite is left as it is (no finite scale brings it to
 * {@code c}; a NaN weight means training has already failed). Norms are accumulated in double and are
 * overflow-safe (BLAS {@code nrm2} or a scaled loop). Cost: one BLAS {@code nrm2} per unit, and one
 * {@code scal} per clipped unit.
 *
 * <p>Compared with DL4J's {@code MaxNormConstraint} (1.0.0-M2.1): DL4J scales every unit by
 * {@code min(n, c) / (n + 1e-6)} ({@code BaseConstraint.DEFAULT_EPSILON = 1e-6}, the same eps as ours; Keras
 * uses 1e-7), so units inside the bound shrink by {@code n / (n + 1e-6)} at every call, and DL4J calls it
 * twice per iteration. Its units are the norm {@code dimensions} you pass: its Javadoc recommends dimension 1
 * for dense and recurrent layers, which on DL4J's {@code [nIn, nOut]} weights is the norm of each <b>row</b>,
 * the outgoing weights of one input, not per output unit. {@code new MaxNormConstraint(c, 0)} on dense weights
 * and {@code new MaxNormConstraint(c, 1, 2, 3)} on convolution weights use the same units as this class, and
 * agree with it exactly on every clipped unit.
 *
 * <p>Parameters: {@code c} ({@code maxNorm}) finite and {@code > 0}; no default (Srivastava et al. report 3 to 4
 * as typical). Which parameters: set by the layer builder method ({@code constrainWeights} is the usual one) or
 * by {@link WeightClipping#everyLayer}. Serialised inside DL4J configurations by class name.
 *
 * <pre>{@code
 * new DenseLayer.Builder().nIn(784).nOut(256).constrainWeights(new UnitMaxNorm(3.0)).build()
 * }</pre>
 *
 * <p>References: Keras {@code keras.constraints.MaxNorm} ({@code w * clip(n, 0, c) / (eps + n)}, eps 1e-7);
 * N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever, R. Salakhutdinov, "Dropout: A Simple Way to Prevent
 * Neural Networks from Overfitting", JMLR 15, 2014 (max-norm regularisation).
 *
 * @see WeightValueClip
 * @see WeightClipping
 */
@Getter
@EqualsAndHashCode(callSuper = true)
public final class UnitMaxNorm extends ParamConstraint {

    private static final long serialVersionUID = 1L;

    /** The {@code eps} of the formula, added to the norm in the scale's denominator. */
    public static final double EPSILON = 1e-6;

    private final double maxNorm;

    /**
     * Limits every unit's L2 norm to {@code maxNorm}.
     *
     * @param maxNorm the bound {@code c}, finite and {@code > 0}
     * @throws IllegalArgumentException naming the field, the value and the allowed range otherwise
     */
    @JsonCreator
    public UnitMaxNorm(@JsonProperty("maxNorm") double maxNorm) {
        this.maxNorm = Check.positiveFinite("maxNorm", maxNorm);
    }

    /**
     * Applies the constraint to a weight array in place, with units by rank: rank 2 columns, rank 3+ slices
     * along dimension 0, rank 0-1 the whole array.
     */
    public void apply(INDArray param) {
        apply(param, false);
    }

    /** Applies the constraint to {@code param} as one unit (a bias), in place. */
    public void applyToWhole(INDArray param) {
        apply(param, true);
    }

    @Override
    void apply(INDArray param, boolean bias) {
        for (INDArray unit : Units.of(param, !bias)) {
            clipUnit(unit);
        }
    }

    private void clipUnit(INDArray unit) {
        double n = Kernels.norm2(unit);
        if (Double.isFinite(n) && n > maxNorm) {
            Kernels.scale(unit, maxNorm / (n + EPSILON));
        }
    }

    @Override
    public UnitMaxNorm clone() {
        return withParamsOf(new UnitMaxNorm(maxNorm));
    }

    @Override
    public String toString() {
        return "UnitMaxNorm(" + maxNorm + ", params=" + getParams() + ")";
    }
}
