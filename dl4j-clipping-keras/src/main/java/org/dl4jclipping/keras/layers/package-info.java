/**
 * The Keras layers this project adds to DL4J's Keras importer, registered by
 * {@link org.dl4jclipping.keras.KerasImport}: {@code GRU} as {@link org.dl4jclipping.rnn.conf.GRU}
 * ({@link org.dl4jclipping.keras.layers.KerasGru}), {@code Bidirectional(GRU)}
 * ({@link org.dl4jclipping.keras.layers.KerasBidirectionalGru}), Keras's RNN options around a recurrent layer
 * ({@link org.dl4jclipping.keras.layers.KerasRecurrent}: go_backwards, return_sequences, Masking), Dense on
 * sequences ({@link org.dl4jclipping.keras.layers.KerasSequenceDense}) and 1-d global pooling
 * ({@link org.dl4jclipping.keras.layers.KerasGlobalPooling1D}) with Keras's shapes.
 */
package org.dl4jclipping.keras.layers;
