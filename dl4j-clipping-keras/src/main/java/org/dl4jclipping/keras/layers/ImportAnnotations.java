package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the importer learned about a layer from the whole model and the file, passed to the layer's mapping
 * inside its own configuration map under the key {@link #KEY} (DL4J constructs custom layers from that map
 * alone): the full Keras version that saved the file, and the masking value when the layer reads the mask of a
 * Keras {@code Masking} layer.
 *
 * @param kerasVersion  the {@code keras_version} of the file, e.g. "2.0.9", "2.10.0", "3.8.0"
 * @param maskValue     the {@code mask_value} of the Masking layer feeding this layer, or {@code null}
 */
public record ImportAnnotations(String kerasVersion, Double maskValue) {

    /** The key of the annotations in a layer's configuration map (beside "class_name" and "config"). */
    public static final String KEY = "dl4jclipping_import";

    /** The major version (the number before the first dot) of {@link #kerasVersion()}. */
    public int kerasMajor() {
        int dot = kerasVersion.indexOf('.');
        return Integer.parseInt(dot < 0 ? kerasVersion : kerasVersion.substring(0, dot));
    }

    /** Writes these annotations into a layer configuration map. */
    public void writeTo(Map<String, Object> layerConfig) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("keras_version", kerasVersion);
        if (maskValue != null) {
            m.put("mask_value", maskValue);
        }
        layerConfig.put(KEY, m);
    }

    /** Reads the annotations written by {@link #writeTo}; fails when the importer did not write them. */
    static ImportAnnotations readFrom(Map<String, Object> layerConfig, String layerName)
            throws InvalidKerasConfigurationException {
        Object o = layerConfig.get(KEY);
        if (!(o instanceof Map)) {
            throw new InvalidKerasConfigurationException("Keras layer '" + layerName + "' was not prepared by"
                    + " org.dl4jclipping.keras.KerasImport (no '" + KEY + "' entry): import the model through"
                    + " KerasImport, not DL4J's KerasModelImport");
        }
        Map<?, ?> m = (Map<?, ?>) o;
        Object mask = m.get("mask_value");
        return new ImportAnnotations(String.valueOf(m.get("keras_version")),
                mask == null ? null : ((Number) mask).doubleValue());
    }
}
