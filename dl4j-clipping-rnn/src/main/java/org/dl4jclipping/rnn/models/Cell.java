package org.dl4jclipping.rnn.models;

import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.dl4jclipping.rnn.conf.GRU;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.nd4j.linalg.activations.Activation;

/** The recurrent cell of a sequence-model builder. */
public enum Cell {

    /**
     * This module's {@link NativeLSTM}: DL4J's LSTM equations, parameters and initialisation, the forward pass one
     * libnd4j call (the default: the same numbers as {@link #DL4J_LSTM}, a faster step up to width 256; see
     * docs/rnn.md).
     * Masks must be sequence lengths (padding at the end). Four gate blocks: {@code 4·(nIn + nOut + 1)·nOut}
     * parameters.
     */
    LSTM {
        @Override
        public BaseRecurrentLayer layer(long nIn, long nOut) {
            return new NativeLSTM.Builder().nIn(nIn).nOut(nOut).activation(Activation.TANH)
                    .gateActivationFunction(Activation.SIGMOID).build();
        }
    },

    /**
     * DL4J's {@link org.deeplearning4j.nn.conf.layers.LSTM}: tanh activation, sigmoid gates, forget-gate bias
     * initialised to 1 (DL4J's default); for masks that are not sequence lengths. Same parameters as {@link #LSTM}.
     */
    DL4J_LSTM {
        @Override
        public BaseRecurrentLayer layer(long nIn, long nOut) {
            return new org.deeplearning4j.nn.conf.layers.LSTM.Builder().nIn(nIn).nOut(nOut)
                    .activation(Activation.TANH).gateActivationFunction(Activation.SIGMOID).build();
        }
    },

    /**
     * This module's {@link GRU} (PyTorch's {@code nn.GRU} equations): tanh activation, sigmoid gates. Three gate
     * blocks and two biases: {@code 3·(nIn + nOut + 2)·nOut} parameters, about 3/4 of an LSTM of the same width.
     */
    GRU {
        @Override
        public BaseRecurrentLayer layer(long nIn, long nOut) {
            return new org.dl4jclipping.rnn.conf.GRU.Builder().nIn(nIn).nOut(nOut)
                    .activation(Activation.TANH).gateActivationFunction(Activation.SIGMOID).build();
        }
    };

    /**
     * A new layer configuration of this cell, {@code nIn -> nOut}, data format NCW; everything not set here
     * (weight init, updater, dropout) comes from the network configuration.
     *
     * @param nIn  input size, &gt;= 1
     * @param nOut hidden size, &gt;= 1
     */
    public abstract BaseRecurrentLayer layer(long nIn, long nOut);
}
