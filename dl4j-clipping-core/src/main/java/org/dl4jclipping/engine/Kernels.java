package org.dl4jclipping.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMax;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMin;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Condition;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * The in-place array kernels of the engine, each one pass over one view, each exact to float64 rounding.
 * {@link #norm2}, {@link #scale} and {@link #floatBelow} are public for the weight constraints of
 * {@code org.dl4jclipping.constraint}; the rest is internal.
 *
 * <p>Why these calls (measured, see {@code docs/benchmarks.md}):
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
 *   <li>Every Java loop over array memory goes through {@link HostMemory}: correct under the CUDA backend by
 *       construction (host copy synchronised before a read, marked newest after a write), free on the CPU
 *       backend.</li>
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

    /**
     * Number of elements matching the condition: one pass. Comparisons ({@code >}, {@code <}, {@code |x| >}),
     * NaN and infinity tests on equally spaced float or double views take a Java loop over the view's memory;
     * anything else takes libnd4j's {@code MatchCondition}.
     */
    static long count(INDArray a, Condition c) {
        if (a.length() == 0) {
            return 0;
        }
        long n = loopCount(a, c);
        return n >= 0 ? n : Nd4j.getExecutioner().exec(new MatchCondition(a, c)).getLong(0);
    }

    /**
     * Sets to {@code value} the elements matching the condition, in place: one pass, writing only the matching
     * elements (same loop and fallback as {@link #count}).
     */
    static void replace(INDArray a, double value, Condition c) {
        if (a.length() == 0) {
            return;
        }
        if (!loopReplace(a, value, c)) {
            BooleanIndexing.replaceWhere(a, value, c);
        }
    }

    /** Elements per chunk of the one-pass loops: 16 KB of floats, in L1 while counted and clamped. */
    private static final int CHUNK = 4096;
    private static final ThreadLocal<float[]> FLOAT_CHUNK = ThreadLocal.withInitial(() -> new float[CHUNK]);
    private static final ThreadLocal<double[]> DOUBLE_CHUNK = ThreadLocal.withInitial(() -> new double[CHUNK]);

    /**
     * {@code x <- min(max(x, lo), hi)} in place and the number of elements moved, in one pass: the view's memory is
     * copied chunk by chunk into a reused array, counted and clamped there with loops the JIT vectorises, and
     * written back where a chunk changed. {@code loT}/{@code hiT} are the thresholds of the count (values of the
     * array's type, {@link #floatAbove}/{@link #floatBelow}), {@code lo}/{@code hi} the bounds written. NaN stays
     * NaN (it compares false and {@code Math.min}/{@code max} keep it).
     *
     * @return the count, or -1 when the view is not contiguous float or double memory (nothing done)
     */
    static long clampCounting(INDArray a, double loT, double hiT, double lo, double hi, boolean finite) {
        return onePass(a, loT, hiT, lo, hi, false, finite);
    }

    /**
     * {@code x <- 0} where {@code |x| > t} in place and the number zeroed, in one pass as {@link #clampCounting}
     * ({@code t} a value of the array's type, {@link #floatBelow}). NaN stays NaN, +-Inf become 0.
     *
     * @return the count, or -1 when the view is not contiguous float or double memory (nothing done)
     */
    static long zeroAboveCounting(INDArray a, double t, boolean finite) {
        return onePass(a, -t, t, 0, 0, true, finite);
    }

    private static final ThreadLocal<int[]> INT_CHUNK = ThreadLocal.withInitial(() -> new int[CHUNK]);

    /**
     * One pass over a float view known to hold no NaN or Inf, with symmetric thresholds ({@code |x| > t}): each
     * chunk is read as ints and counted with integer operations only ({@code t - (bits & 0x7fffffff) < 0} exactly
     * when {@code |x| > t} for non-negative {@code t}), in small loops the JIT turns into vector instructions (it
     * does not for float comparisons); a chunk with elements to change is clamped with {@code Math.min/max}
     * (vectorised too) or zeroed with an integer mask, and written back. Measured: about 2x the
     * compare-and-count loop it replaces (see docs/benchmarks.md).
     */
    private static long finiteSymmetricFloatPass(INDArray a, float t, float h, boolean zero) {
        ByteBuffer bytes = a.data().asNio().order(ByteOrder.nativeOrder());
        IntBuffer ib = bytes.asIntBuffer();
        FloatBuffer f = bytes.asFloatBuffer();
        int[] bits = INT_CHUNK.get();
        float[] c = FLOAT_CHUNK.get();
        int tb = Float.floatToRawIntBits(t);
        int start = (int) a.offset();
        int n = (int) a.length();
        long count = 0;
        for (int from = 0; from < n; from += CHUNK) {
            int m = Math.min(CHUNK, n - from);
            ib.get(start + from, bits, 0, m);
            int k = countAbsAbove(bits, m, tb);
            if (k > 0) {
                if (zero) {
                    zeroAbsAbove(bits, m, tb);
                    ib.put(start + from, bits, 0, m);
                } else {
                    f.get(start + from, c, 0, m);
                    clamp(c, m, -h, h);
                    f.put(start + from, c, 0, m);
                }
                count += k;
            }
        }
        return count;
    }

    /** The number of {@code |x| > t} among {@code m} float bit patterns (no NaN), {@code tb} the bits of t >= 0. */
    private static int countAbsAbove(int[] bits, int m, int tb) {
        int k = 0;
        for (int j = 0; j < m; j++) {
            k += (tb - (bits[j] & 0x7fffffff)) >>> 31;
        }
        return k;
    }

    /** Sets to +0 the float bit patterns with {@code |x| > t}. */
    private static void zeroAbsAbove(int[] bits, int m, int tb) {
        for (int j = 0; j < m; j++) {
            bits[j] &= ~((tb - (bits[j] & 0x7fffffff)) >> 31);
        }
    }

    private static void clamp(float[] c, int m, float l, float h) {
        for (int j = 0; j < m; j++) {
            c[j] = Math.min(Math.max(c[j], l), h);
        }
    }

    private static long onePass(INDArray a, double loT, double hiT, double lo, double hi, boolean zero,
                                boolean finite) {
        if (a.length() == 0) {
            return 0;
        }
        if (a.elementWiseStride() != 1 || !hostLoopable(a)) {
            return -1;
        }
        int start = (int) a.offset();
        int n = (int) a.length();
        long count = 0;
        if (a.dataType() == DataType.FLOAT && finite && hiT >= 0 && (float) loT == -(float) hiT
                && (zero || (float) lo == -(float) hi)) {
            count = finiteSymmetricFloatPass(a, (float) hiT, (float) hi, zero);
        } else if (a.dataType() == DataType.FLOAT) {
            FloatBuffer f = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
            float[] c = FLOAT_CHUNK.get();
            float lt = (float) loT;
            float ht = (float) hiT;
            float l = (float) lo;
            float h = (float) hi;
            for (int from = 0; from < n; from += CHUNK) {
                int m = Math.min(CHUNK, n - from);
                f.get(start + from, c, 0, m);
                int k = 0;
                for (int j = 0; j < m; j++) {
                    float x = c[j];
                    k += (x > ht ? 1 : 0) + (x < lt ? 1 : 0);
                }
                if (k > 0) {
                    if (zero) {
                        for (int j = 0; j < m; j++) {
                            float x = c[j];
                            c[j] = x > ht || x < lt ? 0f : x;
                        }
                    } else {
                        for (int j = 0; j < m; j++) {
                            c[j] = Math.min(Math.max(c[j], l), h);
                        }
                    }
                    f.put(start + from, c, 0, m);
                    count += k;
                }
            }
        } else {
            DoubleBuffer d = a.data().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
            double[] c = DOUBLE_CHUNK.get();
            for (int from = 0; from < n; from += CHUNK) {
                int m = Math.min(CHUNK, n - from);
                d.get(start + from, c, 0, m);
                int k = 0;
                for (int j = 0; j < m; j++) {
                    double x = c[j];
                    k += (x > hiT ? 1 : 0) + (x < loT ? 1 : 0);
                }
                if (k > 0) {
                    if (zero) {
                        for (int j = 0; j < m; j++) {
                            double x = c[j];
                            c[j] = x > hiT || x < loT ? 0.0 : x;
                        }
                    } else {
                        for (int j = 0; j < m; j++) {
                            c[j] = Math.min(Math.max(c[j], lo), hi);
                        }
                    }
                    d.put(start + from, c, 0, m);
                    count += k;
                }
            }
        }
        if (count > 0) {
            HostMemory.afterWrite(a);
        }
        return count;
    }

    /**
     * {@code x <- min(x, hi)} in place, one native pass (libnd4j's scalar min); only for views without NaN, which
     * it would turn into {@code hi}.
     */
    static void clampAbove(INDArray a, double hi) {
        if (a.length() > 0) {
            Nd4j.getExecutioner().exec(new ScalarMin(a, null, a, hi));
        }
    }

    /** {@code x <- max(x, lo)} in place, one native pass; only for views without NaN. */
    static void clampBelow(INDArray a, double lo) {
        if (a.length() > 0) {
            Nd4j.getExecutioner().exec(new ScalarMax(a, null, a, lo));
        }
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

    // ---- Element loops for count and replace ---------------------------------------------------------------
    //
    // Why not libnd4j: MatchCondition (a "reduce long" op) measured 5-6x slower than a plain Java loop over the
    // same memory, and replaceWhere (CompareAndSet) about 1.7x, on 1e7 floats on a loaded 2-core machine (both go
    // through OpenMP, which collapses under CPU contention; see docs/benchmarks.md). The loop reads the view's
    // memory in place through a direct NIO buffer (no copy, nothing on the heap but the buffer wrapper).
    // Comparisons are made in double precision: exact for every float and double element and every threshold,
    // and NaN matches no comparison, as in libnd4j.

    private static final int GT = 0;
    private static final int LT = 1;
    private static final int ABS_GT = 2;
    private static final int NAN = 3;
    private static final int INF = 4;

    /** The loop's code for a condition, or -1 when the loop does not handle it. */
    private static int loopMode(INDArray a, Condition c) {
        if (a.elementWiseStride() < 1 || !hostLoopable(a)) {
            return -1;
        }
        Conditions.ConditionMode mode = c.conditionType();
        if (mode == null) {
            return -1;
        }
        switch (mode) {
            case GREATER_THAN:
                return GT;
            case LESS_THAN:
                return LT;
            case ABS_GREATER_THAN:
                return ABS_GT;
            case IS_NAN:
                return NAN;
            case IS_INFINITE:
                return INF;
            default:
                return -1;
        }
    }

    /**
     * Whether a Java loop may read {@code a} through {@code a.data().asNio()}: float or double, every element
     * within int-indexable range, and the NIO buffer laid out as the view expects (capacity, offset, first
     * element; checked rather than assumed). Syncs the host copy first ({@link HostMemory}).
     */
    static boolean hostLoopable(INDArray a) {
        if (a.dataType() != DataType.FLOAT && a.dataType() != DataType.DOUBLE) {
            return false;
        }
        long last = a.offset();
        for (int d = 0; d < a.rank(); d++) {
            if (a.stride(d) < 0) {
                return false;
            }
            last += (a.size(d) - 1) * a.stride(d);
        }
        if (last >= Integer.MAX_VALUE) {
            return false; // NIO buffers index with int
        }
        // Every loop reads through here: under the CUDA backend the host copy is brought up to date first.
        HostMemory.beforeRead(a);
        // asNio() exposes the whole underlying buffer, in which the view starts at offset(): check that layout
        // (capacity, offset, first element) rather than assume it, and fall back to libnd4j when it differs.
        DataBuffer data = a.data();
        ByteBuffer bytes = data.asNio();
        int width = a.dataType() == DataType.FLOAT ? Float.BYTES : Double.BYTES;
        if (bytes == null || data.offset() != a.offset() || (long) bytes.capacity() < (last + 1) * width) {
            return false;
        }
        long first = a.dataType() == DataType.FLOAT
                ? Float.floatToRawIntBits(bytes.order(ByteOrder.nativeOrder()).getFloat((int) a.offset() * width))
                        - (long) Float.floatToRawIntBits(data.getFloat(0))
                : Double.doubleToRawLongBits(bytes.order(ByteOrder.nativeOrder()).getDouble((int) a.offset() * width))
                        - Double.doubleToRawLongBits(data.getDouble(0));
        return first == 0;
    }

    private static boolean matches(int mode, double x, double v) {
        switch (mode) {
            case GT:
                return x > v;
            case LT:
                return x < v;
            case ABS_GT:
                return Math.abs(x) > v;
            case NAN:
                return x != x;
            default:
                return Double.isInfinite(x);
        }
    }

    /** The count by a loop, or -1 when the loop does not handle the view or the condition. */
    private static long loopCount(INDArray a, Condition c) {
        int mode = loopMode(a, c);
        if (mode < 0) {
            return -1;
        }
        double v = c.getValue();
        int start = (int) a.offset();
        int n = (int) a.length();
        int ews = (int) a.elementWiseStride();
        long count = 0;
        if (a.dataType() == DataType.FLOAT) {
            FloatBuffer f = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
            float fv = (float) v;
            if (ews == 1 && fv == v && mode <= ABS_GT) {
                return countContiguous(f, start, start + n, mode, fv);
            }
            switch (mode) {
                case GT:
                    for (int k = 0, j = start; k < n; k++, j += ews) {
                        if (f.get(j) > v) {
                            count++;
                        }
                    }
                    return count;
                case LT:
                    for (int k = 0, j = start; k < n; k++, j += ews) {
                        if (f.get(j) < v) {
                            count++;
                        }
                    }
                    return count;
                case ABS_GT:
                    for (int k = 0, j = start; k < n; k++, j += ews) {
                        if (Math.abs(f.get(j)) > v) {
                            count++;
                        }
                    }
                    return count;
                default:
                    for (int k = 0, j = start; k < n; k++, j += ews) {
                        if (matches(mode, f.get(j), v)) {
                            count++;
                        }
                    }
                    return count;
            }
        }
        DoubleBuffer d = a.data().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
        for (int k = 0, j = start; k < n; k++, j += ews) {
            if (matches(mode, d.get(j), v)) {
                count++;
            }
        }
        return count;
    }

    /**
     * Count over contiguous floats against a float threshold (exact: the threshold is a float), branch-free with
     * an int counter: 1.7x faster than the general loop (13.8 against 23.5 ms for 1e7 floats, interleaved).
     */
    private static long countContiguous(FloatBuffer f, int from, int to, int mode, float v) {
        int count = 0;
        switch (mode) {
            case GT:
                for (int j = from; j < to; j++) {
                    count += f.get(j) > v ? 1 : 0;
                }
                return count;
            case LT:
                for (int j = from; j < to; j++) {
                    count += f.get(j) < v ? 1 : 0;
                }
                return count;
            default:
                for (int j = from; j < to; j++) {
                    count += Math.abs(f.get(j)) > v ? 1 : 0;
                }
                return count;
        }
    }

    /** The replacement by a loop; false when the loop does not handle the view or the condition. */
    private static boolean loopReplace(INDArray a, double value, Condition c) {
        int mode = loopMode(a, c);
        if (mode < 0) {
            return false;
        }
        double v = c.getValue();
        int start = (int) a.offset();
        int n = (int) a.length();
        int ews = (int) a.elementWiseStride();
        boolean wrote = false;
        if (a.dataType() == DataType.FLOAT) {
            FloatBuffer f = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
            float r = (float) value;
            for (int k = 0, j = start; k < n; k++, j += ews) {
                if (matches(mode, f.get(j), v)) {
                    f.put(j, r);
                    wrote = true;
                }
            }
        } else {
            DoubleBuffer d = a.data().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
            for (int k = 0, j = start; k < n; k++, j += ews) {
                if (matches(mode, d.get(j), v)) {
                    d.put(j, value);
                    wrote = true;
                }
            }
        }
        if (wrote) {
            HostMemory.afterWrite(a); // under the CUDA backend the device copy is refreshed before its next use
        }
        return true;
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
        HostMemory.beforeRead(a);
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
