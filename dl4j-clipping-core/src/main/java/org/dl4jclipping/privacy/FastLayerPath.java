package org.dl4jclipping.privacy;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A layer type whose per-example gradients come out of one ordinary backward pass: given the layer (its input set by
 * the forward pass) and the error arriving from above, it returns the layer's {@link LayerPerExample} and the error
 * for the layer below, exactly as DL4J's own {@code backpropGradient} would pass it on.
 *
 * <p>The built-in paths are {@link DensePath} ({@code DenseLayer}, {@code OutputLayer}), {@link RnnOutputPath} and
 * {@link EmbeddingPath} ({@code EmbeddingLayer}, {@code EmbeddingSequenceLayer}). Other modules add paths as
 * services ({@code java.util.ServiceLoader}: a public class with a public no-argument constructor, named in
 * {@code META-INF/services/org.dl4jclipping.privacy.FastLayerPath}); {@code dl4j-clipping-rnn} adds its recurrent
 * layers and DL4J's {@code LSTM} this way. {@link FastBackprop#PATHS} lists them all, built-in ones first.
 *
 * <p>Order of use within one batch: {@link #activate} in the forward pass, then {@link #backward} once, in the
 * backward pass; a path may keep what its forward pass computed for its backward pass (per layer), and the
 * {@link LayerPerExample} it returns may read that memory until the next forward pass of the same layer.
 */
public interface FastLayerPath {

    /**
     * Whether this path computes {@code layer} exactly: the exact implementation class, and no option it does not
     * reproduce (weight noise, layer normalisation, ...).
     */
    boolean handles(Layer layer);

    /**
     * The layer's training forward pass on {@code input}; by default DL4J's own {@code activate(input, true, mgr)}.
     * A path that runs its own kernel overrides it (and must return what the layer's forward pass returns).
     *
     * @throws NotApplicable if this batch cannot take the fast path (the generic path is used instead)
     */
    default INDArray activate(Layer layer, INDArray input, LayerWorkspaceMgr mgr) {
        return layer.activate(input, true, mgr);
    }

    /**
     * One layer's backward step.
     *
     * @param layer   the layer, after the forward pass (its {@code input()} is what it multiplied)
     * @param epsilon dLoss/d(output) from the layer above; null for the output layer
     * @param batch   the batch: size, labels, masks, and which example each input row belongs to
     * @throws NotApplicable if this batch cannot take the fast path (the generic path is used instead)
     */
    Step backward(Layer layer, INDArray epsilon, FastBatch batch);

    /**
     * @param gradients    the layer's per-example gradients
     * @param epsilonBelow dLoss/d(input) for the layer below; null when the layer is first
     */
    record Step(LayerPerExample gradients, INDArray epsilonBelow) {
    }

    /**
     * The batch as a path sees it.
     *
     * @param examples  the batch size
     * @param labels    the batch's labels
     * @param labelMask the batch's label mask, or null
     * @param inputRows for a two-dimensional input, which example each row belongs to; null otherwise
     * @param needBelow whether the layers below need {@link Step#epsilonBelow} (false for the first layer with
     *                  parameters: a path may then skip computing it)
     */
    record FastBatch(int examples, INDArray labels, INDArray labelMask, ExampleRows inputRows, boolean needBelow) {
    }

    /**
     * Thrown by a path when one batch is outside what it computes exactly (a mask with gaps for a kernel that takes
     * sequence lengths, say): {@link PerExampleGradients#of} then computes the batch on the generic path, which gives
     * the same numbers, and logs the reason once.
     */
    final class NotApplicable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        /** @param reason what the path cannot do, naming the layer */
        public NotApplicable(String reason) {
            super(reason);
        }
    }
}
