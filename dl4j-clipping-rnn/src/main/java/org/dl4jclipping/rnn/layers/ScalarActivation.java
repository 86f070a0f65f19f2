package org.dl4jclipping.rnn.layers;

import org.dl4jclipping.rnn.activations.ActivationHardSigmoid6;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
import org.nd4j.linalg.activations.impl.ActivationHardTanH;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftSign;
import org.nd4j.linalg.activations.impl.ActivationTanH;

/**
 * The activations the CPU recurrent kernels compute one element at a time, each with its derivative written in
 * terms of its <em>output</em> {@code y = f(x)} (so a backward pass needs only the stored activations, as
 * PyTorch's does):
 * <pre>
 *   TANH          y = tanh(x)                       f'(x) = 1 − y²
 *   SIGMOID       y = 1 / (1 + e^−x)                f'(x) = y (1 − y)
 *   SOFTSIGN      y = x / (1 + |x|)                 f'(x) = (1 − |y|)²
 *   SOFTPLUS      y = ln(1 + e^x)                   f'(x) = 1 − e^−y
 *   IDENTITY      y = x                             f'(x) = 1
 *   RELU          y = max(0, x)                     f'(x) = 1 if y &gt; 0, else 0 (DL4J's value at 0)
 *   HARD_SIGMOID  y = min(1, max(0, 0.2x + 0.5))    f'(x) = 0.2 if 0 &lt; y &lt; 1, else 0
 *   HARD_SIGMOID6 y = min(1, max(0, x/6 + 0.5))     f'(x) = 1/6 if 0 &lt; y &lt; 1, else 0
 *   HARD_TANH     y = min(1, max(−1, x))            f'(x) = 1 if |y| &lt; 1, else 0
 * </pre>
 * {@link #of} maps DL4J's activation objects (with their default settings only) and
 * {@link ActivationHardSigmoid6} to these and returns null for any other, so that a layer can fall back to ND4J's
 * ops.
 *
 * <p>The two hard sigmoids, derivative from the output: their output alone is ambiguous where the linear part meets
 * the clip (an input just inside the edge can give an output that rounds to 0 or 1, where f' = 0). So {@link #apply}
 * decides on the input, and stores an output strictly inside (0, 1) for every input on which the derivative is
 * the slope: HARD_SIGMOID on the closed interval [−2.5, 2.5] (DL4J's {@code HardSigmoidBp} gives 0.2 at ±2.5
 * too), HARD_SIGMOID6 on the open interval (−3, 3) (PyTorch's {@code hardsigmoid_backward}: 0 at ±3). The output
 * there is clamped to [smallest normal, largest value below 1] of the storage precision ({@code exact}: double,
 * otherwise float): it differs from the rounded linear value by at most one unit in the last place (at ±2.5 by
 * the distance from 0 or 1 to those bounds), and the derivative read back from it is exactly the one of the input.
 *
 * <p>tanh: {@link Math#tanh} (within about an ulp, ~25 ns in JDK 17) in double precision; in float precision
 * {@code 2/(1 + exp(−2x)) − 1} with the {@link Math#exp} intrinsic (~6 ns), whose error (a few 1e-16 absolute, so
 * also relative wherever |tanh x| is above 1e-8) vanishes in the float result.
 */
enum ScalarActivation {
    TANH, SIGMOID, SOFTSIGN, SOFTPLUS, IDENTITY, RELU, HARD_SIGMOID, HARD_SIGMOID6, HARD_TANH;

    private static final double SIXTH = 1.0 / 6.0;
    /** Bounds of a hard sigmoid's output where its derivative is the slope, in double and in float storage. */
    private static final double INSIDE_LOW_DOUBLE = Double.MIN_NORMAL;
    private static final double INSIDE_HIGH_DOUBLE = Math.nextDown(1.0);
    private static final double INSIDE_LOW_FLOAT = Float.MIN_NORMAL;
    private static final double INSIDE_HIGH_FLOAT = Math.nextDown(1.0f);

