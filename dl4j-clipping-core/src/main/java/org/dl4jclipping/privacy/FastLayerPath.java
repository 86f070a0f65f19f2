package org.dl4jclipping.privacy;

import org.deeplearning4j.nn.api.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A layer type whose per-example gradients come out of one ordinary backward pass: given the layer (its input set by
 * the forward pass) and the error arriving from above, it returns the layer's {@link LayerPerExample} and the error
 * for the layer below, exactly as DL4J's own {@code backpropGradient} would pass it on.
 *
 * <p>The paths are {@link DensePath} ({@code DenseLayer}, {@code OutputLayer}), {@link RnnOutputPath} and
 * {@link EmbeddingPath} ({@code EmbeddingLayer}, {@code EmbeddingSequenceLayer}); {@link FastBackprop#PATHS} lists
 * them. A recurrent layer becomes one when its kernel exposes the gate errors of every step.
 */
interface FastLayerPath {

    /**
     * Whether this path computes {@code layer} exactly: the exact implementation class, and no option it does not
     * reproduce (weight noise, layer normalisation, ...).
     */
    boolean handles(Layer layer);

    /**
     * One layer's backward step.
     *
     * @param layer   the layer, after the forward pass (its {@code input()} is what it multiplied)
     * @param epsilon dLoss/d(output) from the layer above; null for the output layer
     * @param batch   the batch: size, labels, masks, and which example each input row belongs to
     */
    Step backward(Layer layer, INDArray epsilon, FastBatch batch);

    /**
     * @param gradients    the layer's per-example gradients
     * @param epsilonBelow dLoss/d(input) for the layer below; null when the layer is first
     */
    record Step(LayerPerExample gradients, INDArray epsilonBelow) {
    }

    /**
     * @param examples  the batch size
     * @param labels    the batch's labels
     * @param labelMask the batch's label mask, or null
     * @param inputRows for a two-dimensional input, which example each row belongs to; null otherwise
     */
    record FastBatch(int examples, INDArray labels, INDArray labelMask, ExampleRows inputRows) {
    }
}
