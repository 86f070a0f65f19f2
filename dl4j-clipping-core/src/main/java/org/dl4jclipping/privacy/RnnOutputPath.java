package org.dl4jclipping.privacy;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's {@code RnnOutputLayer}: the same affine map at every time step. The input [B, nIn, T] (NCW, or [B, T, nIn]
 * for NWC), the labels and the mask become rows {@code i * T + t}; the errors are the loss function's per-row
 * gradient with the label mask (or, without one, the mask the layer received from the features), so masked steps
 * contribute nothing; example {@code i}'s gradient sums its {@code T} rows ({@link DenseRows}).
 */
final class RnnOutputPath implements FastLayerPath {

    @Override
    public boolean handles(Layer layer) {
        return layer.getClass() == org.deeplearning4j.nn.layers.recurrent.RnnOutputLayer.class
                && ((RnnOutputLayer) layer.conf().getLayer()).getWeightNoise() == null;
    }

    @Override
    public Step backward(Layer layer, INDArray epsilon, FastBatch batch) {
        RnnOutputLayer conf = (RnnOutputLayer) layer.conf().getLayer();
        boolean nwc = conf.getRnnDataFormat() == RNNFormat.NWC;
        INDArray w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
        INDArray input = layer.input().castTo(w.dataType());
        int b = batch.examples();
        long t = input.size(nwc ? 1 : 2);
        INDArray a = rows(input, nwc);
        INDArray z = a.mmul(w);
        boolean hasBias = DensePath.hasBias(layer);
        if (hasBias) {
            z.addiRowVector(layer.getParam(DefaultParamInitializer.BIAS_KEY));
        }
        INDArray mask = batch.labelMask() != null ? batch.labelMask() : layer.getMaskArray();
        INDArray maskRows = mask == null ? null
                : mask.rank() == 3 ? rows(mask.castTo(w.dataType()), nwc)
                : mask.castTo(w.dataType()).dup('c').reshape('c', new long[] {b * t, 1});
        INDArray delta = conf.getLossFn().computeGradient(rows(batch.labels().castTo(w.dataType()), nwc), z,
                conf.getActivationFn(), maskRows);
        INDArray below = delta.mmul(w.transpose()).reshape('c', new long[] {b, t, input.size(nwc ? 2 : 1)});
        return new Step(new DenseRows(a, delta, ExampleRows.blocks(b, (int) t), hasBias),
                nwc ? below : below.permute(0, 2, 1));
    }

    /** [B, C, T] (NCW) or [B, T, C] (NWC) to rows [B * T, C], row {@code i * T + t}. */
    static INDArray rows(INDArray x, boolean nwc) {
        INDArray btc = nwc ? x : x.permute(0, 2, 1);
        return btc.dup('c').reshape('c', new long[] {btc.size(0) * btc.size(1), btc.size(2)});
    }
}