    /** The scalar form of {@code fn}, or null when there is none here. */
    static ScalarActivation of(IActivation fn) {
        if (fn == null) {
            return null;
        }
        if (fn.equals(new ActivationTanH())) {
            return TANH;
        }
        if (fn.equals(new ActivationSigmoid())) {
            return SIGMOID;
        }
        if (fn.equals(new ActivationSoftSign())) {
            return SOFTSIGN;
        }
        if (fn.equals(new ActivationSoftPlus())) {
            return SOFTPLUS;
        }
        if (fn.equals(new ActivationIdentity())) {
            return IDENTITY;
        }
        if (fn.equals(new ActivationReLU())) {
            return RELU;
        }
        if (fn.equals(new ActivationHardSigmoid())) {
            return HARD_SIGMOID;
        }
        if (fn.equals(new ActivationHardSigmoid6())) {
            return HARD_SIGMOID6;
        }
        if (fn.equals(new ActivationHardTanH())) {
            return HARD_TANH;
        }
        return null;
    }

    /**
     * {@code f(x)}; {@code exact} (the output is stored in double, not float) selects the double-precision tanh and
     * the hard sigmoids' bounds (see the class comment).
     */
    static double apply(ScalarActivation f, double x, boolean exact) {
        switch (f) {
            case TANH:
                return exact ? Math.tanh(x) : fastTanh(x);
            case SIGMOID:
                return 1.0 / (1.0 + Math.exp(-x));
            case SOFTSIGN:
                return x / (1.0 + Math.abs(x));
            case SOFTPLUS:
                return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
            case IDENTITY:
                return x;
            case RELU:
                return x > 0 ? x : 0.0;
            case HARD_SIGMOID:
                // Slope 0.2 on [−2.5, 2.5]; NaN fails every comparison and comes out as NaN.
                return x > 2.5 ? 1.0 : x < -2.5 ? 0.0 : inside(0.2 * x + 0.5, exact);
            case HARD_SIGMOID6:
                // Slope 1/6 on (−3, 3).
                return x >= 3.0 ? 1.0 : x <= -3.0 ? 0.0 : inside(x / 6.0 + 0.5, exact);
            case HARD_TANH:
                return Math.min(1.0, Math.max(-1.0, x));
            default:
                throw new AssertionError(f);
        }
    }

    /** {@code f'(x)} from {@code y = f(x)}. */
    static double derivative(ScalarActivation f, double y) {
        switch (f) {
            case TANH:
                return 1.0 - y * y;
            case SIGMOID:
                return y * (1.0 - y);
            case SOFTSIGN: {
                double s = 1.0 - Math.abs(y);
                return s * s;
            }
            case SOFTPLUS:
                return -Math.expm1(-y);
            case IDENTITY:
                return 1.0;
            case RELU:
                return y > 0 ? 1.0 : 0.0;
            case HARD_SIGMOID:
                return y > 0 && y < 1 ? 0.2 : 0.0;
            case HARD_SIGMOID6:
                return y > 0 && y < 1 ? SIXTH : 0.0;
            case HARD_TANH:
                return Math.abs(y) < 1 ? 1.0 : 0.0;
            default:
                throw new AssertionError(f);
        }
    }

    /** {@code y} clamped strictly inside (0, 1) as stored in double ({@code exact}) or float; NaN stays NaN. */
    private static double inside(double y, boolean exact) {
        return exact ? Math.min(INSIDE_HIGH_DOUBLE, Math.max(INSIDE_LOW_DOUBLE, y))
                : Math.min(INSIDE_HIGH_FLOAT, Math.max(INSIDE_LOW_FLOAT, y));
    }

    /** tanh(x) = 2σ(2x) − 1: one exp and one division. */
    private static double fastTanh(double x) {
        return 2.0 / (1.0 + Math.exp(-2.0 * x)) - 1.0;
    }
}
