/**
 * Activation functions that DL4J does not ship and the layers of this module need, each an ND4J
 * {@link org.nd4j.linalg.activations.IActivation} that serialises with a DL4J configuration (by class name, like
 * DL4J's own activations). {@link org.dl4jclipping.rnn.activations.ActivationHardSigmoid6} is the hard sigmoid of
 * Keras 3 and PyTorch ({@code relu6(x + 3) / 6}); DL4J's {@code Activation.HARDSIGMOID} is Keras 2's
 * ({@code 0.2·x + 0.5}, clipped).
 */
package org.dl4jclipping.rnn.activations;
