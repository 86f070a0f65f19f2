package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.InputTypeUtil;
import org.deeplearning4j.nn.modelimport.keras.KerasLayer;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;

import java.util.Map;

/**
 * What the GRU mappings share: one input in Keras's NWC layout ([batch, time, features]), the preprocessor DL4J
 * needs for it, the output type of the mapped layer, and weights keyed by HDF5 path ({@link PathKeyedWeights}).
 */
abstract class NwcRecurrentMapping extends KerasLayer implements PathKeyedWeights {

    NwcRecurrentMapping(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig, false);
    }

    @Override
    public InputType getOutputType(InputType... inputType) throws InvalidKerasConfigurationException {
        if (inputType.length != 1) {
            throw new InvalidKerasConfigurationException("Keras layer '" + layerName + "' takes one input, got "
                    + inputType.length + " (initial states are not supported)");
        }
        InputPreProcessor pre = getInputPreprocessor(inputType);
        InputType in = pre == null ? inputType[0] : pre.getOutputType(inputType[0]);
        return layer.getOutputType(-1, in);
    }

    @Override
    public InputPreProcessor getInputPreprocessor(InputType... inputType) throws InvalidKerasConfigurationException {
        return InputTypeUtil.getPreprocessorForInputTypeRnnLayers(inputType[0], RNNFormat.NWC, layerName);
    }
}
