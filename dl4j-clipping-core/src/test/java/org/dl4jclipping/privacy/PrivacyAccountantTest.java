package org.dl4jclipping.privacy;

import java.util.Arrays;
import java.util.stream.Stream;
import org.apache.commons.math3.special.Erf;
import org.dl4jclipping.privacy.PrivacyAccountant.PrivacySpent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * privacy.md, "Accountant: RDP of the sampled Gaussian mechanism" and its reference values (recomputed there
 * from Opacus's and TensorFlow Privacy's code). Values the document gives to 11 or more significant digits are
 * checked to 1e-9 relative; the others to the digits given. The fractional-order series is checked on its own
 * against numerical integration of the RDP definition.
 */
class PrivacyAccountantTest {

    private static final double REL = 1e-9;
    private static final double[] ORDERS_2_TO_32 = integers(2, 32);

    /** One row of privacy.md's reference table: one phase, delta, expected epsilon and best order. */
    record Reference(String name, double q, double sigma, long steps, double delta, double epsilon,
                     double tolerance, double order) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Reference> references() {
        return Stream.of(
                new Reference("Opacus accountants_test", 0.04, 1.5, 2250, 1e-5, 7.32911117143,
                        REL * 7.32911117143, 3.9),
                new Reference("TF Privacy, q 150/60000", 150 / 60000.0, 1.3, 6000, 1e-5, 0.7242234026109595,
                        REL * 0.7242234026109595, 19),
                new Reference("TF Privacy, q 0.001", 0.001, 1.0, 30000, 1e-7, 1.4154988495444842,
                        REL * 1.4154988495444842, 13),
                // given to 6 digits only
                new Reference("MNIST tutorial, Balle", 256 / 60000.0, 1.1, 14063, 1e-5, 2.59666, 5e-6, 8.1));
    }

    @ParameterizedTest
    @MethodSource("references")
    void epsilon_referenceValues_matchOpacus(Reference ref) {
        PrivacySpent spent = new PrivacyAccountant().steps(ref.q(), ref.sigma(), ref.steps()).epsilon(ref.delta());

        assertThat(spent.epsilon()).isCloseTo(ref.epsilon(), within(ref.tolerance()));
        assertThat(spent.order()).isEqualTo(ref.order());
    }

    @Test
    void classicEpsilon_mnistTutorial_isTheLooser301() {
        double[] orders = SampledGaussianRdp.defaultOrderArray();
        double[] rdp = SampledGaussianRdp.rdp(256 / 60000.0, 1.1, 14063, orders);

        PrivacySpent classic = SampledGaussianRdp.classicEpsilon(rdp, orders, 1e-5);

        assertThat(classic.epsilon()).isCloseTo(3.00838, within(5e-6));
        assertThat(classic.epsilon()).isGreaterThan(SampledGaussianRdp.epsilon(rdp, orders, 1e-5).epsilon());
    }

    @Test
    void epsilon_twoPhasesOverIntegerOrders_matchesOpacusDoctest() {
        PrivacyAccountant accountant = new PrivacyAccountant(ORDERS_2_TO_32)
                .steps(1e-5, 1.0, 10)
                .steps(1e-4, 3.0, 4);

        PrivacySpent spent = accountant.epsilon(1e-5);

        assertThat(spent.epsilon()).isCloseTo(0.33634406339, within(REL * 0.33634406339));
        assertThat(spent.order()).isEqualTo(23);
        assertThat(accountant.phases()).isDeepEqualTo(new double[][] {{1e-5, 1.0, 10}, {1e-4, 3.0, 4}});
    }

