package org.dl4jclipping.rnn.activations;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * What the two hard sigmoids compute, value and derivative, at points inside, on and outside the edges:
 * DL4J's {@code Activation.HARDSIGMOID} (ND4J 1.0.0-M2.1) is Keras 2's {@code clip(0.2x + 0.5, 0, 1)}, derivative
 * 0.2 on the closed interval [−2.5, 2.5]; {@link ActivationHardSigmoid6} is PyTorch's / Keras 3's
 * {@code clip(x/6 + 0.5, 0, 1)}, derivative 1/6 on the open interval (−3, 3) (PyTorch's hardsigmoid_backward).
 */
class HardSigmoidDefinitionTest {

    private static final double[] X = {-7.0, -3.0, -2.9, -2.5, -2.4, -1.0, 0.0, 0.3, 2.4, 2.5, 2.9, 3.0, 4.5};

    @Test
    void dl4jHardSigmoid_isKeras2HardSigmoid_withDerivativeOnTheClosedInterval() {
        for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            double[] y = activation(Activation.HARDSIGMOID.getActivationFunction(), dt);
            double[] d = derivative(Activation.HARDSIGMOID.getActivationFunction(), dt);
            for (int i = 0; i < X.length; i++) {
                double expected = Math.min(1.0, Math.max(0.0, 0.2 * X[i] + 0.5));
                double expectedD = Math.abs(X[i]) <= 2.5 ? 0.2 : 0.0;
                assertThat(y[i]).as("%s f(%s)", dt, X[i]).isCloseTo(expected, within(1e-7));
                assertThat(d[i]).as("%s f'(%s)", dt, X[i]).isCloseTo(expectedD, within(1e-7));
            }
            // Not the x/6 form: at x = 1 Keras 2 gives 0.7, Keras 3 0.6667.
            assertThat(activation(Activation.HARDSIGMOID.getActivationFunction(), dt, 1.0))
                    .isCloseTo(0.7, within(1e-7));
        }
    }

    @Test
    void hardSigmoid6_isClipOfXOverSixPlusHalf_withDerivativeOnTheOpenInterval() {
        for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            double[] y = activation(new ActivationHardSigmoid6(), dt);
            double[] d = derivative(new ActivationHardSigmoid6(), dt);
            double tol = dt == DataType.FLOAT ? 1e-7 : 1e-16;
            for (int i = 0; i < X.length; i++) {
                double expected = Math.min(1.0, Math.max(0.0, X[i] / 6.0 + 0.5));
                double expectedD = Math.abs(X[i]) < 3.0 ? 1.0 / 6.0 : 0.0;
                assertThat(y[i]).as("%s f(%s)", dt, X[i]).isCloseTo(expected, within(tol));
                assertThat(d[i]).as("%s f'(%s)", dt, X[i]).isCloseTo(expectedD, within(tol));
            }
        }
    }

    @Test
    void hardSigmoid6_backpropMultipliesEpsilon() {
        INDArray in = Nd4j.createFromArray(-4.0, -1.0, 0.5, 2.0, 3.5);
        INDArray eps = Nd4j.createFromArray(2.0, -3.0, 5.0, 0.5, 7.0);
        INDArray grad = new ActivationHardSigmoid6().backprop(in, eps).getFirst();
        // eps · (1/6) inside (−3, 3), 0 outside; to the last bit up to the rounding of 1/6 (1 ulp).
        double[] expected = {0.0, -3.0 / 6, 5.0 / 6, 0.5 / 6, 0.0};
        for (int i = 0; i < expected.length; i++) {
            assertThat(grad.getDouble(i)).isCloseTo(expected[i], within(1e-15));
        }
    }

    @Test
    void hardSigmoid6_nonFiniteInput() {
        INDArray in = Nd4j.createFromArray(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY);
        assertThat(new ActivationHardSigmoid6().getActivation(in.dup(), false).toDoubleVector())
                .containsExactly(1.0, 0.0);
        assertThat(new ActivationHardSigmoid6().backprop(in.dup(), Nd4j.ones(DataType.DOUBLE, 2)).getFirst()
                .toDoubleVector()).containsExactly(0.0, 0.0);
        // NaN propagates (as in PyTorch), it is not clipped to a number.
        assertThat(new ActivationHardSigmoid6().getActivation(Nd4j.createFromArray(Double.NaN, 1.0), false)
                .getDouble(0)).isNaN();
    }

    @Test
    void hardSigmoid6_equalsEveryInstanceAndNoOtherActivation() {
        assertThat(new ActivationHardSigmoid6()).isEqualTo(new ActivationHardSigmoid6())
                .hasSameHashCodeAs(new ActivationHardSigmoid6())
                .isNotEqualTo(Activation.HARDSIGMOID.getActivationFunction());
        assertThat(Activation.HARDSIGMOID.getActivationFunction()).isNotEqualTo(new ActivationHardSigmoid6());
    }

    private static double[] activation(IActivation fn, DataType dt) {
        return fn.getActivation(Nd4j.createFromArray(X).castTo(dt), false).castTo(DataType.DOUBLE).toDoubleVector();
    }

    private static double activation(IActivation fn, DataType dt, double x) {
        return fn.getActivation(Nd4j.createFromArray(x).castTo(dt), false).getDouble(0);
    }

    private static double[] derivative(IActivation fn, DataType dt) {
        INDArray in = Nd4j.createFromArray(X).castTo(dt);
        INDArray ones = Nd4j.ones(dt, X.length);
        return fn.backprop(in, ones).getFirst().castTo(DataType.DOUBLE).toDoubleVector();
    }
}
