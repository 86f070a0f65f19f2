package org.dl4jclipping.privacy;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's {@code DenseLayer} and {@code OutputLayer} on two-dimensional input: {@code z = a W + b}, output
 * {@code f(z)}. The error at {@code z} is {@code f'(z) o epsilon} (times the layer's mask, as DL4J applies it) for a
 * dense layer, and the loss function's per-row gradient for the output layer ({@code ILossFunction.computeGradient},
 * which DL4J sums over the batch, never averages); the error below is {@code delta W^T}.
 */
final class DensePath implements FastLayerPath {

    @Override
    public boolean handles(Layer layer) {
        Class<?> type = layer.getClass();
        if (type != org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class
                && type != org.deeplearning4j.nn.layers.OutputLayer.class) {
            return false;
        }
        BaseLayer conf = (BaseLayer) layer.conf().getLayer();
        boolean layerNorm = conf instanceof org.deeplearning4j.nn.conf.layers.DenseLayer dense && dense.hasLayerNorm();
        return conf.getWeightNoise() == null && !layerNorm;
    }

    @Override
    public Step backward(Layer layer, INDArray epsilon, FastBatch batch) {
        INDArray a = layer.input();
        INDArray w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
        boolean hasBias = hasBias(layer);
        INDArray z = a.castTo(w.dataType()).mmul(w);
        if (hasBias) {
            z.addiRowVector(layer.getParam(DefaultParamInitializer.BIAS_KEY));
        }
        BaseLayer conf = (BaseLayer) layer.conf().getLayer();
        INDArray delta;
        if (epsilon == null) {
            INDArray mask = batch.labelMask() != null ? batch.labelMask() : layer.getMaskArray();
            delta = ((BaseOutputLayer) conf).getLossFn().computeGradient(batch.labels().castTo(z.dataType()), z,
                    conf.getActivationFn(), mask);
        } else {
            delta = conf.getActivationFn().backprop(z, epsilon).getFirst();
            applyMask(delta, layer.getMaskArray());
        }
        INDArray below = delta.mmul(w.transpose());
        return new Step(new DenseRows(a.castTo(w.dataType()), delta, batch.inputRows(), hasBias), below);
    }

    static boolean hasBias(Layer layer) {
        return layer.paramTable().containsKey(DefaultParamInitializer.BIAS_KEY);
    }

    /** DL4J's {@code applyMask}: a column mask scales rows, a full-shape mask multiplies element by element. */
    static void applyMask(INDArray delta, INDArray mask) {
        if (mask == null) {
            return;
        }
        INDArray m = mask.castTo(delta.dataType());
        if (m.equalShapes(delta)) {
            delta.muli(m);
        } else {
            delta.muliColumnVector(m.reshape(m.length(), 1));
        }
    }
}
