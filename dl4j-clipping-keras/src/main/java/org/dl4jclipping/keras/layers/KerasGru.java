package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasLayerUtils;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * DL4J Keras-import mapping of a Keras {@code GRU} layer to this project's
 * {@link org.dl4jclipping.rnn.conf.GRU}: options as in {@link GruSpec}, weights as in {@link GruWeights}.
 *
 * <p>Registered with DL4J's importer under {@link #CLASS_NAME}, the name {@code KerasImport} gives GRU layers
 * after adding the {@link ImportAnnotations} (Keras version, mask) they need; DL4J constructs it from the layer's
 * configuration map alone.
 */
public class KerasGru extends NwcRecurrentMapping {

    /** The class name KerasImport gives Keras GRU layers in the configuration it hands to DL4J. */
    public static final String CLASS_NAME = "dl4jclipping.GRU";

    private final GruSpec spec;

    /**
     * Maps a layer configuration prepared by {@code KerasImport}.
     *
     * @param layerConfig  the Keras layer configuration with {@link ImportAnnotations}
     */
    public KerasGru(Map<String, Object> layerConfig)
            throws InvalidKerasConfigurationException, UnsupportedKerasConfigurationException {
        super(layerConfig);
        Map<String, Object> inner = KerasLayerUtils.getInnerLayerConfigFromConfig(layerConfig, conf);
        this.spec = GruSpec.parse(inner, layerName, ImportAnnotations.readFrom(layerConfig, layerName));
        this.layer = spec.wrap(spec.gru(layerName));
    }

    @Override
    public int getNumParams() {
        return spec.useBias ? 3 : 2;
    }

    /** @param weights the datasets of this layer's group, keyed by path relative to it */
    @Override
    public void setWeights(Map<String, INDArray> weights) throws InvalidKerasConfigurationException {
        this.weights = GruWeights.toParams(weights, spec.units, spec.resetAfter, spec.useBias, layerName);
    }
}
