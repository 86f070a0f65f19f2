package org.dl4jclipping.privacy;

import java.util.ArrayList;
import java.util.List;
import org.dl4jclipping.strategy.Check;

/**
 * The privacy budget spent by DP-SGD training, tracked with Rényi differential privacy (RDP) as Opacus's
 * {@code RDPAccountant} does.
 *
 * <p>Order of use: construct (default orders, or orders of your own), call {@link #step} after every noisy
 * optimizer step (or {@link #steps} for many at once), and ask {@link #epsilon} for the (epsilon, delta)
 * guarantee so far. The state is explicit and nothing else: a list of phases {@code (q, sigma, steps)}, where
 * {@code q} is the Poisson sample rate (expected batch size / dataset size) and {@code sigma} the noise
 * multiplier (noise std / clipping norm). A step with the same {@code q} and {@code sigma} as the last phase
 * extends it; any change starts a new phase. {@link #phases()} and {@link #fromPhases} save and restore that
 * state, for example next to a model checkpoint.
 *
 * <p>What is computed: the RDP of each phase is {@code steps * rdp(q, sigma, alpha)} for each order
 * (see {@link SampledGaussianRdp}), phases add, and {@link #epsilon} converts the total by Balle et al. 2020:
 * {@code epsilon = min over alpha of rdp(alpha) - (log(delta) + log(alpha)) / (alpha - 1) + log((alpha - 1) / alpha)}.
 * Edge cases: steps with {@code q = 0} add nothing; one step with {@code sigma = 0} and {@code q > 0} makes
 * epsilon {@code +Infinity}; when the total RDP is 0 at every order (no steps, or only {@code q = 0}) epsilon is
 * exactly 0 with order NaN (Opacus returns 0 for an empty history; for {@code q = 0} steps it would report the
 * conversion's positive floor, about 0.1 at {@code delta = 1e-5}, which bounds nothing real).
 *
 * <p>The guarantee holds only for what it assumes: Poisson sampling with rate {@code q} (fixed-size shuffled
 * batches are not covered), per-example clipping to a norm {@code C} and noise of std {@code sigma * C} on the
 * sum (see the project's {@code privacy.md}).
 *
 * <p>Not thread-safe; {@link #copy()} gives an independent accountant with the same orders and phases. The RDP of
 * one step of a phase (tens of thousands of special-function calls, a few milliseconds) is computed once, when the
 * phase starts; a training step's budget check ({@link #copy}, {@link #step} within the phase, {@link #epsilon})
 * then costs about 9 µs with the default orders.
 *
 * <p>References: Mironov, Talwar, Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism", 2019,
 * <a href="https://arxiv.org/abs/1908.10530">arXiv:1908.10530</a>; Balle et al., "Hypothesis Testing
 * Interpretations and Renyi Differential Privacy", AISTATS 2020,
 * <a href="https://arxiv.org/abs/1905.09982">arXiv:1905.09982</a>; Abadi et al., "Deep Learning with Differential
 * Privacy", CCS 2016, <a href="https://arxiv.org/abs/1607.00133">arXiv:1607.00133</a>; Opacus
 * ({@code accountants/rdp.py}, {@code accountants/utils.py}).
 *
 * @see SampledGaussianRdp
 */
public final class PrivacyAccountant {

    /** {@link #noiseMultiplier} stops bisecting once {@code targetEpsilon - epsilon(sigma) <= } this (Opacus). */
    public static final double NOISE_EPSILON_TOLERANCE = 0.01;

    /** {@link #noiseMultiplier} fails when the noise multiplier would have to exceed this (Opacus's old limit). */
    public static final double MAX_NOISE_MULTIPLIER = 2000;

    /** {@link #noiseMultiplier}'s first upper bound is twice this (Opacus doubles 10 before evaluating). */
    static final double NOISE_SEARCH_START = 10;

    /** A guard on the bisection (floating point can stall it only if epsilon jumped; it does not). */
    static final int MAX_BISECTIONS = 200;

    /**
     * Privacy spent: the guarantee is (epsilon, delta)-DP for the delta asked.
     *
     * @param epsilon the smallest epsilon over the orders; 0 when nothing was spent; {@code +Infinity} when a step
     *                had no noise
     * @param order   the Rényi order that attains it; NaN when none does (nothing spent, or every candidate NaN)
     */
    public record PrivacySpent(double epsilon, double order) {
    }

    /**
     * A run of steps with one {@code (q, sigma)}; {@code perStep} is the RDP of one such step at each order, computed
     * once when the phase starts (a training step then adds to the count without recomputing the series) and shared,
     * never changed, by copies.
     */
    private record Phase(double q, double sigma, long steps, double[] perStep) {
    }

    private final double[] orders;
    private final List<Phase> phases = new ArrayList<>();

