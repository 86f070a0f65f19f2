package org.dl4jclipping.strategy;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStep;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Scope;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Clip by norm: each group of gradients whose p-norm exceeds {@code maxNorm} is scaled down to it.
 *
 * <p>Formula, for each group {@code g_1 .. g_k} of the {@link Scope}:
 * <pre>
 *   n = (sum_i ||g_i||_p^p)^(1/p)        (p = inf: n = max_i max_j |g_ij|)
 *   s = min(1, maxNorm / (n + 1e-6))
 *   g_i <- s * g_i                       (only when s &lt; 1: an unclipped group writes nothing)
 * </pre>
 * The epsilon {@value #EPSILON} is PyTorch's. Norms are exact to float64 rounding and overflow-safe (finite
 * elements up to 1e30 never give an infinite norm; 1e-30 never gives 0). An empty group has norm 0.
 *
 * <p>Parameters: {@code maxNorm} finite and {@code > 0} (no default); {@code p >= 1} or {@code +Inf}, default
 * {@value #DEFAULT_P}; {@code scope} default {@link Scope#GLOBAL}.
 *
 * <p>Non-finite: a group whose norm is NaN or +-Inf is never scaled; the step fails with
 * {@link org.dl4jclipping.engine.NonFiniteGradientException} naming the parameter. Put a {@link NonFinitePolicy}
 * before this strategy to skip or repair such steps.
 *
 * <p>Equals PyTorch's {@code clip_grad_norm_} for {@link Scope#GLOBAL} (norm of the per-tensor norms, same
 * epsilon; PyTorch multiplies by 1 when not clipping, we skip the write); for {@link Scope#LAYER} and p = 2 it
 * is DL4J's {@code ClipL2PerLayer} but with the epsilon, and over trainable parameters only (DL4J's includes
 * BatchNormalization's running statistics); Keras's {@code clipnorm} is {@link Scope#PARAMETER},
 * {@code global_clipnorm} is {@link Scope#GLOBAL} (both without epsilon).
 *
 * @see ClipByValue
 */
@Getter
@EqualsAndHashCode
public final class ClipByNorm implements ClipStrategy {

    private static final long serialVersionUID = 1L;

    /** Added to the norm before dividing, as PyTorch does: {@code s = maxNorm / (n + EPSILON)}. */
    public static final double EPSILON = 1e-6;
    /** The default norm order. */
    public static final double DEFAULT_P = 2.0;

    private final double maxNorm;
    private final double p;
    private final Scope scope;

    /** Clips the p-norm of each group of {@code scope} to {@code maxNorm}. */
    public ClipByNorm(double maxNorm, double p, Scope scope) {
        this.maxNorm = Check.positiveFinite("maxNorm", maxNorm);
        if (!(p >= 1.0)) {
            throw Check.outOfRange("p", p, "must be >= 1 (or +Infinity for the max norm)");
        }
        this.p = p;
        this.scope = Check.notNull("scope", scope);
    }

    /** From JSON: a missing {@code p} means {@value #DEFAULT_P}; the scope must be given. */
    @JsonCreator
    static ClipByNorm fromJson(@JsonProperty("maxNorm") double maxNorm, @JsonProperty("p") Double p,
                               @JsonProperty("scope") Scope scope) {
        return new ClipByNorm(maxNorm, p == null ? DEFAULT_P : p, scope);
    }

    /** Java deserialisation goes through the constructor's validation too. */
    private Object readResolve() {
        return new ClipByNorm(maxNorm, p, scope);
    }

    @Override
    public void apply(ClipStep step) {
        for (int[] group : step.groups(scope)) {
            double n = step.groupNorm(group, p);
            if (!Double.isFinite(n)) {
                throw step.nonFiniteError(group);
            }
            double s = Math.min(1.0, maxNorm / (n + EPSILON));
            if (s < 1.0) {
                step.scaleGroup(group, s);
            }
        }
    }

    @Override
    public String toString() {
        return scope.name().toLowerCase() + "-norm[p=" + p + ", max=" + maxNorm + "]";
    }
}