    @Test
    void noiseMultiplier_opacusExamples_matchToTheDigitsGiven() {
        double sigma2250 = PrivacyAccountant.noiseMultiplier(8, 1e-5, 0.04, 2250);
        double sigma2000 = PrivacyAccountant.noiseMultiplier(8, 1e-5, 0.04, 2000);

        assertThat(sigma2250).isCloseTo(1.416, within(5e-4));
        assertThat(sigma2000).isCloseTo(1.3562, within(5e-5));
        // Bisection from [0, 20] lands on dyadic fractions of 20: 20 * 145 / 2^11 and 20 * 1111 / 2^14.
        assertThat(sigma2250).isEqualTo(20.0 * 145 / 2048);
        assertThat(sigma2000).isEqualTo(20.0 * 1111 / 16384);
        // The returned sigma meets the target, within the tolerance.
        double eps = new PrivacyAccountant().steps(0.04, sigma2250, 2250).epsilon(1e-5).epsilon();
        assertThat(eps).isLessThanOrEqualTo(8).isGreaterThan(8 - PrivacyAccountant.NOISE_EPSILON_TOLERANCE);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The fractional-order series against the definition

    /**
     * {@code rdp(alpha) = log(A) / (alpha - 1)}, {@code A = E_{z ~ N(0, sigma^2)} [((1 - q) + q exp((2z - 1) /
     * (2 sigma^2)))^alpha]} (Mironov et al. 2019), by numerical integration, independent of the series. Cases:
     * the reference case's best order; {@code q = 0.5, sigma = 2, alpha = 1.1}, whose series runs to erfc
     * arguments near 2000 (a {@code log(erfc)} that underflowed to {@code -Infinity} would stop it after 79 terms,
     * 1.5e-5 low); a large fractional order with small noise; and an integer order (the binomial branch).
     */
    @ParameterizedTest
    @MethodSource("seriesCases")
    void rdp_fractionalOrders_matchNumericalIntegrationOfTheDefinition(double q, double sigma, double alpha) {
        double expected = logAByQuadrature(q, sigma, alpha) / (alpha - 1);

        assertThat(SampledGaussianRdp.rdp(q, sigma, alpha)).isCloseTo(expected, within(REL * expected));
    }

    static Stream<Arguments> seriesCases() {
        return Stream.of(Arguments.of(0.04, 1.5, 3.9), Arguments.of(0.5, 2.0, 1.1), Arguments.of(0.01, 0.5, 50.5),
                Arguments.of(0.04, 1.5, 4.0));
    }

    /**
     * {@code log A} by the trapezoidal rule with step 0.01 on {@code [-60 sigma - 10, alpha + 60 sigma + 10]},
     * summed in log space (largest term factored out). The integrand is analytic in the strip
     * {@code |Im z| < pi sigma^2} (the mixture's base vanishes only at {@code Im z = pi sigma^2}) and decays like
     * a Gaussian, so the trapezoidal rule's error is of order {@code exp(-2 pi^2 sigma^2 / h)}, far below rounding
     * here; the interval's ends lie more than 60 standard deviations from the mass (centred between 0 and alpha).
     */
    static double logAByQuadrature(double q, double sigma, double alpha) {
        double h = 0.01;
        double low = -60 * sigma - 10;
        int n = (int) Math.ceil((alpha + 60 * sigma + 10 - low) / h);
        double[] logF = new double[n + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k <= n; k++) {
            double z = low + k * h;
            double a = Math.log1p(-q);
            double b = Math.log(q) + (2 * z - 1) / (2 * sigma * sigma);
            double logMixture = Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
            logF[k] = -z * z / (2 * sigma * sigma) - Math.log(sigma * Math.sqrt(2 * Math.PI)) + alpha * logMixture;
            max = Math.max(max, logF[k]);
        }
        double sum = 0;
        for (int k = 0; k <= n; k++) {
            sum += (k == 0 || k == n ? 0.5 : 1) * Math.exp(logF[k] - max);
        }
        return max + Math.log(sum * h);
    }

    /**
     * Up to {@code x = 10} ({@code SampledGaussianRdp.ASYMPTOTIC_ERFC_FROM}) {@code log erfc} is Commons Math's;
     * above, the asymptotic expansion, which must agree with Commons Math where that is still representable
     * (erfc(26) is about 6e-296) and stay finite where erfc underflows (erfc(30) is about 2.6e-393).
     */
    @Test
    void logErfc_asymptoticBranch_matchesCommonsMathAndStaysFinite() {
        for (double x : new double[] {10, 10 + 1e-9, 15, 20, 26}) {
            double commonsMath = Math.log(Erf.erfc(x));
            assertThat(SampledGaussianRdp.logErfc(x)).isCloseTo(commonsMath, within(1e-14 * -commonsMath));
        }
        assertThat(Erf.erfc(30)).isZero();
        // -x^2 - log(x sqrt(pi)) + log(1 - 1/(2x^2) + 3/(2x^2)^2 - 15/(2x^2)^3 + 105/(2x^2)^4), error ~ 5e-14
        double u = 1 / (2 * 30.0 * 30.0);
        double expected = -900 - Math.log(30 * Math.sqrt(Math.PI)) + Math.log1p(-u + 3 * u * u - 15 * u * u * u
                + 105 * u * u * u * u);
        assertThat(SampledGaussianRdp.logErfc(30)).isCloseTo(expected, within(1e-12));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Edge cases

    @Test
    void rdp_zeroSampleRate_isZero() {
        for (double order : SampledGaussianRdp.DEFAULT_ORDERS) {
            assertThat(SampledGaussianRdp.rdp(0, 1.0, order)).isZero();
            assertThat(SampledGaussianRdp.rdp(0, 0, order)).isZero();
        }
    }

    @Test
    void rdp_zeroNoise_isInfinite() {
        assertThat(SampledGaussianRdp.rdp(0.01, 0, 2.5)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(SampledGaussianRdp.rdp(1.0, 0, 3)).isEqualTo(Double.POSITIVE_INFINITY);
    }

    @Test
    void rdp_fullBatch_isTheGaussianMechanism() {
        assertThat(SampledGaussianRdp.rdp(1.0, 2.0, 3.5)).isEqualTo(3.5 / 8);
        assertThat(SampledGaussianRdp.rdp(1.0, 0.5, 8)).isEqualTo(16.0);
    }

    @Test
    void epsilon_noSteps_isZeroWithNoOrder() {
        PrivacyAccountant accountant = new PrivacyAccountant().steps(0.04, 1.5, 0);

        assertThat(accountant.epsilon(1e-5)).isEqualTo(new PrivacySpent(0, Double.NaN));
        assertThat(accountant.phases()).isEmpty();
        assertThat(accountant.totalSteps()).isZero();
        // zero steps without noise release nothing either (not 0 * Infinity = NaN)
        assertThat(new PrivacyAccountant().steps(0.04, 0, 0).epsilon(1e-5).epsilon()).isZero();
    }

    @Test
    void epsilon_onlyZeroSampleRate_isZero() {
        PrivacySpent spent = new PrivacyAccountant().steps(0, 1.0, 1000).epsilon(1e-5);

        assertThat(spent).isEqualTo(new PrivacySpent(0, Double.NaN));
    }

    @Test
    void epsilon_oneStepWithoutNoise_isInfiniteAtTheFirstOrder() {
        PrivacySpent spent = new PrivacyAccountant().steps(0.04, 1.5, 100).step(0.04, 0).epsilon(1e-5);

        assertThat(spent.epsilon()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(spent.order()).isEqualTo(1.1); // Opacus's nanargmin: the first of equal minima
    }

    @Test
    void epsilon_allCandidatesNaN_isInfiniteWithNoOrder() {
        double[] rdp = {Double.NaN, Double.NaN};

        PrivacySpent spent = SampledGaussianRdp.epsilon(rdp, new double[] {2, 3}, 1e-5);

        assertThat(spent).isEqualTo(new PrivacySpent(Double.POSITIVE_INFINITY, Double.NaN));
    }

    @Test
    void defaultOrders_areOpacusAlphas() {
        assertThat(SampledGaussianRdp.DEFAULT_ORDERS).hasSize(151);
        for (int k = 1; k <= 99; k++) {
            assertThat(SampledGaussianRdp.DEFAULT_ORDERS.get(k - 1)).isEqualTo(1 + k / 10.0);
        }
        assertThat(SampledGaussianRdp.DEFAULT_ORDERS.get(9)).isEqualTo(2.0);
        assertThat(SampledGaussianRdp.DEFAULT_ORDERS.subList(99, 151)).containsExactly(
                Arrays.stream(integers(12, 63)).boxed().toArray(Double[]::new));
    }

    // ---------------------------------------------------------------------------------------------------------
    // State: phases, merging, save and restore

    @Test
    void step_sameSampleRateAndNoise_extendsTheLastPhase() {
        PrivacyAccountant accountant = new PrivacyAccountant()
                .step(0.01, 1.0).step(0.01, 1.0).step(0.01, 1.2).steps(0.01, 1.2, 3).step(0.01, 1.0);

        assertThat(accountant.phases()).isDeepEqualTo(new double[][] {{0.01, 1.0, 2}, {0.01, 1.2, 4}, {0.01, 1.0, 1}});
        assertThat(accountant.totalSteps()).isEqualTo(7);
    }

    @Test
    void steps_manyAtOnce_equalsOneAtATime() {
        PrivacyAccountant oneByOne = new PrivacyAccountant();
        for (int k = 0; k < 50; k++) {
            oneByOne.step(0.02, 1.1);
        }

        assertThat(oneByOne.epsilon(1e-5)).isEqualTo(new PrivacyAccountant().steps(0.02, 1.1, 50).epsilon(1e-5));
    }

    @Test
    void fromPhases_roundTrip_keepsTheBudget() {
        PrivacyAccountant accountant = new PrivacyAccountant(ORDERS_2_TO_32).steps(1e-5, 1.0, 10).steps(1e-4, 3.0, 4);

        PrivacyAccountant restored = PrivacyAccountant.fromPhases(accountant.phases(), accountant.orders());

        assertThat(restored.phases()).isDeepEqualTo(accountant.phases());
        assertThat(restored.epsilon(1e-5)).isEqualTo(accountant.epsilon(1e-5));
    }

    @Test
    void copy_isIndependent() {
        PrivacyAccountant accountant = new PrivacyAccountant().steps(0.04, 1.5, 10);
        PrivacyAccountant copy = accountant.copy();

        copy.step(0.04, 1.5);

        assertThat(accountant.totalSteps()).isEqualTo(10);
        assertThat(copy.totalSteps()).isEqualTo(11);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Validation: the message names the argument, the value and the allowed range

    @Test
    void step_invalidSampleRate_namesIt() {
        assertThatThrownBy(() -> new PrivacyAccountant().step(1.5, 1.0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("q = 1.5 is out of range")
                .hasMessageContaining("[0, 1]");
        assertThatThrownBy(() -> new PrivacyAccountant().step(-0.1, 1.0)).hasMessageStartingWith("q = -0.1 ");
        assertThatThrownBy(() -> new PrivacyAccountant().step(Double.NaN, 1.0)).hasMessageStartingWith("q = NaN ");
    }

    @Test
    void step_invalidNoiseMultiplier_namesIt() {
        assertThatThrownBy(() -> new PrivacyAccountant().step(0.1, -1.0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("sigma = -1.0 is out of range")
                .hasMessageContaining(">= 0");
        assertThatThrownBy(() -> new PrivacyAccountant().step(0.1, Double.POSITIVE_INFINITY))
                .hasMessageStartingWith("sigma = Infinity ").hasMessageContaining("finite");
    }

    @Test
    void steps_negativeCount_namesIt() {
        assertThatThrownBy(() -> new PrivacyAccountant().steps(0.1, 1.0, -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("steps = -1 is out of range: must be >= 0");
    }

    @Test
    void epsilon_invalidDelta_namesIt() {
        PrivacyAccountant accountant = new PrivacyAccountant().step(0.1, 1.0);
        for (double delta : new double[] {0, 1, -1e-5, Double.NaN}) {
            assertThatThrownBy(() -> accountant.epsilon(delta)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("delta = " + delta + " is out of range")
                    .hasMessageContaining("(0.0, 1.0)");
        }
    }

    @Test
    void constructor_invalidOrders_namesThem() {
        assertThatThrownBy(() -> new PrivacyAccountant(2, 1.0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("orders[1] = 1.0 is out of range").hasMessageContaining("(1, ");
        assertThatThrownBy(() -> new PrivacyAccountant(new double[0])).hasMessageStartingWith("orders.length = 0");
        assertThatThrownBy(() -> SampledGaussianRdp.rdp(0.1, 1.0, Double.NaN)).hasMessageStartingWith("order = NaN");
    }

    @Test
    void fromPhases_invalidRow_namesIt() {
        assertThatThrownBy(() -> PrivacyAccountant.fromPhases(new double[][] {{0.1, 1.0}}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("phases[0].length = 2");
        assertThatThrownBy(() -> PrivacyAccountant.fromPhases(new double[][] {{0.1, 1.0, 2.5}}))
                .hasMessageStartingWith("phases[0] steps = 2.5");
        assertThatThrownBy(() -> PrivacyAccountant.fromPhases(new double[][] {{0.1, 1.0, 1}, {2.0, 1.0, 1}}))
                .hasMessageStartingWith("q = 2.0");
    }

    @Test
    void noiseMultiplier_invalidArguments_nameThem() {
        assertThatThrownBy(() -> PrivacyAccountant.noiseMultiplier(0, 1e-5, 0.04, 100))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("targetEpsilon = 0.0");
        assertThatThrownBy(() -> PrivacyAccountant.noiseMultiplier(8, 1e-5, 0, 100))
                .hasMessageStartingWith("q = 0.0 is out of range").hasMessageContaining("(0, 1]");
        assertThatThrownBy(() -> PrivacyAccountant.noiseMultiplier(8, 1e-5, 0.04, 0))
                .hasMessage("steps = 0 is out of range: must be >= 1");
        assertThatThrownBy(() -> PrivacyAccountant.noiseMultiplier(8, 2, 0.04, 100))
                .hasMessageStartingWith("delta = 2.0");
    }

    @Test
    void noiseMultiplier_targetBelowTheConversionFloor_failsClearly() {
        // With delta = 1e-5 no noise brings epsilon below about 0.1 (the conversion's floor at order 63).
        assertThatThrownBy(() -> PrivacyAccountant.noiseMultiplier(0.05, 1e-5, 0.04, 100))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("targetEpsilon = 0.05 is out of reach")
                .hasMessageContaining("exceed 2000.0");
    }

    private static double[] integers(int from, int to) {
        double[] out = new double[to - from + 1];
        for (int k = 0; k < out.length; k++) {
            out[k] = from + k;
        }
        return out;
    }
}
