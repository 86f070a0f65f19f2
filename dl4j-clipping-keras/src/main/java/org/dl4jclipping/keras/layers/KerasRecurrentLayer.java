package org.dl4jclipping.keras.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.TimeSeriesUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The layer of {@link KerasRecurrent}: mask, time reversal, last-step selection and the repeat of the last valid
 * output, around a recurrent layer with NWC data. Forward and backward pass are exact adjoints: a repeated
 * output sends its gradient to the step it repeats, the selected last step receives the whole gradient.
 */
final class KerasRecurrentLayer extends BaseWrapperLayer {

    private static final long serialVersionUID = 1L;

    private final KerasRecurrent spec;
    private INDArray input;
    private INDArray externalMask;
    /** Per example: index (processing order) of the last valid step, -1 when none; null without a mask. */
    private int[] lastValid;
    private long timeSteps;

    KerasRecurrentLayer(Layer underlying, KerasRecurrent spec) {
        super(underlying);
        this.spec = spec;
    }

    @Override
    public Type type() {
        return spec.isReturnSequences() ? Type.RECURRENT : Type.FEED_FORWARD;
    }

    @Override
    public void setInput(INDArray input, LayerWorkspaceMgr workspaceMgr) {
        this.input = input;
        underlying.setInput(input, workspaceMgr);
    }

    @Override
    public INDArray input() {
        return input;
    }

    @Override
    public void setMaskArray(INDArray maskArray) {
        this.externalMask = maskArray;
    }

    @Override
    public INDArray getMaskArray() {
        return externalMask;
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState currentMaskState,
                                                         int minibatchSize) {
        this.externalMask = maskArray;
        return spec.isReturnSequences() ? new Pair<>(maskArray, currentMaskState) : new Pair<>(null, currentMaskState);
    }

    @Override
    public INDArray activate(INDArray input, boolean training, LayerWorkspaceMgr workspaceMgr) {
        setInput(input, workspaceMgr);
        return activate(training, workspaceMgr);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (input == null || input.rank() != 3) {
            throw new IllegalStateException("Keras recurrent layer '" + layerName() + "': expected input [batch, time,"
                    + " features], got " + (input == null ? "none" : java.util.Arrays.toString(input.shape())));
        }
        timeSteps = input.size(1);
        INDArray mask = spec.getMaskValue() != null ? maskFromInput(input, spec.getMaskValue()) : externalMask;
        INDArray x = input;
        if (spec.isGoBackwards()) {
            x = TimeSeriesUtils.reverseTimeSeries(input, workspaceMgr, ArrayType.INPUT, RNNFormat.NWC);
            mask = mask == null ? null : TimeSeriesUtils.reverseTimeSeriesMask(mask, workspaceMgr, ArrayType.INPUT);
        }
        lastValid = mask == null ? null : MaskRuns.lastValid(mask, layerName());
        underlying.setInput(x, workspaceMgr);
        underlying.setMaskArray(mask);
        INDArray out = underlying.activate(training, workspaceMgr);
        if (spec.isReturnSequences()) {
            if (lastValid == null) {
                return out;
            }
            INDArray filled = workspaceMgr.dup(ArrayType.ACTIVATIONS, out);
            for (int b = 0; b < lastValid.length; b++) {
                int last = lastValid[b];
                if (last < 0) {
                    continue;
                }
                INDArray source = out.get(NDArrayIndex.point(b), NDArrayIndex.point(last), NDArrayIndex.all());
                for (long t = last + 1; t < timeSteps; t++) {
                    filled.get(NDArrayIndex.point(b), NDArrayIndex.point(t), NDArrayIndex.all()).assign(source);
                }
            }
            return filled;
        }
        long mb = out.size(0);
        INDArray ret = workspaceMgr.create(ArrayType.ACTIVATIONS, out.dataType(), mb, out.size(2));
        for (int b = 0; b < mb; b++) {
            long idx = lastValid == null ? timeSteps - 1 : lastValid[b];
            if (idx >= 0) {
                ret.getRow(b).assign(out.get(NDArrayIndex.point(b), NDArrayIndex.point(idx), NDArrayIndex.all()));
            }
        }
        return ret;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        INDArray eps;
        if (spec.isReturnSequences()) {
            eps = workspaceMgr.dup(ArrayType.BP_WORKING_MEM, epsilon);
            if (lastValid != null) {
                for (int b = 0; b < lastValid.length; b++) {
                    int last = lastValid[b];
                    if (last < 0) {
                        continue;
                    }
                    INDArray target = eps.get(NDArrayIndex.point(b), NDArrayIndex.point(last), NDArrayIndex.all());
                    for (long t = last + 1; t < timeSteps; t++) {
                        INDArray repeated = eps.get(NDArrayIndex.point(b), NDArrayIndex.point(t), NDArrayIndex.all());
                        target.addi(repeated);
                        repeated.assign(0);
                    }
                }
            }
        } else {
            long mb = epsilon.size(0);
            eps = workspaceMgr.create(ArrayType.BP_WORKING_MEM, epsilon.dataType(), mb, timeSteps, epsilon.size(1));
            for (int b = 0; b < mb; b++) {
                long idx = lastValid == null ? timeSteps - 1 : lastValid[b];
                if (idx >= 0) {
                    eps.get(NDArrayIndex.point(b), NDArrayIndex.point(idx), NDArrayIndex.all())
                            .assign(epsilon.getRow(b));
                }
            }
        }
        Pair<Gradient, INDArray> p = underlying.backpropGradient(eps, workspaceMgr);
        INDArray epsOut = p.getSecond();
        if (spec.isGoBackwards() && epsOut != null) {
            epsOut = TimeSeriesUtils.reverseTimeSeries(epsOut, workspaceMgr, ArrayType.ACTIVATION_GRAD, RNNFormat.NWC);
        }
        return new Pair<>(p.getFirst(), epsOut);
    }

    /** Keras's Masking: step valid when any feature differs from the mask value; [batch, time]. */
    static INDArray maskFromInput(INDArray x, double maskValue) {
        return x.neq(maskValue).castTo(x.dataType()).max(2);
    }

    private String layerName() {
        return spec.getLayerName();
    }
}
