/**
 * Layer implementations: {@link org.dl4jclipping.rnn.layers.GRULayer} integrates the GRU with DL4J (data formats,
 * masks, workspaces, stateful inference and truncated BPTT); the package-private kernel does the arithmetic over
 * whole time-major sequences with ND4J GEMMs.
 */
package org.dl4jclipping.rnn.layers;
