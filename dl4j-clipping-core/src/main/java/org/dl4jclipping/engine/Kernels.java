package org.dl4jclipping.engine;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Condition;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * The in-place array kernels of the engine, each one pass over one view, each exact to float64 rounding.
 * {@link #norm2}, {@link #scale} and {@link #floatBelow} are public for the weight constraints of
 * {@code org.dl4jclipping.constraint}; the rest is internal.
 *
 * <p>Why these calls (measured, see {@code docs/performance.md}):
 * <ul>
 *   <li>L2 norms through BLAS {@code nrm2}: as fast as reading the data, accumulated in double precision by
 *       OpenBLAS (so finite float input never overflows and 1e-30 never underflows), about 1.4 us per call.
 *       ND4J's {@code norm2Number()} accumulates float data in float (0.2% error) and is 3x slower.</li>
 *   <li>Scaling through BLAS {@code scal}, in place.</li>
 *   <li>Views whose elements are not equally spaced ({@code elementWiseStride() <= 0}) are not BLAS vectors:
 *       they take a strided loop over the view's own buffer (no copy), with a scaled, overflow-safe sum.</li>
 *   <li>L1 and general-p norms take that same loop: BLAS {@code sasum} and ND4J reductions accumulate float
 *       data in float, which misses the 1e-6 relative accuracy this library promises.</li>
 *   <li>Comparisons against a threshold are made exact for float data by moving the threshold to the nearest
 *       float on the safe side ({@link #floatBelow}, {@link #floatAbove}).</li>
 * </ul>
 */
public final class Kernels {

    private Kernels() {
    }

    /** Euclidean norm of the view; 0 for an empty view; NaN or +Inf when an element is. */
    public static double norm2(INDArray a) {
        if (a.length() == 0) {
            return 0.0;
        }
        if (isBlasVector(a)) {
            double n = Nd4j.getBlasWrapper().level1().nrm2(a);
            // snrm2 returns a float: a norm above Float.MAX_VALUE (elements near 1e38) comes back infinite even
            // though every element is finite. The loop below answers in double, and tells Inf from overflow.
            if (!Double.isInfinite(n)) {
                return n;
            }
        }
        return loopNorm(a, 2.0);
    }

    /** The p-norm of the view for p >= 1 (p = +Inf for the max norm); NaN when an element is NaN. */
    static double norm(INDArray a, double p) {
        if (p == 2.0) {
            return norm2(a);
        }
        if (a.length() == 0) {
            return 0.0;
        }
        return loopNorm(a, p);
    }

    /** {@code a <- s * a} in place. */
    public static void scale(INDArray a, double s) {
        if (a.length() == 0) {
            return;
        }
        if (isBlasVector(a)) {
            Nd4j.getBlasWrapper().level1().scal(a.length(), s, a);
        } else {
            a.muli(s);
        }
    }

    /** Number of elements matching the condition (one native pass). */
    static long count(INDArray a, Condition c) {
        if (a.length() == 0) {
            return 0;
        }
        return Nd4j.getExecutioner().exec(new MatchCondition(a, c)).getLong(0);
    }

    /** Sets to {@code value} the elements matching the condition, in place. */
    static void replace(INDArray a, double value, Condition c) {
        BooleanIndexing.replaceWhere(a, value, c);
    }

    /** Number of NaN and +-Inf elements (two passes: libnd4j has no "not finite" condition in every op). */
    static long countNonFinite(INDArray a) {
        return count(a, Conditions.isNan()) + count(a, Conditions.isInfinite());
    }

    /** Replaces NaN and +-Inf elements by 0, in place. */
    static void zeroNonFinite(INDArray a) {
        replace(a, 0.0, Conditions.isNan());
        replace(a, 0.0, Conditions.isInfinite());
    }

    /**
     * The largest value of the array's type that is {@code <= t}: for float data {@code x > floatBelow(t)} in
     * float arithmetic is exactly {@code x > t} in real arithmetic.
     */
    public static double floatBelow(double t, DataType type) {
        if (type != DataType.FLOAT) {
            return t;
        }
        float f = (float) t;
        return f > t ? Math.nextDown(f) : f;
    }

    /** The smallest value of the array's type that is {@code >= t}. */
    static double floatAbove(double t, DataType type) {
        if (type != DataType.FLOAT) {
            return t;
        }
        float f = (float) t;
        return f < t ? Math.nextUp(f) : f;
    }

    private static boolean isBlasVector(INDArray a) {
        return a.elementWiseStride() >= 1
                && (a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE);
    }

    /**
     * The p-norm by a strided walk over the view's buffer (no copy), accumulating in double with a running
     * scale as LAPACK's {@code nrm2} does and Neumaier-compensated sums (exact to float64 rounding for any length): {@code norm = scale * ssq^(1/p)} with every term {@code <= 1}, so that
     * neither 1e300 nor 1e-300 loses the result. p = 1 needs no scaling; p = +Inf is the max of |x|.
     */
    private static double loopNorm(INDArray a, double p) {
        DataBuffer buf = a.data();
        long[] shape = a.shape();
        long[] stride = a.stride();
        int rank = shape.length;
        long[] idx = new long[rank];
        long offset = 0;
        long n = a.length();
        double scale = 0.0;
        double ssq = 1.0;
        double sum = 0.0;
        double carry = 0.0; // Neumaier compensation of sum (p = 1) or ssq (other p)
        boolean nan = false;
        boolean inf = false;
        for (long k = 0; k < n; k++) {
            double x = Math.abs(buf.getDouble(offset));
            if (Double.isNaN(x)) {
                nan = true;
            } else if (Double.isInfinite(x)) {
                inf = true;
            } else if (p == 1.0) {
                double t = sum + x;
                carry += Math.abs(sum) >= x ? (sum - t) + x : (x - t) + sum;
                sum = t;
            } else if (p == Double.POSITIVE_INFINITY) {
                scale = Math.max(scale, x);
            } else if (x > 0) {
                if (x > scale) {
                    double r = Math.pow(scale / x, p);
                    ssq = ssq * r + 1.0;
                    carry *= r;
                    scale = x;
                } else {
                    double term = Math.pow(x / scale, p);
                    double t = ssq + term;
                    carry += ssq >= term ? (ssq - t) + term : (term - t) + ssq;
                    ssq = t;
                }
            }
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    offset += stride[d];
                    break;
                }
                offset -= stride[d] * (shape[d] - 1);
                idx[d] = 0;
            }
        }
        if (nan || inf) {
            return nan ? Double.NaN : Double.POSITIVE_INFINITY;
        }
        if (p == 1.0) {
            return sum + carry;
        }
        if (p == Double.POSITIVE_INFINITY || scale == 0.0) {
            return scale;
        }
        ssq += carry;
        return p == 2.0 ? scale * Math.sqrt(ssq) : scale * Math.pow(ssq, 1.0 / p);
    }
}
