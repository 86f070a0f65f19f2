/**
 * Parameter initialisers: {@link org.dl4jclipping.rnn.params.GRUParamInitializer} defines the GRU's flat parameter
 * layout ("W", "RW", "b", "rb", gate blocks r, z, n; the transposes of PyTorch's {@code nn.GRU} weights) and fills
 * it from the configured weight and bias initialisation.
 */
package org.dl4jclipping.rnn.params;
