package org.dl4jclipping.strategy;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStep;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.StateDoubles;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * AdaGC: a clipping threshold per parameter tensor, from the exponential moving average of that tensor's own
 * clipped gradient norms.
 *
 * <p>With {@code t} the step (1 on the first), {@code g_i} the gradient of member tensor {@code i} and
 * {@code gamma_i} its state:
 * <ol>
 *   <li>Warm-up, {@code t < warmupSteps}: {@code G} = global L2 norm over the rule's tensors,
 *       {@code h = min(lambdaAbs / (G + eps), 1)}, {@code g_i <- h * g_i} for every tensor; then
 *       {@code gamma_i <- ||g_i||} (after scaling) at {@code t = 1}, else {@code gamma_i <- min(gamma_i, ||g_i||)}.</li>
 *   <li>After warm-up: {@code h_i = min(lambdaRel * gamma_i / ||g_i||, 1)}, {@code g_i <- h_i * g_i},
 *       {@code gamma_i <- beta * gamma_i + (1 - beta) * ||g_i||} (the clipped norm).</li>
 * </ol>
 * Defaults are the reference's: {@code lambdaAbs = 1.0}, {@code lambdaRel = 1.05}, {@code beta = 0.98},
 * {@code warmupSteps = 100}, {@code eps = 1e-8}.
 *
 * <p>Edge cases, beyond the reference: a tensor whose gradient norm is 0 keeps {@code h_i = 1} (no 0/0); a
 * non-finite norm fails the step (or is skipped by a non-finite policy placed before) and never enters
 * {@code gamma}. As in the reference, a tensor whose gradient was 0 during warm-up keeps {@code gamma_i = 0}, and
 * after warm-up its gradient is scaled to 0 at every step: use a warm-up over which every tensor is trained.
 * The report records {@code lambdaAbs} (warm-up) or {@code lambdaRel * gamma_i} as each tensor's threshold.
 *
 * <p>State: the step count {@code t} once per rule ({@link #stateSize()}), {@code gamma_i} once per tensor
 * ({@link #parameterStateSize()}), each a double kept as a pair of the state's type ({@link StateDoubles}), so a
 * float network keeps 48 bits and counts exactly; in a DL4J network both live in the updater state, which
 * {@code ModelSerializer} saves and restores bit-identically.
 *
 * <p>Reference: Wang et al., "AdaGC: Improving Training Stability for Large Language Model Pretraining", 2025,
 * arXiv:2502.11034; the public {@code pytorch_optimizer} package, {@code optimizer/adagc.py} (there fused into
 * AdamW; here the clipping alone, in front of any DL4J updater).
 */
@Getter
@EqualsAndHashCode
public final class AdaGC implements ClipStrategy {

    private static final long serialVersionUID = 1L;

    public static final double DEFAULT_LAMBDA_ABS = 1.0;
    public static final double DEFAULT_LAMBDA_REL = 1.05;
    public static final double DEFAULT_BETA = 0.98;
    public static final int DEFAULT_WARMUP_STEPS = 100;
    public static final double DEFAULT_EPS = 1e-8;

    private final double lambdaAbs;
    private final double lambdaRel;
    private final double beta;
    private final int warmupSteps;
    private final double eps;

    /** AdaGC with every parameter given; see {@link #builder()} for the defaults. */
    @JsonCreator
    public AdaGC(@JsonProperty("lambdaAbs") double lambdaAbs, @JsonProperty("lambdaRel") double lambdaRel,
                 @JsonProperty("beta") double beta, @JsonProperty("warmupSteps") int warmupSteps,
                 @JsonProperty("eps") double eps) {
        this.lambdaAbs = Check.positiveFinite("lambdaAbs", lambdaAbs);
        this.lambdaRel = Check.positiveFinite("lambdaRel", lambdaRel);
        if (!(beta >= 0.0 && beta < 1.0)) {
            throw Check.outOfRange("beta", beta, "must be in [0, 1)");
        }
        this.beta = beta;
        this.warmupSteps = (int) Check.inRange("warmupSteps", warmupSteps, 2, 10_000_000);
        this.eps = Check.positiveFinite("eps", eps);
    }

    private Object readResolve() {
        return new AdaGC(lambdaAbs, lambdaRel, beta, warmupSteps, eps);
    }

    /** A builder starting from the reference's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public int stateSize() {
        return StateDoubles.size(1);
    }

    @Override
    public int parameterStateSize() {
        return StateDoubles.size(1);
    }

    @Override
    public void apply(ClipStep step) {
        int[] all = step.members();
        INDArray st = step.state(this);
        long t = (long) StateDoubles.get(st, 0) + 1;
        if (t < warmupSteps) {
            double g = step.groupNorm(all, 2.0);
            if (!Double.isFinite(g)) {
                throw step.nonFiniteError(all);
            }
            double h = Math.min(lambdaAbs / (g + eps), 1.0);
            if (h < 1.0) {
                step.scaleGroup(all, h);
            }
            for (int i : all) {
                INDArray gamma = step.parameterState(this, i);
                double n = step.norm2(i);
                StateDoubles.put(gamma, 0, t == 1 ? n : Math.min(StateDoubles.get(gamma, 0), n));
                step.recordThreshold(i, lambdaAbs);
            }
        } else {
            for (int i : all) {
                if (!Double.isFinite(step.norm2(i))) {
                    throw step.nonFiniteError(all); // before any tensor is scaled or any gamma moves
                }
            }
            for (int i : all) {
                INDArray gamma = step.parameterState(this, i);
                double gi = StateDoubles.get(gamma, 0);
                double n = step.norm2(i);
                double threshold = lambdaRel * gi;
                double h = n == 0.0 ? 1.0 : Math.min(threshold / n, 1.0);
                if (h < 1.0) {
                    step.scale(i, h);
                }
                StateDoubles.put(gamma, 0, beta * gi + (1 - beta) * step.norm2(i));
                step.recordThreshold(i, threshold);
            }
        }
        StateDoubles.put(st, 0, t);
    }

    @Override
    public String toString() {
        return "adagc[lambdaAbs=" + lambdaAbs + ", lambdaRel=" + lambdaRel + ", beta=" + beta + ", warmup="
                + warmupSteps + ", eps=" + eps + "]";
    }

    /** Builder with the reference's defaults; {@link #build()} validates. */
    public static final class Builder {
        private double lambdaAbs = DEFAULT_LAMBDA_ABS;
        private double lambdaRel = DEFAULT_LAMBDA_REL;
        private double beta = DEFAULT_BETA;
        private int warmupSteps = DEFAULT_WARMUP_STEPS;
        private double eps = DEFAULT_EPS;

        private Builder() {
        }

        /** Global-norm cap during warm-up, > 0, default 1.0. */
        public Builder lambdaAbs(double v) {
            lambdaAbs = v;
            return this;
        }

        /** Relative threshold factor on gamma after warm-up, > 0, default 1.05. */
        public Builder lambdaRel(double v) {
            lambdaRel = v;
            return this;
        }

        /** EMA factor of gamma, in [0, 1), default 0.98. */
        public Builder beta(double v) {
            beta = v;
            return this;
        }

        /** Steps {@code t < warmupSteps} are warm-up, >= 2 (step 1 initialises gamma), default 100. */
        public Builder warmupSteps(int v) {
            warmupSteps = v;
            return this;
        }

        /** Added to the global norm in the warm-up division, > 0, default 1e-8. */
        public Builder eps(double v) {
            eps = v;
            return this;
        }

        public AdaGC build() {
            return new AdaGC(lambdaAbs, lambdaRel, beta, warmupSteps, eps);
        }
    }
}
