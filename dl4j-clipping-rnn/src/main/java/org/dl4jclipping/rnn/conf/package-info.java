/**
 * Layer configurations of the sequence-model module. {@link org.dl4jclipping.rnn.conf.GRU} configures a gated
 * recurrent unit with PyTorch {@code nn.GRU} equations and a builder in the style of DL4J's {@code LSTM.Builder};
 * it serialises to and from JSON with the rest of a DL4J network configuration.
 */
package org.dl4jclipping.rnn.conf;
