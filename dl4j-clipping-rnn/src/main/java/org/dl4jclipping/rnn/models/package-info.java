/**
 * Ready-made sequence networks with gradient clipping configured: a few lines give a
 * {@link org.deeplearning4j.nn.conf.MultiLayerConfiguration} or an initialised
 * {@link org.deeplearning4j.nn.multilayer.MultiLayerNetwork} that already carries the required
 * {@link org.dl4jclipping.dl4j.ClippingListener}.
 *
 * <ul>
 *   <li>{@link org.dl4jclipping.rnn.models.CharLanguageModel}: next-character prediction over a vocabulary
 *       (stacked LSTM or GRU, softmax at every step, truncated BPTT by default);</li>
 *   <li>{@link org.dl4jclipping.rnn.models.TimeSeriesForecaster}: regression of the next {@code horizon} steps of
 *       a multivariate series from the last time step;</li>
 *   <li>{@link org.dl4jclipping.rnn.models.SequenceClassifier}: one class per sequence, from the last step or a
 *       mean/max pooling over the (masked) steps.</li>
 * </ul>
 *
 * <p>The builders are immutable: every setter returns a new builder, so one builder can serve as a template for
 * several networks. Settings are validated when {@code build()} or {@code network()} is called; a bad value
 * throws {@link IllegalArgumentException} naming the builder, the field, the value and the allowed range.
 * The recurrent cell is chosen with {@link org.dl4jclipping.rnn.models.Cell} (DL4J's LSTM or this module's GRU).
 * The settings shared by all three builders, with their defaults, are documented on
 * {@link org.dl4jclipping.rnn.models.SequenceModelBuilder}.
 */
package org.dl4jclipping.rnn.models;
