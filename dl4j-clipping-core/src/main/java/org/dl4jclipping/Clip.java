package org.dl4jclipping;

import java.util.Arrays;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.NonFiniteHandling;
import org.dl4jclipping.engine.Scope;
import org.dl4jclipping.strategy.AdaGC;
import org.dl4jclipping.strategy.AdaptiveGradientClip;
import org.dl4jclipping.strategy.AutoClip;
import org.dl4jclipping.strategy.ClipByNorm;
import org.dl4jclipping.strategy.ClipByValue;
import org.dl4jclipping.strategy.ClipChain;
import org.dl4jclipping.strategy.NonFinitePolicy;
import org.dl4jclipping.strategy.SkipSpikes;
import org.dl4jclipping.strategy.ZClip;
import org.dl4jclipping.strategy.ZeroOut;

/**
 * The factory of every clipping strategy; what a user writes.
 *
 * <pre>{@code
 * ClipStrategy clip = Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1.0));
 * }</pre>
 *
 * Each method validates its arguments at once ({@link IllegalArgumentException} naming field, value and range).
 * The strategies' own classes document the formulas.
 */
public final class Clip {

    private Clip() {
    }

    /** {@code x <- min(max(x, -c), c)} element-wise. See {@link ClipByValue}. */
    public static ClipByValue value(double c) {
        return ClipByValue.symmetric(c);
    }

    /** {@code x <- min(max(x, lo), hi)} element-wise. See {@link ClipByValue}. */
    public static ClipByValue value(double lo, double hi) {
        return new ClipByValue(lo, hi);
    }

    /** Scales all trainable gradients together so that their global L2 norm is at most {@code maxNorm}. */
    public static ClipByNorm globalNorm(double maxNorm) {
        return norm(maxNorm, ClipByNorm.DEFAULT_P, Scope.GLOBAL);
    }

    /** Scales each layer's gradients so that the layer's L2 norm is at most {@code maxNorm}. */
    public static ClipByNorm layerNorm(double maxNorm) {
        return norm(maxNorm, ClipByNorm.DEFAULT_P, Scope.LAYER);
    }

    /** Scales each parameter's gradient so that its L2 norm is at most {@code maxNorm}. */
    public static ClipByNorm parameterNorm(double maxNorm) {
        return norm(maxNorm, ClipByNorm.DEFAULT_P, Scope.PARAMETER);
    }

    /**
     * Scales each group of {@code scope} so that its p-norm is at most {@code maxNorm}; p >= 1, or
     * {@code Double.POSITIVE_INFINITY} for the max norm. See {@link ClipByNorm}.
     */
    public static ClipByNorm norm(double maxNorm, double p, Scope scope) {
        return new ClipByNorm(maxNorm, p, scope);
    }

    /** {@code x <- 0} where {@code |x| > threshold}. See {@link ZeroOut}. */
    public static ZeroOut zeroOut(double threshold) {
        return new ZeroOut(threshold);
    }

    /**
     * A non-finite gradient skips the step: every parameter and the whole updater state unchanged, the skip
     * counted; after {@value NonFinitePolicy#DEFAULT_MAX_CONSECUTIVE_SKIPS} skipped steps in a row the next
     * non-finite step fails. See {@link NonFinitePolicy}.
     */
    public static NonFinitePolicy skipNonFinite() {
        return new NonFinitePolicy(NonFiniteHandling.Action.SKIP_STEP);
    }

    /**
     * As {@link #skipNonFinite()}, failing once {@code maxConsecutive} (>= 1) steps in a row have been skipped
     * (Optax's {@code apply_if_finite(inner, max_consecutive_errors)}).
     */
    public static NonFinitePolicy skipNonFinite(int maxConsecutive) {
        return new NonFinitePolicy(NonFiniteHandling.Action.SKIP_STEP, maxConsecutive);
    }

    /** NaN and +-Inf gradient elements are replaced by 0 and counted. */
    public static NonFinitePolicy zeroNonFinite() {
        return new NonFinitePolicy(NonFiniteHandling.Action.ZERO);
    }

    /** A non-finite gradient fails the step, naming layer, parameter and iteration (also the default). */
    public static NonFinitePolicy failOnNonFinite() {
        return new NonFinitePolicy(NonFiniteHandling.Action.FAIL);
    }

    /**
     * AGC: each unit's gradient clipped to {@code clipFactor} times its weights' norm; output layer excluded.
     * See {@link AdaptiveGradientClip}.
     */
    public static AdaptiveGradientClip agc(double clipFactor) {
        return AdaptiveGradientClip.of(clipFactor);
    }

    /**
     * AutoClip: global-norm clipping at the {@code percentile}-th percentile of the global norms seen so far
     * (last {@value AutoClip#DEFAULT_WINDOW}). See {@link AutoClip}.
     */
    public static AutoClip autoClip(double percentile) {
        return new AutoClip(percentile, AutoClip.DEFAULT_WINDOW);
    }

    /** ZClip with the reference's defaults (z-score 2.5, alpha 0.97, warm-up 25, cap 1.0). See {@link ZClip}. */
    public static ZClip zClip() {
        return ZClip.builder().build();
    }

    /**
     * AdaGC with the reference's defaults: a threshold per parameter tensor from the EMA of its own clipped norms
     * ({@code lambdaRel = 1.05}, {@code beta = 0.98}, warm-up 100 steps under a global norm of 1.0). See
     * {@link AdaGC}.
     */
    public static AdaGC adaGC() {
        return AdaGC.builder().build();
    }

    /**
     * Skips a step whose loss or global gradient norm is a spike (above mean + 6 std of the last 128); at most
     * {@value NonFinitePolicy#DEFAULT_MAX_CONSECUTIVE_SKIPS} skips in a row. See {@link SkipSpikes}.
     */
    public static SkipSpikes skipSpikes() {
        return SkipSpikes.builder().build();
    }

    /** The strategies applied in order, each on the output of the one before. See {@link ClipChain}. */
    public static ClipChain chain(ClipStrategy... strategies) {
        return new ClipChain(strategies == null ? null : Arrays.asList(strategies));
    }
}
