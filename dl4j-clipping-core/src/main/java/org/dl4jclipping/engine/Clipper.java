package org.dl4jclipping.engine;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Applies a {@link ClipStrategy} to the gradients of one {@link GradientLayout}, in place, once per training
 * step, and returns what it did.
 *
 * <p>Order of use: create once per network layout; call {@link #clip(long)} after the gradient of a step is
 * complete (the mean over the minibatch, before regularization and the updater); read the report; let the
 * updater run unless {@link ClipReport#skipped()}.
 *
 * <p>Every step first takes each parameter's L2 norm (one BLAS pass: the report's "before" norms, and the
 * non-finite check), then, before any strategy runs:
 * <ol>
 *   <li>a rule whose strategy has no non-finite policy fails on a NaN or +-Inf gradient among its parameters
 *       ({@link NonFiniteGradientException}): a silent NaN is never an outcome;</li>
 *   <li>parameters that no rule covers are held to the network's policy: SKIP_STEP if any rule skips, else ZERO
 *       if any rule zeroes, else they fail as in 1;</li>
 *   <li>a skip is decided on the gradient as it arrives: when a rule whose strategy starts with a SKIP_STEP
 *       policy, or an uncovered parameter under the network's SKIP_STEP, holds a non-finite value, the step is
 *       skipped before any strategy of any rule runs, so that no adaptive state moves. (A SKIP_STEP policy later
 *       in a chain decides on the output of the members before it, as chains are defined.) After {@link NonFiniteHandling#maxConsecutiveSkips()} skipped steps in a row the
 *       next one throws {@link SkipLimitExceededException} instead.</li>
 * </ol>
 * Then the rules run in order.
 *
 * <p>Not thread-safe: one clipper per network (per worker under data parallelism). Allocation-free per step,
 * apart from what ND4J's native calls allocate and a skipped step's bookkeeping.
 */
public final class Clipper {

    private final List<ClipRule> rules;
    private final ClipStep step;
    private final int[] uncovered;
    private final NonFiniteHandling[] handling;      // per rule: its non-finite policy, or null
    private final NonFiniteHandling[] leadHandling;  // per rule: the policy its strategy starts with, or null
    private final NonFiniteHandling networkHandling;
    private int consecutiveSkips;
    private final Set<String> skippedWhere = new LinkedHashSet<>();

    /** A clipper applying {@code strategy} to every parameter of {@code layout}. */
    public Clipper(ClipStrategy strategy, GradientLayout layout) {
        this(List.of(ClipRule.all(strategy, Objects.requireNonNull(layout, "layout"))), layout);
    }

    /**
     * A clipper applying each rule's strategy to the rule's parameters, rules in order. Parameters in no rule are
     * reported and never clipped; a non-finite value among them is handled by the network's policy (see above).
     */
    public Clipper(List<ClipRule> rules, GradientLayout layout) {
        this.rules = List.copyOf(rules);
        this.step = new ClipStep(Objects.requireNonNull(layout, "layout"));
        boolean[] covered = new boolean[layout.size()];
        for (ClipRule rule : this.rules) {
            for (int i : rule.members()) {
                covered[i] = true;
            }
        }
        this.uncovered = IntStream.range(0, covered.length).filter(i -> !covered[i]).toArray();
        this.handling = this.rules.stream().map(r -> r.strategy().nonFiniteHandling())
                .toArray(NonFiniteHandling[]::new);
        this.leadHandling = this.rules.stream().map(r -> r.strategy().parts().get(0).nonFiniteHandling())
                .toArray(NonFiniteHandling[]::new);
        this.networkHandling = networkHandling(handling);
    }

    /** SKIP_STEP if any rule skips (with the smallest limit), else ZERO if any rule zeroes, else null. */
    private static NonFiniteHandling networkHandling(NonFiniteHandling[] handling) {
        NonFiniteHandling skip = null;
        NonFiniteHandling zero = null;
        for (NonFiniteHandling h : handling) {
            if (h == null) {
                continue;
            }
            if (h.action() == NonFiniteHandling.Action.SKIP_STEP
                    && (skip == null || h.maxConsecutiveSkips() < skip.maxConsecutiveSkips())) {
                skip = h;
            } else if (h.action() == NonFiniteHandling.Action.ZERO) {
                zero = h;
            }
        }
        return skip != null ? skip : zero;
    }

    /**
     * Clips the layout's gradients in place.
     *
     * @param iteration the training iteration, for messages and reports
     * @return the step's report, reused by the next call (see {@link ClipReport#copy()})
     * @throws NonFiniteGradientException when a gradient is not finite and nothing in the strategy handles it
     * @throws SkipLimitExceededException when a step would be skipped after the allowed number in a row
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
        return clip(iteration, batchDivisor, Double.NaN);
    }

    /**
     * As {@link #clip(long, double)}, with the step's training loss for strategies that watch it
     * ({@code Clip.skipSpikes()}); NaN when unknown.
     */
    public ClipReport clip(long iteration, double batchDivisor, double loss) {
        if (!(batchDivisor >= 1.0) || Double.isInfinite(batchDivisor)) {
            throw new IllegalArgumentException("batchDivisor = " + batchDivisor
                    + " is out of range: must be finite and >= 1");
        }
        step.begin(iteration, batchDivisor, loss);
        int skipLimit = Integer.MAX_VALUE;
        for (int r = 0; r < rules.size(); r++) {
            ClipRule rule = rules.get(r);
            if (step.hasNonFinite(rule.members())) {
                if (handling[r] == null) {
                    throw step.nonFiniteError(rule.members());
                }
                // a policy that starts its chain acts now, as nothing runs before it
                NonFiniteHandling first = leadHandling[r];
                if (first != null && first.action() == NonFiniteHandling.Action.FAIL) {
                    throw step.nonFiniteError(rule.members());
                }
                if (first != null && first.action() == NonFiniteHandling.Action.SKIP_STEP) {
                    skipLimit = Math.min(skipLimit, first.maxConsecutiveSkips());
                }
            }
        }
        boolean uncoveredNonFinite = step.hasNonFinite(uncovered);
        if (uncoveredNonFinite) {
            if (networkHandling == null) {
                throw step.nonFiniteError(uncovered);
            }
            if (networkHandling.action() == NonFiniteHandling.Action.SKIP_STEP) {
                skipLimit = Math.min(skipLimit, networkHandling.maxConsecutiveSkips());
            }
        }
        if (skipLimit < Integer.MAX_VALUE) {
            return skip(skipLimit);
        }
        if (uncoveredNonFinite) {
            for (int i : uncovered) {
                step.zeroNonFinite(i); // the network's policy is ZERO here
            }
        }
        for (int r = 0; r < rules.size(); r++) {
            ClipRule rule = rules.get(r);
            step.restrict(rule);
            rule.strategy().apply(step);
            if (step.skipped()) {
                return skip(step.skipLimit()); // a policy after other members of its chain
            }
        }
        consecutiveSkips = 0;
        skippedWhere.clear();
        return step.finish();
    }

    /** Ends a skipped step, or fails it when {@code limit} steps in a row were skipped already. */
    private ClipReport skip(int limit) {
        GradientLayout layout = step.layout();
        for (int i = 0; i < layout.size(); i++) {
            if (step.countNonFinite(i) > 0) {
                skippedWhere.add(layout.param(i).key());
            }
        }
        if (step.skipped() && step.report().skippedBySpike()) {
            skippedWhere.add("a loss or gradient-norm spike");
        }
        if (consecutiveSkips >= limit) {
            throw new SkipLimitExceededException(step.iteration(), consecutiveSkips, List.copyOf(skippedWhere));
        }
        consecutiveSkips++;
        step.skip(limit);
        return step.finish();
    }

    /** The number of steps skipped in a row up to the last one (0 after a step that was not skipped). */
    public int consecutiveSkips() {
        return consecutiveSkips;
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
