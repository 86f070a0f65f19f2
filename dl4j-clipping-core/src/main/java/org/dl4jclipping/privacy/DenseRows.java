package org.dl4jclipping.privacy;

import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Per-example gradients of an affine layer {@code z = a W + b} (DL4J's {@code DenseLayer}, {@code OutputLayer},
 * {@code RnnOutputLayer}) from its input rows {@code a} and its output errors {@code delta = dLoss/dz}, the rows of
 * each example in one block ({@link ExampleRows}): for example {@code i} with rows {@code A_i [T_i, nIn]} and
 * {@code D_i [T_i, nOut]},
 * <pre>
 *   grad W_i = A_i^T D_i,   grad b_i = sum over its rows of D_i.
 * </pre>
 * Squared norms without forming {@code grad W_i} when cheaper (the "ghost norm", Li et al. 2021, Bu et al. 2022):
 * {@code ||A_i^T D_i||_F^2 = sum((A_i A_i^T) o (D_i D_i^T))}, used when {@code 2 T_i^2 <= nIn * nOut}; for one row
 * it is {@code ||a_i||^2 ||d_i||^2}. Otherwise {@code grad W_i} is formed and its norm taken. The clipped sum is one
 * product {@code A^T (f o D)}, each row of {@code D} scaled by its example's factor.
 *
 * <p>Arithmetic in the network's data type (ND4J matrix products); norms are returned in double.
 */
final class DenseRows implements LayerPerExample {

    private final INDArray a;
    private final INDArray delta;
    private final ExampleRows rows;
    private final boolean hasBias;

    /**
     * @param a     the layer's input rows, [R, nIn], in the original row order of {@code rows}
     * @param delta the errors at the layer's pre-activation, [R, nOut], same order
     */
    DenseRows(INDArray a, INDArray delta, ExampleRows rows, boolean hasBias) {
        this.a = sorted(a, rows);
        this.delta = sorted(delta, rows);
        this.rows = rows;
        this.hasBias = hasBias;
    }

    private static INDArray sorted(INDArray x, ExampleRows rows) {
        return rows.sorted() ? x : Nd4j.pullRows(x, 1, rows.order());
    }

    /** Whether the ghost norm is the cheaper way for an example with {@code t} rows (privacy.md's rule). */
    static boolean ghostCheaper(long t, long nIn, long nOut) {
        return 2 * t * t <= nIn * nOut;
    }

    @Override
    public double[] squaredNorms() {
        int b = rows.examples();
        double[] out = new double[b];
        if (rows.rows() == b) {
            double[] aa = a.mul(a).sum(1).toDoubleVector();
            double[] dd = delta.mul(delta).sum(1).toDoubleVector();
            for (int i = 0; i < b; i++) {
                out[i] = aa[i] * dd[i] + (hasBias ? dd[i] : 0);
            }
            return out;
        }
        long nIn = a.size(1);
        long nOut = delta.size(1);
        int r = rows.rows() / b;
        if ((long) r * b == rows.rows() && rows.maxRows() == r) {
            return uniformSquaredNorms(r, nIn, nOut);
        }
        for (int i = 0; i < b; i++) {
            int s = rows.start(i);
            int e = rows.end(i);
            if (e == s) {
                continue;
            }
            INDArray ai = a.get(NDArrayIndex.interval(s, e), NDArrayIndex.all());
            INDArray di = delta.get(NDArrayIndex.interval(s, e), NDArrayIndex.all());
            double w;
            if (ghostCheaper(e - s, nIn, nOut)) {
                w = ai.mmul(ai.transpose()).muli(di.mmul(di.transpose())).sumNumber().doubleValue();
            } else {
                double n = ai.transpose().mmul(di).norm2Number().doubleValue();
                w = n * n;
            }
            double bias = 0;
            if (hasBias) {
                double n = di.sum(0).norm2Number().doubleValue();
                bias = n * n;
            }
            out[i] = w + bias;
        }
        return out;
    }

    /**
     * Every example has {@code r} rows (a time series, masked steps included as zero errors): the same norms as the
     * loop over examples, in a few batched ND4J ops ({@code [B, r, nIn]} and {@code [B, r, nOut]} views) instead
     * of several per example.
     */
    private double[] uniformSquaredNorms(int r, long nIn, long nOut) {
        int b = rows.examples();
        INDArray a3 = a.dup('c').reshape('c', b, r, nIn);
        INDArray d3 = delta.dup('c').reshape('c', b, r, nOut);
        INDArray w;
        if (ghostCheaper(r, nIn, nOut)) {
            w = Nd4j.matmul(a3, a3, false, true, false).muli(Nd4j.matmul(d3, d3, false, true, false)).sum(1, 2);
        } else {
            INDArray g = Nd4j.matmul(a3, d3, true, false, false);
            w = g.muli(g).sum(1, 2);
        }
        double[] out = w.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleVector();
        if (hasBias) {
            INDArray s = d3.sum(1);
            double[] bias = s.muli(s).sum(1).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleVector();
            for (int i = 0; i < b; i++) {
                out[i] += bias[i];
            }
        }
        return out;
    }

    @Override
    public void writeClippedSum(double[] factors, LayerViews views) {
        INDArray f = Nd4j.createFromArray(rows.perRow(factors)).castTo(delta.dataType()).reshape(rows.rows(), 1);
        write(a, delta.mulColumnVector(f), views);
    }

    @Override
    public void writeExample(int i, LayerViews views) {
        int s = rows.start(i);
        int e = rows.end(i);
        if (e == s) {
            views.flat().assign(0);
            return;
        }
        write(a.get(NDArrayIndex.interval(s, e), NDArrayIndex.all()),
                delta.get(NDArrayIndex.interval(s, e), NDArrayIndex.all()), views);
    }

    private void write(INDArray in, INDArray err, LayerViews views) {
        views.byKey().get(DefaultParamInitializer.WEIGHT_KEY).assign(in.transpose().mmul(err));
        if (hasBias) {
            views.byKey().get(DefaultParamInitializer.BIAS_KEY).assign(err.sum(0).reshape(1, err.size(1)));
        }
    }
}
