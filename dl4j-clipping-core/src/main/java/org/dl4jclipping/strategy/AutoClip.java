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
 * AutoClip: global-norm clipping with a threshold that is a percentile of the norms seen so far.
 *
 * <p>Each step, as the reference implementation does it:
 * <pre>
 *   n_t = global L2 norm of the gradient (over the rule's parameters)
 *   history.append(n_t)                          (first: step 1 therefore never clips)
 *   c_t = percentile(history, p)                 (numpy's default linear interpolation, see {@link Percentile})
 *   if h_t &gt; c_t:  g &lt;- g * c_t / (n_t + 1e-6)   (PyTorch's clip_grad_norm_ factor, ZClip's guard)
 * </pre>
 * <i>Deliberate difference</i> from the literal reference, which calls {@code clip_grad_norm_(c_t)} and so
 * multiplies by {@code n_t / (n_t + 1e-6)} whenever {@code n_t} is the percentile itself (always at step 1, and at
 * every new maximum with {@code p = 100}): a norm at or below the threshold is left bit-identical here, so step 1
 * and {@code p = 100} never clip, as the paper intends. Above the threshold the factor is the reference's. The
 * comparison uses {@code h_t}, the norm as the history holds it, so that "at or below the threshold" means the same
 * thing in float and double networks (the threshold is made of stored norms).
 * The history keeps the last {@code window} norms (the reference's is unbounded; its TensorFlow port bounds it at
 * 10,000, our default {@value #DEFAULT_WINDOW}).
 *
 * <p>Parameters: {@code percentile} in (0, 100], default {@value #DEFAULT_PERCENTILE} (the paper's
 * recommendation); {@code 100} never clips. {@code window} in [1, 1,000,000].
 *
 * <p>State ({@code 2 * (1 + window)} elements, {@link StateDoubles}): the number of norms appended, then the ring
 * of the last {@code window} norms, each value as a pair of the state's type. Stored in the network's updater
 * state, so in the network's data type, float or double: the pair keeps 48 bits in float, so the count is exact
 * far beyond 2^31 steps and a float network clips exactly when a double network would. A non-finite norm fails the
 * step (put a non-finite policy first) and never enters the history.
 *
 * <p>Reference: P. Seetharaman, G. Wichern, B. Pardo, J. Le Roux, "AutoClip: Adaptive Gradient Clipping for
 * Source Separation Networks", IEEE MLSP 2020, arXiv:2007.14469; code {@code pseeth/autoclip}.
 *
 * @see ZClip
 * @see ClipByNorm
 */
@Getter
@EqualsAndHashCode
public final class AutoClip implements ClipStrategy {

    private static final long serialVersionUID = 1L;

    /** The paper's recommended percentile. */
    public static final double DEFAULT_PERCENTILE = 10.0;
    /** The default history length. */
    public static final int DEFAULT_WINDOW = 1000;
    /** The largest history length accepted. */
    public static final int MAX_WINDOW = 1_000_000;

    private final double percentile;
    private final int window;

    /** AutoClip at the {@code percentile}-th percentile of the last {@code window} global norms. */
    @JsonCreator
    public AutoClip(@JsonProperty("percentile") double percentile, @JsonProperty("window") int window) {
        this.percentile = Check.inHalfOpen("percentile", percentile, 0.0, 100.0);
        this.window = (int) Check.inRange("window", window, 1, MAX_WINDOW);
    }

    private Object readResolve() {
        return new AutoClip(percentile, window);
    }

    @Override
    public int stateSize() {
        return StateDoubles.size(1 + window);
    }

    @Override
    public void apply(ClipStep step) {
        int[] all = step.members();
        double n = step.groupNorm(all, 2.0);
        if (!Double.isFinite(n)) {
            throw step.nonFiniteError(all);
        }
        INDArray state = step.state(this);
        long count = (long) StateDoubles.get(state, 0);
        int slot = 1 + (int) (count % window);
        StateDoubles.put(state, slot, n);
        count++;
        StateDoubles.put(state, 0, count);
        int m = (int) Math.min(count, window);
        double[] history = step.scratch(m);
        for (int k = 0; k < m; k++) {
            history[k] = StateDoubles.get(state, 1 + k);
        }
        double stored = StateDoubles.get(state, slot);
        double threshold = Percentile.ofSorting(history, m, percentile);
        for (int i : all) {
            step.recordThreshold(i, threshold);
        }
        if (stored > threshold) {
            step.scaleGroup(all, threshold / (n + ClipByNorm.EPSILON));
        }
    }

    @Override
    public String toString() {
        return "auto-clip[p=" + percentile + ", window=" + window + "]";
    }
}
