package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.dl4jclipping.rnn.activations.ActivationHardSigmoid6;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationTanH;

/**
 * The element-wise activations a Keras recurrent layer may name ({@code activation}, {@code recurrent_activation})
 * and the ND4J function computing each one:
 * <pre>
 *   tanh          tanh(x)                                  ActivationTanH
 *   sigmoid       1 / (1 + exp(-x))                        ActivationSigmoid
 *   relu          max(0, x)                                ActivationReLU
 *   linear, null  x                                        ActivationIdentity
 *   hard_sigmoid  Keras 1 and 2: clip(0.2 x + 0.5, 0, 1)   ActivationHardSigmoid (ND4J's HARDSIGMOID)
 *                 Keras 3:       relu6(x + 3) / 6          ActivationHardSigmoid6
 * </pre>
 * {@code hard_sigmoid} is decided by the major version of the Keras that saved the file, because Keras 3 changed
 * its definition (keras/src/activations/activations.py) while keeping the name. Any other name fails, naming the
 * layer, the option and the value.
 */
final class KerasActivations {

    private KerasActivations() {
    }

    /**
     * The function for a Keras activation name.
     *
     * @param name        the name in the configuration ({@code null} means linear, as in Keras)
     * @param kerasMajor  major version of the Keras that saved the file (1, 2 or 3)
     * @param layerName   the layer, for the error message
     * @param option      the configuration key ({@code activation} or {@code recurrent_activation})
     */
    static IActivation of(String name, int kerasMajor, String layerName, String option)
            throws UnsupportedKerasConfigurationException {
        if (name == null) {
            return new ActivationIdentity();
        }
        switch (name) {
            case "tanh":
                return new ActivationTanH();
            case "sigmoid":
                return new ActivationSigmoid();
            case "relu":
                return new ActivationReLU();
            case "linear":
                return new ActivationIdentity();
            case "hard_sigmoid":
                return kerasMajor >= 3 ? new ActivationHardSigmoid6() : new ActivationHardSigmoid();
            default:
                throw new UnsupportedKerasConfigurationException("Keras layer '" + layerName + "': " + option + "='"
                        + name + "' is not supported for a GRU (supported: tanh, sigmoid, relu, hard_sigmoid,"
                        + " linear)");
        }
    }
}
