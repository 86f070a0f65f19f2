package org.dl4jclipping.privacy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-example gradients of an embedding lookup {@code z_r = W[token_r] + b} (DL4J's {@code EmbeddingLayer} and
 * {@code EmbeddingSequenceLayer}) from the tokens and the errors {@code delta_r = dLoss/dz_r} of each row (one row
 * per example, or one per time step): example {@code i}'s weight gradient is the scatter-add of its rows' errors into
 * the rows of the tokens it used, {@code grad W_i[v] = sum over its rows r with token_r = v of delta_r}, and
 * {@code grad b_i = sum over its rows of delta_r}. Its squared norm adds up, token by token, the squared norm of
 * each token's accumulated error (a token used twice counts once, with the sum of both errors).
 *
 * <p>Accumulated in double (Java loops over the rows: {@code O(rows * nOut)}), written in the network's type.
 */
final class EmbeddingRows implements LayerPerExample {

    private final int[] tokens;
    private final double[][] delta;
    private final ExampleRows rows;
    private final boolean hasBias;

    /**
     * @param tokens the token of each row, original row order
     * @param delta  [R, nOut] errors at the lookup's output, same order
     */
    EmbeddingRows(int[] tokens, INDArray delta, ExampleRows rows, boolean hasBias) {
        double[][] d = delta.toDoubleMatrix();
        this.tokens = new int[tokens.length];
        this.delta = new double[d.length][];
        int[] order = rows.order();
        for (int p = 0; p < order.length; p++) {
            this.tokens[p] = tokens[order[p]];
            this.delta[p] = d[order[p]];
        }
        this.rows = rows;
        this.hasBias = hasBias;
    }

    @Override
    public double[] squaredNorms() {
        double[] out = new double[rows.examples()];
        for (int i = 0; i < out.length; i++) {
            double sum = 0;
            for (double[] row : byToken(i).values()) {
                sum += squared(row);
            }
            if (hasBias) {
                sum += squared(biasOf(i));
            }
            out[i] = sum;
        }
        return out;
    }

    @Override
    public void writeClippedSum(double[] factors, LayerViews views) {
        INDArray w = views.byKey().get(DefaultParamInitializer.WEIGHT_KEY);
        double[][] sum = new double[(int) w.size(0)][(int) w.size(1)];
        double[] bias = new double[(int) w.size(1)];
        for (int i = 0; i < rows.examples(); i++) {
            for (int p = rows.start(i); p < rows.end(i); p++) {
                addScaled(sum[tokens[p]], delta[p], factors[i]);
                addScaled(bias, delta[p], factors[i]);
            }
        }
        write(sum, bias, views);
    }

    @Override
    public void writeExample(int i, LayerViews views) {
        INDArray w = views.byKey().get(DefaultParamInitializer.WEIGHT_KEY);
        double[][] sum = new double[(int) w.size(0)][(int) w.size(1)];
        for (Map.Entry<Integer, double[]> e : byToken(i).entrySet()) {
            sum[e.getKey()] = e.getValue();
        }
        write(sum, biasOf(i), views);
    }

    private void write(double[][] weights, double[] bias, LayerViews views) {
        INDArray w = views.byKey().get(DefaultParamInitializer.WEIGHT_KEY);
        w.assign(Nd4j.createFromArray(weights).castTo(w.dataType()));
        if (hasBias) {
            INDArray b = views.byKey().get(DefaultParamInitializer.BIAS_KEY);
            b.assign(Nd4j.createFromArray(bias).castTo(b.dataType()).reshape(b.shape()));
        }
    }

    /** Example {@code i}'s weight gradient, by token (only the rows it used). */
    private Map<Integer, double[]> byToken(int i) {
        Map<Integer, double[]> acc = new LinkedHashMap<>();
        for (int p = rows.start(i); p < rows.end(i); p++) {
            double[] row = acc.computeIfAbsent(tokens[p], k -> new double[delta[0].length]);
            addScaled(row, delta[p], 1);
        }
        return acc;
    }

    private double[] biasOf(int i) {
        double[] bias = new double[delta.length == 0 ? 0 : delta[0].length];
        for (int p = rows.start(i); p < rows.end(i); p++) {
            addScaled(bias, delta[p], 1);
        }
        return bias;
    }

    private static void addScaled(double[] into, double[] x, double scale) {
        for (int k = 0; k < x.length; k++) {
            into[k] += scale * x[k];
        }
    }

    private static double squared(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v * v;
        }
        return s;
    }
}
