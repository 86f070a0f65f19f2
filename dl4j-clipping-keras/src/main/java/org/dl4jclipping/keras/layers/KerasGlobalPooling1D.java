package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.layers.pooling.KerasGlobalPooling;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasLayerUtils;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Keras's {@code GlobalAveragePooling1D} / {@code GlobalMaxPooling1D} over the time axis of [batch, time,
 * features]: DL4J's mapping, with the output type corrected to a vector of the feature size. DL4J 1.0.0-M2.1
 * declares it a sequence on NWC input, and the layers after it were then mapped for sequences although they
 * receive [batch, features]. {@code keepdims=True} (Keras 2.6 and later) is refused.
 */
public class KerasGlobalPooling1D extends KerasGlobalPooling {

    /** Prefix of the class names KerasImport gives these layers: "dl4jclipping." + the Keras class name. */
    public static final String PREFIX = "dl4jclipping.";

    /**
     * Maps a pooling layer configuration prepared by {@code KerasImport} (class name with {@link #PREFIX}).
     *
     * @param layerConfig the Keras layer configuration
     */
    public KerasGlobalPooling1D(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(withKerasClassName(layerConfig), false);
        Object keep = KerasLayerUtils.getInnerLayerConfigFromConfig(layerConfig, conf).get("keepdims");
        if (Boolean.TRUE.equals(keep)) {
            throw new UnsupportedKerasConfigurationException("Keras layer '" + layerName + "': keepdims=true is not"
                    + " supported (the output would stay a sequence of length 1)");
        }
    }

    private static Map<String, Object> withKerasClassName(Map<String, Object> layerConfig) {
        Map<String, Object> copy = new LinkedHashMap<>(layerConfig);
        String name = String.valueOf(copy.get("class_name"));
        if (name.startsWith(PREFIX)) {
            copy.put("class_name", name.substring(PREFIX.length()));
        }
        return copy;
    }

    @Override
    public InputType getOutputType(InputType... inputType) throws InvalidKerasConfigurationException {
        if (inputType.length == 1 && inputType[0] instanceof InputType.InputTypeRecurrent) {
            return InputType.feedForward(((InputType.InputTypeRecurrent) inputType[0]).getSize());
        }
        return super.getOutputType(inputType);
    }
}
