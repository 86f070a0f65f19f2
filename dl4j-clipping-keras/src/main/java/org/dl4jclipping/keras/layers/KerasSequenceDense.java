package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.TimeDistributed;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.layers.core.KerasDense;

import java.util.Map;

/**
 * A Keras {@code Dense} (bare or inside {@code TimeDistributed}) that keeps Keras's output shape on sequences:
 * Keras applies it to the last axis of [batch, time, features] and returns [batch, time, units], where DL4J's own
 * import flattens the sequence into [batch·time, units] rows. On a recurrent input it becomes DL4J's
 * {@link TimeDistributed} (NWC) around the {@link DenseLayer}; on a vector input it is DL4J's mapping unchanged.
 * Weights: DL4J's ({@code kernel} -> "W", {@code bias} -> "b"), the same under the wrapper.
 */
public class KerasSequenceDense extends KerasDense {

    /** The class name KerasImport gives Keras Dense layers in the configuration it hands to DL4J. */
    public static final String CLASS_NAME = "dl4jclipping.Dense";

    private final DenseLayer dense;

    /**
     * Maps a Dense layer configuration prepared by {@code KerasImport}.
     *
     * @param layerConfig the Keras layer configuration
     */
    public KerasSequenceDense(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, false);
        this.dense = getDenseLayer();
    }

    @Override
    public InputType getOutputType(InputType... inputType) throws InvalidKerasConfigurationException {
        if (inputType.length == 1 && inputType[0] instanceof InputType.InputTypeRecurrent) {
            TimeDistributed td = new TimeDistributed(dense, RNNFormat.NWC);
            td.setLayerName(layerName);
            this.layer = td;
            return td.getOutputType(-1, inputType[0]);
        }
        this.layer = dense;
        return super.getOutputType(inputType);
    }

    @Override
    public InputPreProcessor getInputPreprocessor(InputType... inputType) throws InvalidKerasConfigurationException {
        if (layer instanceof TimeDistributed) {
            return null;
        }
        return super.getInputPreprocessor(inputType);
    }
}
