package org.dl4jclipping.rnn.layers;

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
 *   HARD_SIGMOID  y = min(1, max(0, 0.2x + 0.5))    f'(x) = 0.2 if 0 &lt; y &lt; 1, else 0 (DL4J's definition)
 *   HARD_TANH     y = min(1, max(−1, x))            f'(x) = 1 if |y| &lt; 1, else 0
 * </pre>
 * {@link #of} maps DL4J's activation objects (with their default settings only) to these and returns null for any
 * other, so that a layer can fall back to ND4J's ops.
 *
 * <p>tanh: {@link Math#tanh} (within about an ulp, ~25 ns in JDK 17) in double precision; in float precision
 * {@code 2/(1 + exp(−2x)) − 1} with the {@link Math#exp} intrinsic (~6 ns), whose error (a few 1e-16 absolute, so
 * also relative wherever |tanh x| is above 1e-8) vanishes in the float result.
 */
enum ScalarActivation {
    TANH, SIGMOID, SOFTSIGN, SOFTPLUS, IDENTITY, RELU, HARD_SIGMOID, HARD_TANH;

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
        if (fn.equals(new ActivationHardTanH())) {
            return HARD_TANH;
        }
        return null;
    }

    /** {@code f(x)}; {@code exact} selects the double-precision tanh (see the class comment). */
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
                return Math.min(1.0, Math.max(0.0, 0.2 * x + 0.5));
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
            case HARD_TANH:
                return Math.abs(y) < 1 ? 1.0 : 0.0;
            default:
                throw new AssertionError(f);
        }
    }

    /** tanh(x) = 2σ(2x) − 1: one exp and one division. */
    private static double fastTanh(double x) {
        return 2.0 / (1.0 + Math.exp(-2.0 * x)) - 1.0;
    }
}
