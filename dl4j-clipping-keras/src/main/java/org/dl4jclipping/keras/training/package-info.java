/**
 * The optimizer and gradient clipping of a Keras file's training configuration, mapped to a DL4J
 * {@link org.nd4j.linalg.learning.config.IUpdater} and a clipping strategy of the core module, and installed on a
 * network. The entry point is {@link org.dl4jclipping.keras.KerasTraining}; this package holds its pieces, one idea
 * each: which Keras wrote the file ({@link org.dl4jclipping.keras.training.KerasVersion},
 * {@link org.dl4jclipping.keras.training.OptimizerFamily}), the optimizer's fields
 * ({@link org.dl4jclipping.keras.training.OptimizerConfig}), the learning rate
 * ({@link org.dl4jclipping.keras.training.LearningRates}), the updater
 * ({@link org.dl4jclipping.keras.training.UpdaterMapping}), the clipping
 * ({@link org.dl4jclipping.keras.training.ClipMapping}), the installation on a network
 * ({@link org.dl4jclipping.keras.training.NetworkUpdaters}), and the one Keras update DL4J has no updater for,
 * SGD with classical momentum ({@link org.dl4jclipping.keras.training.KerasMomentum}).
 */
package org.dl4jclipping.keras.training;
