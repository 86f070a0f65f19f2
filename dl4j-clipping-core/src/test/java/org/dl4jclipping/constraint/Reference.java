package org.dl4jclipping.constraint;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Straightforward double-precision references for the weight constraints, written from the formulas in
 * {@code semantics.md} with plain loops over element indices (no ND4J reductions, no views).
 */
final class Reference {

    static final double EPS = 1e-6;

    private Reference() {
    }

    /** {@code min(max(w, -c), c)} element-wise, into a new double array of the same shape. */
    static INDArray valueClip(INDArray w, double c) {
        INDArray out = w.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).dup('c');
        for (long k = 0; k < out.length(); k++) {
            double x = out.getDouble(k);
            out.putScalar(k, Math.min(Math.max(x, -c), c));
        }
        return out;
    }

    /**
     * Max-norm per unit: units are columns for rank 2, slices along dimension 0 for rank 3+, the whole array for
     * rank 1 or {@code whole}; a unit with {@code n > c} is multiplied by {@code c / (n + eps)}.
     */
    static INDArray maxNorm(INDArray w, double c, boolean whole) {
        INDArray out = w.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).dup('c');
        long[] shape = out.shape();
        int units = unitCount(shape, whole);
        for (int u = 0; u < units; u++) {
            double ss = 0;
            for (long k = 0; k < out.length(); k++) {
                if (unitOf(k, shape, whole) == u) {
                    double x = out.getDouble(k);
                    ss += x * x;
                }
            }
            double n = Math.sqrt(ss);
            if (n > c) {
                double s = c / (n + EPS);
                for (long k = 0; k < out.length(); k++) {
                    if (unitOf(k, shape, whole) == u) {
                        out.putScalar(k, out.getDouble(k) * s);
                    }
                }
            }
        }
        return out;
    }

    /** The L2 norm of each unit, as {@link #maxNorm} defines units. */
    static double[] unitNorms(INDArray w, boolean whole) {
        INDArray d = w.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).dup('c');
        long[] shape = d.shape();
        double[] ss = new double[unitCount(shape, whole)];
        for (long k = 0; k < d.length(); k++) {
            double x = d.getDouble(k);
            ss[unitOf(k, shape, whole)] += x * x;
        }
        for (int i = 0; i < ss.length; i++) {
            ss[i] = Math.sqrt(ss[i]);
        }
        return ss;
    }

    static int unitCount(long[] shape, boolean whole) {
        if (whole || shape.length <= 1) {
            return 1;
        }
        return (int) (shape.length == 2 ? shape[1] : shape[0]);
    }

    /** The unit of linear ('c' order) index {@code k}. */
    static int unitOf(long k, long[] shape, boolean whole) {
        if (whole || shape.length <= 1) {
            return 0;
        }
        if (shape.length == 2) {
            return (int) (k % shape[1]);
        }
        long inner = 1;
        for (int d = 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        return (int) (k / inner);
    }
}
