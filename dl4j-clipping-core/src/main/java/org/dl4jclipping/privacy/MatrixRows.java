package org.dl4jclipping.privacy;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-example gradients held as a matrix {@code G [B, n]}, row {@code i} example {@code i}'s gradient of one layer's
 * {@code n} parameters in the layer's flattened order (the generic path's form).
 */
final class MatrixRows implements LayerPerExample {

    private final INDArray g;

    MatrixRows(INDArray g) {
        this.g = g;
    }

    @Override
    public double[] squaredNorms() {
        return g.mul(g).sum(1).toDoubleVector();
    }

    @Override
    public void writeClippedSum(double[] factors, LayerViews views) {
        INDArray f = Nd4j.createFromArray(factors).castTo(g.dataType()).reshape(1, factors.length);
        views.flat().assign(f.mmul(g));
    }

    @Override
    public void writeExample(int i, LayerViews views) {
        views.flat().assign(g.getRow(i, true));
    }
}
