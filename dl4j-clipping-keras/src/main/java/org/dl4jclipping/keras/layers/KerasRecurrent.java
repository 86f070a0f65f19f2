package org.dl4jclipping.keras.layers;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.util.MaskZeroLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Collection;

/**
 * A recurrent layer (NWC: [batch, time, features]) with Keras's RNN options around it: {@code go_backwards},
 * {@code return_sequences}, and a mask from a Keras {@code Masking} layer. The computation is
 * {@link KerasRecurrentLayer}'s:
 * <ol>
 *   <li>mask: with {@code maskValue} set, step t of example b is valid when any feature of x[b, t] differs from
 *       it (Keras's {@code Masking}); otherwise the network's features mask, if any. A mask must be one run of
 *       valid steps (padding before and/or after), because there Keras's masked steps (state carried) and
 *       the wrapped layer's (state and output zero) give the same valid outputs; a gap fails.</li>
 *   <li>{@code goBackwards}: input and mask reversed in time before the layer; the output stays in the
 *       processing order, as Keras returns it.</li>
 *   <li>{@code returnSequences} true: the output sequence, where steps after the last valid one repeat the
 *       last valid output (Keras's default {@code zero_output_for_mask=False}; steps before the first valid
 *       one are zero in both). False: the output of the last valid step in processing order, or zeros when
 *       no step is valid (Keras's initial state).</li>
 * </ol>
 * Parameters, updater and regularisation are the wrapped layer's. JSON: the wrapped layer plus the three options.
 *
 * <p>It extends DL4J's {@link MaskZeroLayer} configuration only because DL4J finds the data format of a wrapped
 * recurrent layer from a closed list of classes ({@code TimeSeriesUtils.getFormatFromRnnLayer}, used by
 * {@code Bidirectional}); MaskZeroLayer's own masking value is unused (NaN): {@link #getMaskValue()} is the mask.
 */
@Getter
@EqualsAndHashCode(callSuper = true)
public final class KerasRecurrent extends MaskZeroLayer {

    private static final long serialVersionUID = 1L;

    private final boolean goBackwards;
    private final boolean returnSequences;
    private final Double maskValue;

    /**
     * @param underlying       the recurrent layer, data format NWC
     * @param goBackwards      Keras's go_backwards
     * @param returnSequences  Keras's return_sequences
     * @param maskValue        the mask_value of the Masking layer in front, or {@code null}
     */
    public KerasRecurrent(@JsonProperty("underlying") Layer underlying,
                          @JsonProperty("goBackwards") boolean goBackwards,
                          @JsonProperty("returnSequences") boolean returnSequences,
                          @JsonProperty("maskValue") Double maskValue) {
        super(requireUnderlying(underlying), Double.NaN);
        this.goBackwards = goBackwards;
        this.returnSequences = returnSequences;
        this.maskValue = maskValue;
        this.layerName = underlying.getLayerName();
    }

    private static Layer requireUnderlying(Layer underlying) {
        if (underlying == null) {
            throw new IllegalArgumentException("KerasRecurrent: underlying layer must not be null");
        }
        return underlying;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                        Collection<TrainingListener> trainingListeners,
                                                        int layerIndex, INDArray layerParamsView,
                                                        boolean initializeParams, DataType networkDataType) {
        NeuralNetConfiguration inner = conf.clone();
        inner.setLayer(((KerasRecurrent) inner.getLayer()).getUnderlying());
        org.deeplearning4j.nn.api.Layer wrapped = underlying.instantiate(inner, trainingListeners, layerIndex,
                layerParamsView, initializeParams, networkDataType);
        return new KerasRecurrentLayer(wrapped, this);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        InputType out = underlying.getOutputType(layerIndex, inputType);
        if (returnSequences) {
            return out;
        }
        return InputType.feedForward(((InputType.InputTypeRecurrent) out).getSize());
    }

    /** The wrapped layer's updater (DL4J's Bidirectional asks its wrapped layer for it). */
    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return underlying.getUpdaterByParam(paramName);
    }

    @Override
    public String toString() {
        return "KerasRecurrent(goBackwards=" + goBackwards + ", returnSequences=" + returnSequences
                + ", maskValue=" + maskValue + ", " + underlying + ")";
    }
}