    /** An accountant over {@link SampledGaussianRdp#DEFAULT_ORDERS} (Opacus's), with no steps yet. */
    public PrivacyAccountant() {
        this(SampledGaussianRdp.defaultOrderArray());
    }

    /**
     * An accountant over the given Rényi orders, with no steps yet.
     *
     * @param orders at least one, each in {@code (1, SampledGaussianRdp.MAX_ORDER]}; copied
     */
    public PrivacyAccountant(double... orders) {
        SampledGaussianRdp.checkOrders(orders);
        this.orders = orders.clone();
    }

    /**
     * An accountant over the default orders holding the phases saved by {@link #phases()}.
     *
     * @param phases rows {@code {q, sigma, steps}}, each valid as for {@link #steps}
     */
    public static PrivacyAccountant fromPhases(double[][] phases) {
        return fromPhases(phases, SampledGaussianRdp.defaultOrderArray());
    }

    /**
     * An accountant over {@code orders} holding the phases saved by {@link #phases()}; rows are added in order
     * through {@link #steps}, so adjacent equal rows merge and zero-step rows vanish.
     *
     * @param phases rows {@code {q, sigma, steps}}: {@code q} in [0, 1], {@code sigma} finite >= 0, {@code steps}
     *               a whole number in {@code [0, 2^53]}
     */
    public static PrivacyAccountant fromPhases(double[][] phases, double[] orders) {
        Check.notNull("phases", phases);
        PrivacyAccountant accountant = new PrivacyAccountant(orders);
        for (int k = 0; k < phases.length; k++) {
            double[] row = Check.notNull("phases[" + k + "]", phases[k]);
            if (row.length != 3) {
                throw Check.outOfRange("phases[" + k + "].length", row.length, "must be 3 ({q, sigma, steps})");
            }
            double steps = row[2];
            if (!(steps >= 0 && steps <= 0x1p53 && steps == Math.rint(steps))) {
                throw Check.outOfRange("phases[" + k + "] steps", steps, "must be a whole number in [0, 2^53]");
            }
            accountant.steps(row[0], row[1], (long) steps);
        }
        return accountant;
    }

    /**
     * Records one step with sample rate {@code q} and noise multiplier {@code sigma}; extends the last phase
     * when both are equal to its own.
     *
     * @param q     the Poisson sample rate, in {@code [0, 1]}
     * @param sigma the noise multiplier, finite and {@code >= 0}
     * @return this
     * @throws IllegalArgumentException naming the argument, its value and the allowed range
     */
    public PrivacyAccountant step(double q, double sigma) {
        return steps(q, sigma, 1);
    }

    /**
     * Records {@code n} steps with sample rate {@code q} and noise multiplier {@code sigma} (nothing when
     * {@code n = 0}); extends the last phase when both are equal to its own.
     *
     * @param n the number of steps, {@code >= 0}
     * @return this
     * @throws IllegalArgumentException naming the argument, its value and the allowed range
     * @throws ArithmeticException if the phase's step count would overflow a {@code long}
     */
    public PrivacyAccountant steps(double q, double sigma, long n) {
        SampledGaussianRdp.checkSampleRate(q);
        SampledGaussianRdp.checkNoiseMultiplier(sigma);
        SampledGaussianRdp.checkSteps(n);
        if (n == 0) {
            return this;
        }
        int last = phases.size() - 1;
        if (last >= 0 && phases.get(last).q() == q && phases.get(last).sigma() == sigma) {
            Phase merged = phases.get(last);
            phases.set(last, new Phase(q, sigma, Math.addExact(merged.steps(), n), merged.perStep()));
        } else {
            phases.add(new Phase(q, sigma, n, SampledGaussianRdp.rdp(q, sigma, 1, orders)));
        }
        return this;
    }

    /** The total number of steps recorded. */
    public long totalSteps() {
        long total = 0;
        for (Phase phase : phases) {
            total = Math.addExact(total, phase.steps());
        }
        return total;
    }

    /** The orders this accountant minimises over (a copy). */
    public double[] orders() {
        return orders.clone();
    }

    /**
     * The state, for saving: one row {@code {q, sigma, steps}} per phase, oldest first (steps as a double, exact
     * below 2^53). {@link #fromPhases} restores it.
     */
    public double[][] phases() {
        double[][] out = new double[phases.size()][];
        for (int k = 0; k < out.length; k++) {
            Phase phase = phases.get(k);
            out[k] = new double[] {phase.q(), phase.sigma(), phase.steps()};
        }
        return out;
    }

    /** The total RDP at each of {@link #orders()}: the sum over phases of {@code steps * rdp(q, sigma, alpha)}. */
    public double[] rdp() {
        double[] total = new double[orders.length];
        for (Phase phase : phases) {
            // steps * (1 * rdp) is SampledGaussianRdp.rdp(q, sigma, steps, orders) bit for bit
            for (int k = 0; k < total.length; k++) {
                total[k] += phase.steps() * phase.perStep()[k];
            }
        }
        return total;
    }

