package org.dl4jclipping.privacy;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's {@code EmbeddingLayer} (one token per input row, [R, 1]) and {@code EmbeddingSequenceLayer} (tokens
 * [B, T] or [B, 1, T], output [B, nOut, T] for NCW or [B, T, nOut] for NWC): {@code z_r = W[token_r] + b}, output
 * {@code f(z)} times the mask. The error at {@code z} is {@code f'(z) o epsilon} times the mask, row by row
 * ({@code i * T + t} for sequences); nothing flows below (tokens have no gradient).
 */
final class EmbeddingPath implements FastLayerPath {

    @Override
    public boolean handles(Layer layer) {
        Class<?> type = layer.getClass();
        return (type == org.deeplearning4j.nn.layers.feedforward.embedding.EmbeddingLayer.class
                || type == org.deeplearning4j.nn.layers.feedforward.embedding.EmbeddingSequenceLayer.class)
                && ((BaseLayer) layer.conf().getLayer()).getWeightNoise() == null;
    }

    @Override
    public Step backward(Layer layer, INDArray epsilon, FastBatch batch) {
        BaseLayer conf = (BaseLayer) layer.conf().getLayer();
        INDArray w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
        INDArray input = layer.input();
        int[] tokens = tokens(input);
        INDArray eps;
        INDArray mask = layer.getMaskArray();
        ExampleRows rows;
        if (conf instanceof EmbeddingSequenceLayer seq) {
            boolean nwc = seq.getOutputFormat() == RNNFormat.NWC;
            int t = tokens.length / batch.examples();
            eps = RnnOutputPath.rows(epsilon, nwc);
            rows = ExampleRows.blocks(batch.examples(), t);
        } else {
            eps = epsilon;
            rows = batch.inputRows();
        }
        INDArray z = Nd4j.pullRows(w, 1, tokens);
        boolean hasBias = DensePath.hasBias(layer);
        if (hasBias) {
            z.addiRowVector(layer.getParam(DefaultParamInitializer.BIAS_KEY));
        }
        INDArray delta = conf.getActivationFn().backprop(z, eps.castTo(w.dataType())).getFirst();
        if (mask != null) {
            delta.muliColumnVector(mask.castTo(delta.dataType()).dup('c').reshape(delta.size(0), 1));
        }
        return new Step(new EmbeddingRows(tokens, delta, rows, hasBias), null);
    }

    /** The token indices in C order (DL4J stores them as floating-point values). */
    private static int[] tokens(INDArray input) {
        double[] values = input.dup('c').reshape('c', new long[] {input.length()}).toDoubleVector();
        int[] out = new int[values.length];
        for (int r = 0; r < values.length; r++) {
            out[r] = (int) values[r];
        }
        return out;
    }
}
