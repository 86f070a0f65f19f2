package org.dl4jclipping.engine;

import java.util.List;
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

    private final List<ClipRule> rules;
    private final ClipStep step;

    /** A clipper applying {@code strategy} to every parameter of {@code layout}. */
    public Clipper(ClipStrategy strategy, GradientLayout layout) {
        this(List.of(ClipRule.all(strategy, Objects.requireNonNull(layout, "layout"))), layout);
    }

    /**
     * A clipper applying each rule's strategy to the rule's parameters, rules in order. Parameters in no rule are
     * reported but never changed.
     */
    public Clipper(List<ClipRule> rules, GradientLayout layout) {
        this.rules = List.copyOf(rules);
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
        return clip(iteration, 1.0);
    }

    /**
     * Clips gradients that are still minibatch sums: for every parameter marked
     * {@link ParamGradient#batchSummed()}, norms and thresholds apply to {@code view / batchDivisor}, so that
     * clipping the sum now and dividing later equals clipping the mean (exactly in real arithmetic; in floating
     * point the two orders may differ in the last bit of an element, and not at all when the divisor is a power
     * of two). Reports are in units of the mean gradient.
     *
     * @param iteration    the training iteration, for messages and reports
     * @param batchDivisor the number the summed views will be divided by (the minibatch size), >= 1
     * @return the step's report, reused by the next call
     */
    public ClipReport clip(long iteration, double batchDivisor) {
        if (!(batchDivisor >= 1.0) || Double.isInfinite(batchDivisor)) {
            throw new IllegalArgumentException("batchDivisor = " + batchDivisor
                    + " is out of range: must be finite and >= 1");
        }
        step.begin(iteration, batchDivisor);
        for (ClipRule rule : rules) {
            step.restrict(rule);
            if (!rule.strategy().handlesNonFinite() && step.hasNonFinite()) {
                throw step.nonFiniteError(rule.members());
            }
        }
        for (ClipRule rule : rules) {
            step.restrict(rule);
            rule.strategy().apply(step);
            if (step.skipped()) {
                break;
            }
        }
        return step.finish();
    }

    /** The rules applied, in order. */
    public List<ClipRule> rules() {
        return rules;
    }

    /** The parameters clipped. */
    public GradientLayout layout() {
        return step.layout();
    }
}
