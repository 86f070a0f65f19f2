package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * DL4J's {@link Bidirectional} around a {@link KerasRecurrent}, with the output type of Keras's
 * {@code Bidirectional} when the wrapped layer returns only its last output ({@code return_sequences=False}):
 * DL4J's own {@code getOutputType} expects a recurrent output unless the wrapped layer is a {@code LastTimeStep}.
 *
 * <p>The computation is DL4J's: the backward copy reads the input and mask reversed in time, its output sequence
 * is reversed back, and the two are merged (concat, sum, mul, ave). With {@code return_sequences=False} the
 * backward copy's output is its final step in its own processing order, which is Keras's backward output. Limit:
 * DL4J's {@code BidirectionalLayer} cannot backpropagate a last-step (2-d) output, so such a layer imports for
 * prediction only; fitting fails in DL4J's backward pass.
 */
public final class KerasBidirectional extends Bidirectional {

    private static final long serialVersionUID = 1L;

    /**
     * @param mode   DL4J's merge mode (Keras: concat, sum = ADD, mul, ave = AVERAGE)
     * @param layer  the forward layer; the backward one is its copy
     */
    public KerasBidirectional(@JsonProperty("mode") Mode mode, @JsonProperty("fwd") Layer layer) {
        super(mode, layer);
    }

    /** For JSON deserialisation. */
    private KerasBidirectional() {
        super();
    }

    /** Size of the merged output: the wrapped GRU's, twice with CONCAT. */
    @Override
    public long getNOut() {
        long n = recurrent().getNOut();
        return getMode() == Mode.CONCAT ? 2 * n : n;
    }

    @Override
    public long getNIn() {
        return recurrent().getNIn();
    }

    /** DL4J's own getters cast the wrapped layer to FeedForwardLayer; ours is a KerasRecurrent around one. */
    private FeedForwardLayer recurrent() {
        Layer l = getFwd();
        while (l instanceof BaseWrapperLayer) {
            l = ((BaseWrapperLayer) l).getUnderlying();
        }
        return (FeedForwardLayer) l;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        InputType out = getFwd().getOutputType(layerIndex, inputType);
        if (out instanceof InputType.InputTypeFeedForward) {
            long size = ((InputType.InputTypeFeedForward) out).getSize();
            return InputType.feedForward(getMode() == Mode.CONCAT ? 2 * size : size);
        }
        return super.getOutputType(layerIndex, inputType);
    }
}
