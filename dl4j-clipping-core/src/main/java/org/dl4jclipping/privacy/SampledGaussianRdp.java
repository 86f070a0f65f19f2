package org.dl4jclipping.privacy;

import java.util.ArrayList;
import java.util.List;
import org.apache.commons.math3.special.Erf;
import org.apache.commons.math3.special.Gamma;
import org.dl4jclipping.privacy.PrivacyAccountant.PrivacySpent;
import org.dl4jclipping.strategy.Check;

/**
 * Rényi differential privacy (RDP) of the Poisson-subsampled Gaussian mechanism, one step of DP-SGD, and its
 * conversion to (epsilon, delta): the static mathematics behind {@link PrivacyAccountant}.
 *
 * <h2>One step</h2>
 * Each example joins the batch independently with probability {@code q} (the sample rate), the clipped sum
 * receives Gaussian noise of standard deviation {@code sigma} times the clipping norm ({@code sigma} is the noise
 * multiplier). The RDP at order {@code alpha > 1} is {@code rdp(alpha) = log(A_alpha) / (alpha - 1)} with
 * <pre>
 *   A_alpha = E_{z ~ N(0, sigma^2)} [ ((1 - q) + q exp((2z - 1) / (2 sigma^2)))^alpha ]
 * </pre>
 * (Mironov et al. 2019, section 3.3), computed exactly as follows, checked in this order:
 * <ul>
 *   <li>{@code q = 0}: 0 (nothing is released); {@code sigma = 0}: {@code +Infinity} (no privacy);
 *       {@code q = 1}: {@code alpha / (2 sigma^2)} (the plain Gaussian mechanism);</li>
 *   <li>integer {@code alpha}: the binomial expansion
 *       {@code A = sum_{i=0..alpha} binom(alpha, i) q^i (1 - q)^(alpha - i) exp((i^2 - i) / (2 sigma^2))},
 *       summed in log space;</li>
 *   <li>fractional {@code alpha}: Mironov et al.'s series. The integral is split at
 *       {@code z0 = sigma^2 log(1/q - 1) + 1/2}, where both mixture terms are equal, and each half expanded in
 *       the generalised binomial series; with {@code j = alpha - i}, term {@code i} of each half is
 *       <pre>
 *   s0_i = binom(alpha, i) q^i (1 - q)^j exp((i^2 - i) / (2 sigma^2)) erfc((i - z0) / (sqrt(2) sigma)) / 2
 *   s1_i = binom(alpha, i) q^j (1 - q)^i exp((j^2 - j) / (2 sigma^2)) erfc((z0 - j) / (sqrt(2) sigma)) / 2
 *       </pre>
 *       and {@code A = sum_i s0_i + sum_i s1_i}. Terms are added or subtracted in log space by the sign of the
 *       generalised binomial coefficient (negative for an odd number of negative factors {@code alpha - k}); the
 *       series stops after the first {@code i} where both {@code log s0_i} and {@code log s1_i} are below
 *       {@value #SERIES_STOP_LOG}. This is the value Opacus computes ({@code _compute_log_a_frac});
 *       dp_accounting's fractional-order value is an upper bound that differs from it.</li>
 * </ul>
 * {@code T} steps have {@code T} times the RDP of one; phases with different {@code (q, sigma)} add their RDP
 * vectors (composition, Mironov 2017, Prop. 1).
 *
 * <h2>Conversion to (epsilon, delta)</h2>
 * {@link #epsilon} uses Balle et al. 2020, Theorem 21 (what Opacus and dp_accounting use):
 * <pre>
 *   epsilon = min over alpha of  rdp(alpha) - (log(delta) + log(alpha)) / (alpha - 1) + log((alpha - 1) / alpha)
 * </pre>
 * {@link #classicEpsilon} uses the looser {@code rdp(alpha) - log(delta) / (alpha - 1)} (Mironov 2017, Prop. 3;
 * TensorFlow Privacy's older tutorial numbers). Both return the minimising order with the epsilon. As in Opacus,
 * NaN candidates are ignored; if every candidate is NaN the result is {@code (+Infinity, NaN)}; among equal
 * minima (for example all {@code +Infinity} when {@code sigma = 0}) the first order wins.
 *
 * <h2>Numerics</h2>
 * Commons Math's {@code erfc(x)} underflows to 0 near {@code x = 27} (and returns 0 beyond 40), but in the
 * fractional series a tiny erfc multiplies a huge {@code exp((i^2 - i) / (2 sigma^2))} and the product need not
 * be negligible (at {@code q = 0.5, sigma = 2, alpha = 1.1} the series runs to erfc arguments near 2000, and a
 * {@code -Infinity} would stop it after 79 terms, 1.5e-5 low), so {@code log erfc} switches to its asymptotic
 * expansion for {@code x > 10} and stays finite (see {@link #logErfc}). Stopping at {@code e^-30} leaves an absolute
 * error of about 1e-13 in {@code A}: relative accuracy ~1e-11 for the RDP of typical steps, less for a tiny one
 * (about 2e-8 at {@code rdp ~ 1e-6}), as in Opacus. The orders are limited to {@code (1, }{@value #MAX_ORDER}
 * {@code ]}: the integer branch sums {@code alpha + 1} terms.
 *
 * <p>References:
 * <ul>
 *   <li>I. Mironov, K. Talwar, L. Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism", 2019,
 *       <a href="https://arxiv.org/abs/1908.10530">arXiv:1908.10530</a>;</li>
 *   <li>I. Mironov, "Rényi Differential Privacy", IEEE CSF 2017,
 *       <a href="https://arxiv.org/abs/1702.07476">arXiv:1702.07476</a>;</li>
 *   <li>B. Balle, G. Barthe, M. Gaboardi, J. Hsu, T. Sato, "Hypothesis Testing Interpretations and Renyi
 *       Differential Privacy", AISTATS 2020, <a href="https://arxiv.org/abs/1905.09982">arXiv:1905.09982</a>;</li>
 *   <li>M. Abadi et al., "Deep Learning with Differential Privacy", ACM CCS 2016,
 *       <a href="https://arxiv.org/abs/1607.00133">arXiv:1607.00133</a>;</li>
 *   <li>A. Yousefpour et al., "Opacus: User-Friendly Differential Privacy Library in PyTorch", 2021,
 *       <a href="https://arxiv.org/abs/2109.12298">arXiv:2109.12298</a> ({@code accountants/analysis/rdp.py}).</li>
 * </ul>
 *
 * @see PrivacyAccountant
 */
