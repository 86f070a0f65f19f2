package org.dl4jclipping.keras;

import java.util.function.DoubleUnaryOperator;

/**
 * Keras's forward equations in plain double-precision Java, written from Keras's source (keras/layers/recurrent.py
 * of Keras 2.0 and 2.x, keras/src/layers/rnn/gru.py of Keras 3) and independent of the import code: the
 * reference every imported network is compared with.
 *
 * <p>GRU, with gate blocks z, r, h along the columns of kernel W [nIn, 3u] and recurrent kernel U [u, 3u]:
 * <pre>
 *   reset_after = true, bias [2, 3u] (rows b_i, b_r):
 *     z  = σ(x W_z + b_iz + h U_z + b_rz)
 *     r  = σ(x W_r + b_ir + h U_r + b_rr)
 *     hh = g(x W_h + b_ih + r ⊙ (h U_h + b_rh))
 *   reset_after = false, bias [3u]:
 *     z  = σ(x W_z + b_z + h U_z),  r = σ(x W_r + b_r + h U_r),  hh = g(x W_h + b_h + (r ⊙ h) U_h)
 *   h' = z ⊙ h + (1 − z) ⊙ hh
 * </pre>
 * from h = 0; a masked step keeps h and repeats the previous output (Keras's backend.rnn with
 * zero_output_for_mask=False; zeros before the first valid step); go_backwards runs over the reversed sequence
 * and returns outputs in processing order.
 */
final class KerasReference {

    private KerasReference() {
    }

    /** Keras activations by name; hard_sigmoid by the Keras major version. */
    static DoubleUnaryOperator activation(String name, int kerasMajor) {
        switch (name) {
            case "tanh":
                return Math::tanh;
            case "sigmoid":
                return x -> 1.0 / (1.0 + Math.exp(-x));
            case "relu":
                return x -> Math.max(0.0, x);
            case "linear":
                return x -> x;
            case "hard_sigmoid":
                return kerasMajor >= 3 ? x -> Math.min(1.0, Math.max(0.0, x / 6.0 + 0.5))
                        : x -> Math.min(1.0, Math.max(0.0, 0.2 * x + 0.5));
            default:
                throw new IllegalArgumentException("no reference for activation " + name);
        }
    }

    /**
     * A GRU over one sequence.
     *
     * @param x     [T][nIn]
     * @param mask  [T] (true = valid), or null
     * @return [T][u] when returnSequences, else [1][u]
     */
    static double[][] gru(double[][] x, boolean[] mask, double[][] kernel, double[][] recurrent, double[][] bias,
                          boolean resetAfter, DoubleUnaryOperator act, DoubleUnaryOperator recAct,
                          boolean returnSequences, boolean goBackwards) {
        int steps = x.length;
        int u = recurrent.length;
        double[] h = new double[u];
        double[] prevOut = new double[u];
        double[][] outs = new double[steps][];
        for (int s = 0; s < steps; s++) {
            int t = goBackwards ? steps - 1 - s : s;
            if (mask != null && !mask[t]) {
                outs[s] = prevOut.clone();
                continue;
            }
            double[] z = new double[u];
            double[] r = new double[u];
            for (int j = 0; j < u; j++) {
                double pz = bias[0][j] + (resetAfter ? bias[1][j] : 0.0);
                double pr = bias[0][u + j] + (resetAfter ? bias[1][u + j] : 0.0);
                for (int i = 0; i < x[t].length; i++) {
                    pz += x[t][i] * kernel[i][j];
                    pr += x[t][i] * kernel[i][u + j];
                }
                for (int k = 0; k < u; k++) {
                    pz += h[k] * recurrent[k][j];
                    pr += h[k] * recurrent[k][u + j];
                }
                z[j] = recAct.applyAsDouble(pz);
                r[j] = recAct.applyAsDouble(pr);
            }
            double[] next = new double[u];
            for (int j = 0; j < u; j++) {
                double xh = bias[0][2 * u + j];
                for (int i = 0; i < x[t].length; i++) {
                    xh += x[t][i] * kernel[i][2 * u + j];
                }
                double cand;
                if (resetAfter) {
                    double hh = bias[1][2 * u + j];
                    for (int k = 0; k < u; k++) {
                        hh += h[k] * recurrent[k][2 * u + j];
                    }
                    cand = xh + r[j] * hh;
                } else {
                    cand = xh;
                    for (int k = 0; k < u; k++) {
                        cand += r[k] * h[k] * recurrent[k][2 * u + j];
                    }
                }
                next[j] = z[j] * h[j] + (1.0 - z[j]) * act.applyAsDouble(cand);
            }
            h = next;
            prevOut = next.clone();
            outs[s] = next.clone();
        }
        return returnSequences ? outs : new double[][] {prevOut};
    }

    /** Dense on each row: act(x W + b). */
    static double[][] dense(double[][] x, double[][] w, double[] b, DoubleUnaryOperator act) {
        double[][] out = new double[x.length][b.length];
        for (int t = 0; t < x.length; t++) {
            for (int j = 0; j < b.length; j++) {
                double v = b[j];
                for (int i = 0; i < w.length; i++) {
                    v += x[t][i] * w[i][j];
                }
                out[t][j] = act.applyAsDouble(v);
            }
        }
        return out;
    }

    /** Softmax of each row. */
    static double[][] softmax(double[][] x) {
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : x[t]) {
                max = Math.max(max, v);
            }
            double sum = 0;
            out[t] = new double[x[t].length];
            for (int j = 0; j < x[t].length; j++) {
                out[t][j] = Math.exp(x[t][j] - max);
                sum += out[t][j];
            }
            for (int j = 0; j < x[t].length; j++) {
                out[t][j] /= sum;
            }
        }
        return out;
    }

    /** GlobalAveragePooling1D over time: [T][n] to [1][n]. */
    static double[][] averageOverTime(double[][] x) {
        double[] out = new double[x[0].length];
        for (double[] row : x) {
            for (int j = 0; j < row.length; j++) {
                out[j] += row[j] / x.length;
            }
        }
        return new double[][] {out};
    }
}
