package org.dl4jclipping.privacy;


/**
 * The per-example gradients of one layer's parameters for one batch, as a fast path holds them: the layer's
 * inputs and output errors, never a [batch, parameters] matrix unless {@link #writeExample} is asked for one.
 *
 * <p>Order of use: a {@link FastLayerPath} builds it during one backward pass; {@link PerExampleGradients} then asks
 * for {@link #squaredNorms()} (to clip) and {@link #writeClippedSum} (the clipped sum of the batch). Example
 * {@code i}'s gradient is the gradient of example {@code i}'s loss alone, as single-example backpropagation gives it
 * (DL4J sums over the batch: the per-example gradients add up to the batch gradient).
 *
 * <p>Implemented by each {@link FastLayerPath} for its layers (the recurrent ones in {@code dl4j-clipping-rnn} hand
 * over, per weight matrix, the inputs it multiplied and the errors at the gates of every step).
 */
public interface LayerPerExample {

    /** The squared L2 norm of each example's gradient over all of this layer's parameters, in double. */
    double[] squaredNorms();

    /**
     * Writes {@code sum_i factors[i] * g_i} into {@code views} (the layer's gradient,
     * overwritten).
     *
     * @param factors one scale per example, length = batch size
     */
    void writeClippedSum(double[] factors, LayerViews views);

    /** Writes example {@code i}'s gradient into {@code views} (overwritten). */
    void writeExample(int i, LayerViews views);
}