    /**
     * The privacy spent so far as (epsilon, delta)-DP, by Balle et al.'s conversion (class comment).
     *
     * @param delta the target delta, in {@code (0, 1)}; typically below 1 / dataset size
     * @return epsilon and the order attaining it; {@code (0, NaN)} when the RDP is 0 at every order
     * @throws IllegalArgumentException if {@code delta} is out of range
     */
    public PrivacySpent epsilon(double delta) {
        SampledGaussianRdp.checkDelta(delta);
        double[] rdp = rdp();
        boolean nothingSpent = true;
        for (double r : rdp) {
            nothingSpent &= r == 0;
        }
        return nothingSpent
                ? new PrivacySpent(0, Double.NaN)
                : SampledGaussianRdp.epsilon(rdp, orders, delta);
    }

    /** An independent accountant with the same orders and phases. */
    public PrivacyAccountant copy() {
        PrivacyAccountant out = new PrivacyAccountant(orders);
        out.phases.addAll(phases);
        return out;
    }

    @Override
    public String toString() {
        return "PrivacyAccountant" + phases;
    }

    /**
     * The noise multiplier that keeps {@code steps} steps at sample rate {@code q} within {@code targetEpsilon}
     * at {@code delta}, found as Opacus's {@code get_noise_multiplier} finds it (default orders, Balle
     * conversion): {@code sigmaHigh} starts at 10 and doubles (first evaluated at 20) while
     * {@code epsilon(sigmaHigh) > targetEpsilon}; then bisection on {@code [0, sigmaHigh]}, moving
     * {@code sigmaHigh} down to each midpoint whose epsilon is below the target, while
     * {@code targetEpsilon - epsilon(sigmaHigh) > }{@value #NOISE_EPSILON_TOLERANCE}. Returns {@code sigmaHigh}:
     * its epsilon is at most the target and within the tolerance of it.
     *
     * @param targetEpsilon finite and {@code > 0}
     * @param delta         in {@code (0, 1)}
     * @param q             the Poisson sample rate, in {@code (0, 1]}
     * @param steps         the number of steps, {@code >= 1}
     * @return the noise multiplier, at most {@value #MAX_NOISE_MULTIPLIER}
     * @throws IllegalArgumentException for an argument out of range, or when the noise multiplier would have to
     *                                  exceed {@value #MAX_NOISE_MULTIPLIER} (the target is too small: even a
     *                                  huge noise keeps epsilon above the conversion's floor)
     */
    public static double noiseMultiplier(double targetEpsilon, double delta, double q, long steps) {
        Check.positiveFinite("targetEpsilon", targetEpsilon);
        SampledGaussianRdp.checkDelta(delta);
        if (!(q > 0 && q <= 1)) {
            throw Check.outOfRange("q", q, "must be in (0, 1] (with q = 0 any noise multiplier meets the target)");
        }
        Check.atLeast("steps", steps, 1);
        double[] orders = SampledGaussianRdp.defaultOrderArray();
        double sigmaLow = 0;
        double sigmaHigh = NOISE_SEARCH_START;
        double epsHigh = Double.POSITIVE_INFINITY;
        while (epsHigh > targetEpsilon) {
            sigmaHigh *= 2;
            if (sigmaHigh > MAX_NOISE_MULTIPLIER) {
                throw new IllegalArgumentException("targetEpsilon = " + targetEpsilon + " is out of reach: the "
                        + "noise multiplier would exceed " + MAX_NOISE_MULTIPLIER + " (sigma = " + sigmaHigh / 2
                        + " gives epsilon = " + epsHigh + " at delta = " + delta + ", q = " + q + ", steps = "
                        + steps + "); raise targetEpsilon or delta, or lower q or steps");
            }
            epsHigh = epsilonFor(sigmaHigh, q, steps, orders, delta);
        }
        for (int k = 0; targetEpsilon - epsHigh > NOISE_EPSILON_TOLERANCE; k++) {
            if (k >= MAX_BISECTIONS) {
                throw new IllegalStateException("Noise multiplier bisection did not converge in " + MAX_BISECTIONS
                        + " steps (sigma in [" + sigmaLow + ", " + sigmaHigh + "])");
            }
            double sigma = (sigmaLow + sigmaHigh) / 2;
            double eps = epsilonFor(sigma, q, steps, orders, delta);
            if (eps < targetEpsilon) {
                sigmaHigh = sigma;
                epsHigh = eps;
            } else {
                sigmaLow = sigma;
            }
        }
        return sigmaHigh;
    }

    private static double epsilonFor(double sigma, double q, long steps, double[] orders, double delta) {
        return SampledGaussianRdp.epsilon(SampledGaussianRdp.rdp(q, sigma, steps, orders), orders, delta).epsilon();
    }
}
