package org.dl4jclipping.privacy;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The gradient one DP-SGD step hands to the updater (Abadi et al. 2016, Opacus's {@code DPOptimizer}):
 * <pre>
 *   flat clipping:       f_i = min(1, C / (n_i + 1e-6)),            n_i = ||g_i|| over all parameters
 *   per-layer clipping:  f_ki = min(1, C_k / (n_ki + 1e-6)),        n_ki = ||g_ki|| over layer k's parameters
 *   g = (sum_i f_i g_i + N(0, (sigma C)^2 I)) / (q N),               C = ||(C_k)||_2 for per-layer clipping
 * </pre>
 * with one independent standard normal per parameter, drawn in the order of the network's flattened parameters,
 * and {@code q N} the <b>expected</b> batch size (dividing by the actual size would reveal it). An empty batch gives
 * noise only. Arithmetic in the network's data type; the noise is drawn in double and scaled there.
 */
final class NoisyClippedSum {

    /** Opacus's guard in the clipping factor, {@code C / (n + 1e-6)}. */
    static final double NORM_GUARD = 1e-6;

    /**
     * @param norms           each example's norm over all parameters, before clipping
     * @param fractionClipped the fraction of examples with a factor below 1 (on any layer)
     * @param noiseStd        {@code sigma * C}
     * @param minFactor       the smallest clipping factor of any example and layer (1 when nothing was clipped or
     *                        the batch was empty)
     * @param layerClipped    per layer, the L2 norm of the clipped average {@code sum_i f_i g_i / (q N)} (no noise)
     * @param layerNoisy      per layer, the L2 norm of the gradient handed to the updater (with the noise)
     */
    record Stats(double[] norms, double fractionClipped, double noiseStd, double minFactor, double[] layerClipped,
                 double[] layerNoisy) {
    }

    private NoisyClippedSum() {
    }

    /**
     * Writes the noisy, clipped, averaged gradient into {@code flat} (laid out as the network's parameters).
     *
     * @param thresholds one threshold (flat clipping) or one per layer with parameters (per-layer clipping)
     */
    static Stats write(PerExampleGradients pe, double[] thresholds, double sigma, double expectedBatchSize,
                       NoiseSource noise, INDArray flat) {
        double[][] squared = pe.squaredLayerNorms();
        int layers = squared.length;
        int b = pe.batchSize();
        double[][] factors = new double[layers][b];
        double[] norms = new double[b];
        for (double[] row : squared) {
            for (int i = 0; i < b; i++) {
                norms[i] += row[i];
            }
        }
        int clipped = 0;
        double minFactor = 1;
        for (int i = 0; i < b; i++) {
            norms[i] = Math.sqrt(norms[i]);
            boolean any = false;
            for (int s = 0; s < layers; s++) {
                double n = thresholds.length == 1 ? norms[i] : Math.sqrt(squared[s][i]);
                double c = thresholds.length == 1 ? thresholds[0] : thresholds[s];
                factors[s][i] = Math.min(1, c / (n + NORM_GUARD));
                any |= factors[s][i] < 1;
                minFactor = Math.min(minFactor, factors[s][i]);
            }
            clipped += any ? 1 : 0;
        }
        pe.writeClippedSum(factors, flat);
        double[] layerClipped = pe.layerNormsOf(flat);
        for (int k = 0; k < layerClipped.length; k++) {
            layerClipped[k] /= expectedBatchSize;
        }
        double std = sigma * l2(thresholds);
        double[] z = noise.gaussians(flat.length());
        for (int k = 0; k < z.length; k++) {
            z[k] *= std;
        }
        flat.addi(Nd4j.createFromArray(z).castTo(flat.dataType()).reshape(flat.shape()));
        flat.divi(expectedBatchSize);
        return new Stats(norms, b == 0 ? 0 : (double) clipped / b, std, minFactor, layerClipped,
                pe.layerNormsOf(flat));
    }

    static double l2(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v * v;
        }
        return Math.sqrt(s);
    }
}