public final class SampledGaussianRdp {

    /**
     * Opacus's default orders, 151 values: {@code 1 + k / 10} for {@code k = 1..99} (1.1, ..., 10.9, each
     * computed by one division, not by repeated addition, so 2.0, 3.0, ... are exact integers), then the integers
     * 12, 13, ..., 63.
     */
    public static final List<Double> DEFAULT_ORDERS = defaultOrders();

    /** The largest order accepted: the integer branch sums {@code alpha + 1} terms. */
    public static final double MAX_ORDER = 10_000;

    /** The fractional series stops after the first term where both halves' log-terms are below this. */
    public static final double SERIES_STOP_LOG = -30;

    /** Above this argument {@link #logErfc} uses the asymptotic expansion instead of {@code log(Erf.erfc(x))}. */
    static final double ASYMPTOTIC_ERFC_FROM = 10;

    /** A guard against a series that would not stop (never reached for finite, valid arguments). */
    static final int MAX_SERIES_TERMS = 10_000_000;

    private static final double LOG_HALF = Math.log(0.5);
    private static final double HALF_LOG_PI = 0.5 * Math.log(Math.PI);
    private static final double SQRT2 = Math.sqrt(2);

    private SampledGaussianRdp() {
    }

    /** The default orders as a new array (see {@link #DEFAULT_ORDERS}). */
    public static double[] defaultOrderArray() {
        return DEFAULT_ORDERS.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /**
     * The RDP at {@code order} of one step of the sampled Gaussian mechanism (formula in the class comment).
     *
     * @param q     the Poisson sample rate, in {@code [0, 1]}
     * @param sigma the noise multiplier (noise std / clipping norm), finite and {@code >= 0}
     * @param order the Rényi order alpha, in {@code (1, MAX_ORDER]}
     * @return {@code rdp(alpha) >= 0}; 0 when {@code q = 0}, {@code +Infinity} when {@code sigma = 0} and
     *         {@code q > 0}, and {@code +Infinity} if {@code log A} overflows (noise far too small)
     * @throws IllegalArgumentException naming the argument, its value and the allowed range
     * @throws ArithmeticException if the fractional series loses its sign (Opacus raises there too)
     */
    public static double rdp(double q, double sigma, double order) {
        checkSampleRate(q);
        checkNoiseMultiplier(sigma);
        checkOrder("order", order);
        return rdpUnchecked(q, sigma, order);
    }

    /**
     * The RDP of {@code steps} steps with the same {@code q} and {@code sigma}: {@code steps * rdp(q, sigma,
     * alpha)} for each order; 0 everywhere when {@code steps = 0} (also when {@code sigma = 0}).
     *
     * @param q      the Poisson sample rate, in {@code [0, 1]}
     * @param sigma  the noise multiplier, finite and {@code >= 0}
     * @param steps  the number of steps, {@code >= 0}
     * @param orders the Rényi orders, each in {@code (1, MAX_ORDER]}, at least one
     * @return a new array aligned with {@code orders}
     * @throws IllegalArgumentException naming the argument, its value and the allowed range
     */
    public static double[] rdp(double q, double sigma, long steps, double[] orders) {
        checkSampleRate(q);
        checkNoiseMultiplier(sigma);
        checkSteps(steps);
        checkOrders(orders);
        double[] out = new double[orders.length];
        if (steps == 0) {
            return out; // not steps * Infinity = NaN when sigma = 0: nothing was released
        }
        for (int k = 0; k < orders.length; k++) {
            out[k] = steps * rdpUnchecked(q, sigma, orders[k]);
        }
        return out;
    }

    /**
     * (epsilon, delta) from an RDP curve by Balle et al. 2020, Theorem 21:
     * {@code min over alpha of rdp(alpha) - (log(delta) + log(alpha)) / (alpha - 1) + log((alpha - 1) / alpha)}.
     * NaN candidates are ignored; all NaN gives {@code (+Infinity, NaN)}; ties go to the first order. Note that an
     * all-zero curve gives the formula's positive floor; {@link PrivacyAccountant#epsilon} reports 0 there.
     *
     * @param rdp    the RDP at each order (>= 0, {@code +Infinity} allowed)
     * @param orders the orders, each in {@code (1, MAX_ORDER]}, as many as {@code rdp}
     * @param delta  in {@code (0, 1)}
     * @return the smallest epsilon and the order that attains it
     */
    public static PrivacySpent epsilon(double[] rdp, double[] orders, double delta) {
        checkConversion(rdp, orders, delta);
        double logDelta = Math.log(delta);
        double[] candidates = new double[orders.length];
        for (int k = 0; k < orders.length; k++) {
            double a = orders[k];
            candidates[k] = rdp[k] - (logDelta + Math.log(a)) / (a - 1) + Math.log((a - 1) / a);
        }
        return minimum(candidates, orders);
    }

    /**
     * (epsilon, delta) from an RDP curve by the classic conversion (Mironov 2017, Prop. 3):
     * {@code min over alpha of rdp(alpha) - log(delta) / (alpha - 1)}; looser than {@link #epsilon}. Same NaN and
     * tie rules.
     *
     * @param rdp    the RDP at each order (>= 0, {@code +Infinity} allowed)
     * @param orders the orders, each in {@code (1, MAX_ORDER]}, as many as {@code rdp}
     * @param delta  in {@code (0, 1)}
     * @return the smallest epsilon and the order that attains it
     */
    public static PrivacySpent classicEpsilon(double[] rdp, double[] orders, double delta) {
        checkConversion(rdp, orders, delta);
        double logDelta = Math.log(delta);
        double[] candidates = new double[orders.length];
        for (int k = 0; k < orders.length; k++) {
            candidates[k] = rdp[k] - logDelta / (orders[k] - 1);
        }
        return minimum(candidates, orders);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The mathematics, arguments already valid.

    static double rdpUnchecked(double q, double sigma, double alpha) {
        if (q == 0) {
            return 0;
        }
        if (sigma == 0) {
            return Double.POSITIVE_INFINITY;
        }
        if (q == 1) {
            return alpha / (2 * sigma * sigma);
        }
        double logA = alpha == Math.rint(alpha)
                ? logAInteger(q, sigma, (int) alpha)
                : logAFractional(q, sigma, alpha);
        return logA / (alpha - 1);
    }

    /** {@code log A} for an integer order: the finite binomial sum, in log space. */
    static double logAInteger(double q, double sigma, int alpha) {
        double logQ = Math.log(q);
        double log1mQ = Math.log1p(-q);
        double twoSigma2 = 2 * sigma * sigma;
        double logA = Double.NEGATIVE_INFINITY;
        for (int i = 0; i <= alpha; i++) {
            double logTerm = logAbsBinomial(alpha, i) + i * logQ + (alpha - i) * log1mQ
                    + ((double) i * i - i) / twoSigma2;
            logA = logAdd(logA, logTerm);
        }
        return logA;
    }

    /** {@code log A} for a fractional order: Mironov et al.'s two erfc series (see the class comment). */
    static double logAFractional(double q, double sigma, double alpha) {
        double logQ = Math.log(q);
        double log1mQ = Math.log1p(-q);
        double twoSigma2 = 2 * sigma * sigma;
        double sqrt2Sigma = SQRT2 * sigma;
        double z0 = sigma * sigma * (log1mQ - logQ) + 0.5; // sigma^2 log(1/q - 1) + 1/2
        double logA0 = Double.NEGATIVE_INFINITY;
        double logA1 = Double.NEGATIVE_INFINITY;
        for (int i = 0; ; i++) {
            double j = alpha - i;
            double logCoef = logAbsBinomial(alpha, i);
            double logS0 = logCoef + i * logQ + j * log1mQ + ((double) i * i - i) / twoSigma2
                    + LOG_HALF + logErfc((i - z0) / sqrt2Sigma);
            double logS1 = logCoef + j * logQ + i * log1mQ + (j * j - j) / twoSigma2
                    + LOG_HALF + logErfc((z0 - j) / sqrt2Sigma);
            if (binomialPositive(alpha, i)) {
                logA0 = logAdd(logA0, logS0);
                logA1 = logAdd(logA1, logS1);
            } else {
                logA0 = logSub(logA0, logS0, q, sigma, alpha);
                logA1 = logSub(logA1, logS1, q, sigma, alpha);
            }
            if (Math.max(logS0, logS1) < SERIES_STOP_LOG) {
                break;
            }
            if (i >= MAX_SERIES_TERMS) {
                throw new ArithmeticException("The fractional-order RDP series did not converge in "
                        + MAX_SERIES_TERMS + " terms for q = " + q + ", sigma = " + sigma + ", order = " + alpha);
            }
        }
        return logAdd(logA0, logA1);
    }

    /**
     * {@code log erfc(x)}, finite for every finite {@code x}. For {@code x <= }{@value #ASYMPTOTIC_ERFC_FROM} it
     * is {@code log(Erf.erfc(x))} (no underflow there: {@code erfc(10) ~ 2e-45}). Above, Commons Math's erfc
     * would underflow to 0 near {@code x = 27} and the log become {@code -Infinity}, which is wrong in the
     * fractional series (the term multiplies a huge exponential), so we use the asymptotic expansion
     * {@code erfc(x) = exp(-x^2) / (x sqrt(pi)) * sum_k (-1)^k (2k - 1)!! / (2 x^2)^k}, summed until a term is
     * below 1e-17; at {@code x > 10} the series' smallest term is far below that, so the result is accurate to
     * rounding.
     */
    static double logErfc(double x) {
        if (!(x > ASYMPTOTIC_ERFC_FROM)) {
            return Math.log(Erf.erfc(x));
        }
        double x2 = x * x;
        double inverse = 1 / (2 * x2);
        double term = 1;
        double sum = 1;
        for (int k = 1; k < 100; k++) {
            term *= -(2 * k - 1) * inverse;
            sum += term;
            if (Math.abs(term) < 1e-17) {
                break;
            }
        }
        return -x2 - Math.log(x) - HALF_LOG_PI + Math.log(sum);
    }

    /**
     * {@code log |binom(alpha, i)|} for real {@code alpha > 1} and integer {@code i >= 0}, from log-gamma:
     * {@code logGamma(alpha + 1) - logGamma(i + 1) - log|Gamma(alpha - i + 1)|}. When {@code y = alpha - i + 1 < 0}
     * (fractional alpha only) the reflection formula gives
     * {@code log|Gamma(y)| = log(pi) - log|sin(pi y)| - logGamma(1 - y)}, with {@code |sin(pi y)| =
     * sin(pi frac(alpha))}.
     */
    static double logAbsBinomial(double alpha, int i) {
        double y = alpha - i + 1;
        double logAbsGammaY;
        if (y > 0) {
            logAbsGammaY = Gamma.logGamma(y);
        } else {
            double fraction = alpha - Math.floor(alpha); // exact; y is never a non-positive integer here
            logAbsGammaY = Math.log(Math.PI) - Math.log(Math.sin(Math.PI * fraction)) - Gamma.logGamma(1 - y);
        }
        return Gamma.logGamma(alpha + 1) - Gamma.logGamma(i + 1.0) - logAbsGammaY;
    }

    /**
     * The sign of {@code binom(alpha, i) = prod_{k<i} (alpha - k) / i!} for fractional {@code alpha > 0}: one
     * negative factor for each {@code k} in {@code floor(alpha) + 1 .. i - 1}.
     */
    static boolean binomialPositive(double alpha, int i) {
        long negativeFactors = Math.max(0, i - 1 - (long) Math.floor(alpha));
        return negativeFactors % 2 == 0;
    }

    /** {@code log(exp(a) + exp(b))}, exact for infinities. */
    static double logAdd(double a, double b) {
        double low = Math.min(a, b);
        double high = Math.max(a, b);
        if (low == Double.NEGATIVE_INFINITY || high == Double.POSITIVE_INFINITY) {
            return high;
        }
        return high + Math.log1p(Math.exp(low - high));
    }

    /** {@code log(exp(a) - exp(b))}, requiring {@code a >= b} (an alternating partial sum stays positive). */
    static double logSub(double a, double b, double q, double sigma, double alpha) {
        if (a < b) {
            throw new ArithmeticException("The fractional-order RDP series became negative (log " + a + " - log "
                    + b + ") for q = " + q + ", sigma = " + sigma + ", order = " + alpha
                    + "; use integer orders for these arguments");
        }
        if (b == Double.NEGATIVE_INFINITY || a == Double.POSITIVE_INFINITY) {
            return a;
        }
        if (a == b) {
            return Double.NEGATIVE_INFINITY;
        }
        double d = a - b;
        return d > 700 ? a : b + Math.log(Math.expm1(d)); // expm1 would overflow; log(e^d - 1) = d there
    }

    private static PrivacySpent minimum(double[] candidates, double[] orders) {
        int best = -1;
        for (int k = 0; k < candidates.length; k++) {
            if (!Double.isNaN(candidates[k]) && (best < 0 || candidates[k] < candidates[best])) {
                best = k;
            }
        }
        return best < 0
                ? new PrivacySpent(Double.POSITIVE_INFINITY, Double.NaN)
                : new PrivacySpent(candidates[best], orders[best]);
    }

    private static List<Double> defaultOrders() {
        List<Double> orders = new ArrayList<>();
        for (int k = 1; k <= 99; k++) {
            orders.add(1 + k / 10.0);
        }
        for (int a = 12; a <= 63; a++) {
            orders.add((double) a);
        }
        return List.copyOf(orders);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Validation shared with PrivacyAccountant: messages name the argument, the value and the allowed range.

    static void checkSampleRate(double q) {
        if (!(q >= 0 && q <= 1)) {
            throw Check.outOfRange("q", q, "must be in [0, 1] (the Poisson sample rate)");
        }
    }

    static void checkNoiseMultiplier(double sigma) {
        if (!(sigma >= 0) || Double.isInfinite(sigma)) {
            throw Check.outOfRange("sigma", sigma, "must be finite and >= 0 (the noise multiplier)");
        }
    }

    static void checkDelta(double delta) {
        Check.inOpen("delta", delta, 0, 1);
    }

    static void checkSteps(long steps) {
        Check.atLeast("steps", steps, 0);
    }

    static void checkOrder(String field, double order) {
        if (!(order > 1 && order <= MAX_ORDER)) {
            throw Check.outOfRange(field, order, "must be in (1, " + MAX_ORDER + "] (a Rényi order)");
        }
    }

    static void checkOrders(double[] orders) {
        Check.notNull("orders", orders);
        if (orders.length == 0) {
            throw Check.outOfRange("orders.length", 0, "must be >= 1");
        }
        for (int k = 0; k < orders.length; k++) {
            checkOrder("orders[" + k + "]", orders[k]);
        }
    }

    private static void checkConversion(double[] rdp, double[] orders, double delta) {
        Check.notNull("rdp", rdp);
        checkOrders(orders);
        if (rdp.length != orders.length) {
            throw Check.outOfRange("rdp.length", rdp.length, "must equal orders.length = " + orders.length);
        }
        checkDelta(delta);
    }
}
