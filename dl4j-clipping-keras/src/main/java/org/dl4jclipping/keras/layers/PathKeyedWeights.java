package org.dl4jclipping.keras.layers;

/**
 * A Keras layer mapping whose {@code setWeights} takes every dataset of the layer's HDF5 group keyed by its path
 * relative to that group (e.g. {@code forward_gru/gru_cell_1/kernel:0}), rather than by DL4J's short parameter
 * names: the path tells the forward from the backward layer of a {@code Bidirectional}, and Keras 3 names
 * datasets without the {@code :0} suffix of tf.keras.
 */
public interface PathKeyedWeights {
}
