package org.dl4jclipping.rnn.layers;

import org.dl4jclipping.rnn.activations.ActivationHardSigmoid6;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The CPU kernels' hard sigmoids ({@link ScalarActivation}): values, and the derivative read back from the stored
 * output, at and next to the edges, stored in float ({@code exact = false}) and in double. The documented rule: an
 * input on which the derivative is the slope (DL4J's HARDSIGMOID: [−2.5, 2.5]; ActivationHardSigmoid6: (−3, 3))
 * gives an output strictly inside (0, 1) in the storage precision; any other input gives exactly 0 or 1.
 */
class ScalarActivationHardSigmoidTest {

    private static final double SIXTH = 1.0 / 6.0;

    /** f(x) as stored (rounded to float when not exact), and f' read back from that stored value. */
    private static double[] stored(ScalarActivation f, double x, boolean exact) {
        double y = ScalarActivation.apply(f, x, exact);
        double s = exact ? y : (float) y;
        return new double[] {s, ScalarActivation.derivative(f, s)};
    }

    @Test
    void mapping_coversBothHardSigmoids() {
        assertThat(ScalarActivation.of(new ActivationHardSigmoid6())).isEqualTo(ScalarActivation.HARD_SIGMOID6);
        assertThat(ScalarActivation.of(Activation.HARDSIGMOID.getActivationFunction()))
                .isEqualTo(ScalarActivation.HARD_SIGMOID);
    }

    @Test
    void hardSigmoid6_justInsideTheUpperEdge_keepsSlopeInFloat() {
        // x/6 + 0.5 = 1 − 1.7e-8 rounds to 1.0f; the kernel stores the float just below 1 instead.
        double x = 3.0 - 1e-7;
        assertThat((float) (x / 6.0 + 0.5)).isEqualTo(1.0f);
        double[] s = stored(ScalarActivation.HARD_SIGMOID6, x, false);
        assertThat(s[0]).isEqualTo((double) Math.nextDown(1.0f));
        assertThat(s[1]).isEqualTo(SIXTH);
    }

    @Test
    void hardSigmoid6_justInsideTheUpperEdge_keepsSlopeInDouble() {
        double x = Math.nextDown(3.0);
        assertThat(x / 6.0 + 0.5).isEqualTo(1.0);
        double[] s = stored(ScalarActivation.HARD_SIGMOID6, x, true);
        assertThat(s[0]).isEqualTo(Math.nextDown(1.0));
        assertThat(s[1]).isEqualTo(SIXTH);
    }

    @Test
    void hardSigmoid6_atAndBeyondTheEdges_isClippedWithZeroDerivative() {
        for (boolean exact : new boolean[] {true, false}) {
            assertThat(stored(ScalarActivation.HARD_SIGMOID6, 3.0, exact)).containsExactly(1.0, 0.0);
            assertThat(stored(ScalarActivation.HARD_SIGMOID6, -3.0, exact)).containsExactly(0.0, 0.0);
            assertThat(stored(ScalarActivation.HARD_SIGMOID6, 7.5, exact)).containsExactly(1.0, 0.0);
            assertThat(stored(ScalarActivation.HARD_SIGMOID6, -1e9, exact)).containsExactly(0.0, 0.0);
            double[] inside = stored(ScalarActivation.HARD_SIGMOID6, Math.nextUp(-3.0), exact);
            assertThat(inside[0]).isGreaterThan(0.0);
            assertThat(inside[1]).isEqualTo(SIXTH);
        }
    }

    @Test
    void hardSigmoid6_linearPart_isXOverSixPlusHalf() {
        for (double x : new double[] {-2.9, -1.0, 0.0, 0.4, 2.0}) {
            assertThat(ScalarActivation.apply(ScalarActivation.HARD_SIGMOID6, x, true)).isEqualTo(x / 6.0 + 0.5);
            assertThat(stored(ScalarActivation.HARD_SIGMOID6, x, true)[1]).isEqualTo(SIXTH);
        }
    }

    @Test
    void dl4jHardSigmoid_slopeOnTheClosedInterval_asNd4jHardSigmoidBp() {
        for (boolean exact : new boolean[] {true, false}) {
            double[] upper = stored(ScalarActivation.HARD_SIGMOID, 2.5, exact);
            double[] lower = stored(ScalarActivation.HARD_SIGMOID, -2.5, exact);
            assertThat(upper[0]).isLessThan(1.0).isCloseTo(1.0, within(1e-7));
            assertThat(lower[0]).isGreaterThan(0.0).isCloseTo(0.0, within(1e-37));
            assertThat(upper[1]).isEqualTo(0.2);
            assertThat(lower[1]).isEqualTo(0.2);
            assertThat(stored(ScalarActivation.HARD_SIGMOID, Math.nextUp(2.5), exact)).containsExactly(1.0, 0.0);
            assertThat(stored(ScalarActivation.HARD_SIGMOID, Math.nextDown(-2.5), exact)).containsExactly(0.0, 0.0);
            assertThat(ScalarActivation.apply(ScalarActivation.HARD_SIGMOID, 1.0, exact)).isEqualTo(0.2 + 0.5);
        }
    }

    @Test
    void hardSigmoids_propagateNaN() {
        for (ScalarActivation f : new ScalarActivation[] {ScalarActivation.HARD_SIGMOID,
            ScalarActivation.HARD_SIGMOID6}) {
            assertThat(ScalarActivation.apply(f, Double.NaN, true)).isNaN();
            assertThat(ScalarActivation.apply(f, Double.NaN, false)).isNaN();
        }
    }
}
