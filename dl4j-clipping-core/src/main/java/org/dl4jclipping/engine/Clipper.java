package org.dl4jclipping.engine;

import java.util.Objects;
import org.dl4jclipping.strategy.ClipStrategy;

/**
 * Applies a {@link ClipStrategy} to the gradients of one {@link GradientLayout}, in place, once per training
 * step, and returns what it did.
 *
 * <p>Order of use: create once per network layout; call {@link #clip(long)} after the gradient of a step is
 * complete (the mean over the minibatch, before regularization and the updater); read the report; let the
 * updater run unless {@link ClipReport#skipped()}.
 *
 * <p>Every step first takes each parameter's L2 norm (one BLAS pass: the report's "before" norms, and the
 * non-finite check). When a gradient holds NaN or +-Inf and the strategy has no non-finite policy, the step
 * fails with {@link NonFiniteGradientException}: a silent NaN is never an outcome.
 *
 * <p>Not thread-safe: one clipper per network (per worker under data parallelism). Allocation-free per step,
 * apart from what ND4J's native calls allocate.
 */
public final class Clipper {

    private final ClipStrategy strategy;
    private final ClipStep step;

    /** A clipper applying {@code strategy} to the gradients of {@code layout}. */
    public Clipper(ClipStrategy strategy, GradientLayout layout) {
        this.strategy = Objects.requireNonNull(strategy, "strategy");
        this.step = new ClipStep(Objects.requireNonNull(layout, "layout"));
    }

    /**
     * Clips the layout's gradients in place.
     *
     * @param iteration the training iteration, for messages and reports
     * @return the step's report, reused by the next call (see {@link ClipReport#copy()})
     * @throws NonFiniteGradientException when a gradient is not finite and nothing in the strategy handles it
     */
    public ClipReport clip(long iteration) {
        step.begin(iteration);
        if (!strategy.handlesNonFinite() && step.hasNonFinite()) {
            throw step.nonFiniteError(step.layout().groups(org.dl4jclipping.strategy.Scope.GLOBAL)[0]);
        }
        strategy.apply(step);
        return step.finish();
    }

    /** The strategy applied. */
    public ClipStrategy strategy() {
        return strategy;
    }

    /** The parameters clipped. */
    public GradientLayout layout() {
        return step.layout();
    }
}
