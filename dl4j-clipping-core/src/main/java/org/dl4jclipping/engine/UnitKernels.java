package org.dl4jclipping.engine;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The L2 norms of all units of a weight in one pass over its memory, and the scaling of all its units by one
 * scale each in one more pass: what AGC needs per parameter, without a view or a native call per unit (the
 * per-unit path cost 2.5 MB of heap and one JNI call per unit, 63x a global norm on the char-LSTM layout).
 *
 * <p>Units are those of {@link Units}. The one-pass loops take the layouts DL4J gives its weights: a rank-2
 * weight stored by columns ({@code 'f'}: each unit is a contiguous run) or by rows ({@code 'c'}: a unit is strided,
 * the pass accumulates every column at once), and a rank-3+ weight in {@code 'c'} order (each output channel a
 * contiguous run). Anything else (other strides, other types) returns false and the caller takes the per-unit
 * views.
 *
 * <p>Exactness: squares are summed in double. For float data that never overflows or underflows (a float squared
 * is within double's range) and a unit of up to millions of elements stays within 1e-9 relative, far inside the
 * 1e-6 promised for float. For double data a unit whose sum of squares leaves {@code [1e-280, 1e280]} (0 and
 * +Inf included: underflow and overflow look like that) is recomputed with the overflow-safe
 * {@link Kernels#norm2}. Scaling multiplies in the data's type by the scale
 * rounded to it, exactly as BLAS {@code scal} does, and writes only units whose scale is not 1.
 */
final class UnitKernels {

    private static final double SMALL = 1e-280;
    private static final double LARGE = 1e280;

    private UnitKernels() {
    }

    /** The number of units of {@code a} ({@link Units}). */
    static int count(INDArray a, boolean weight) {
        if (!weight || a.rank() <= 1 || a.length() == 0) {
            return 1;
        }
        return (int) (a.rank() == 2 ? a.size(1) : a.size(0));
    }

    /**
     * Writes the L2 norm of each unit of {@code a} into {@code out[0..count)}; NaN or +Inf where a unit holds one.
     *
     * @return false when the layout is not one the loop takes (nothing written)
     */
    static boolean norms(INDArray a, boolean weight, double[] out) {
        Layout l = layout(a, weight);
        if (l == null) {
            return false;
        }
        if (a.dataType() == DataType.FLOAT) {
            FloatBuffer f = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
            float[] c = chunk(l.rowMajorColumns ? l.units : l.per);
            if (l.rowMajorColumns) {
                java.util.Arrays.fill(out, 0, l.units, 0.0);
                for (int r = 0; r < l.per; r++) {
                    f.get(l.start + r * l.units, c, 0, l.units);
                    addSquares(c, l.units, out);
                }
            } else {
                for (int u = 0; u < l.units; u++) {
                    f.get(l.start + u * l.per, c, 0, l.per);
                    out[u] = sumOfSquares(c, l.per);
                }
            }
        } else {
            DoubleBuffer d = a.data().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
            if (l.rowMajorColumns) {
                java.util.Arrays.fill(out, 0, l.units, 0.0);
                for (int r = 0; r < l.per; r++) {
                    int base = l.start + r * l.units;
                    for (int u = 0; u < l.units; u++) {
                        double x = d.get(base + u);
                        out[u] += x * x;
                    }
                }
            } else {
                for (int u = 0; u < l.units; u++) {
                    int from = l.start + u * l.per;
                    double s = 0;
                    for (int k = from; k < from + l.per; k++) {
                        double x = d.get(k);
                        s += x * x;
                    }
                    out[u] = s;
                }
            }
        }
        for (int u = 0; u < l.units; u++) {
            double s = out[u];
            if (a.dataType() == DataType.DOUBLE && !Double.isNaN(s) && (s < SMALL || s > LARGE)) {
                // rare: squares that may have underflowed (to 0 as well) or overflowed (to +Inf as well)
                out[u] = Kernels.norm2(Units.of(a, weight)[u]);
            } else {
                out[u] = Math.sqrt(s);
            }
        }
        return true;
    }

    private static final ThreadLocal<float[][]> CHUNK = ThreadLocal.withInitial(() -> new float[1][0]);

    /** A reused float array of at least {@code n} elements (per thread). */
    private static float[] chunk(int n) {
        float[][] holder = CHUNK.get();
        if (holder[0].length < n) {
            holder[0] = new float[Math.max(n, 2 * holder[0].length)];
        }
        return holder[0];
    }

    /** Sum of squares in double, four independent accumulators (no float rounding, more ILP). */
    private static double sumOfSquares(float[] c, int n) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int k = 0;
        for (; k + 3 < n; k += 4) {
            double x0 = c[k];
            double x1 = c[k + 1];
            double x2 = c[k + 2];
            double x3 = c[k + 3];
            s0 += x0 * x0;
            s1 += x1 * x1;
            s2 += x2 * x2;
            s3 += x3 * x3;
        }
        for (; k < n; k++) {
            double x = c[k];
            s0 += x * x;
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static void addSquares(float[] c, int n, double[] out) {
        for (int u = 0; u < n; u++) {
            double x = c[u];
            out[u] += x * x;
        }
    }

    private static void scaleAll(float[] c, int n, float s) {
        for (int k = 0; k < n; k++) {
            c[k] *= s;
        }
    }

    /**
     * Multiplies each unit {@code u} of {@code a} by {@code scale[u]} in place, writing only units whose scale is
     * not 1.
     *
     * @return false when the layout is not one the loop takes (nothing written)
     */
    static boolean scale(INDArray a, boolean weight, double[] scale) {
        Layout l = layout(a, weight);
        if (l == null) {
            return false;
        }
        boolean wrote = false;
        if (a.dataType() == DataType.FLOAT) {
            FloatBuffer f = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
            if (l.rowMajorColumns) {
                float[] c = chunk(2 * l.units);
                for (int u = 0; u < l.units; u++) {
                    c[l.units + u] = (float) scale[u];
                    wrote |= scale[u] != 1.0;
                }
                if (wrote) {
                    for (int r = 0; r < l.per; r++) {
                        int base = l.start + r * l.units;
                        f.get(base, c, 0, l.units);
                        for (int u = 0; u < l.units; u++) {
                            c[u] *= c[l.units + u]; // x * 1f == x: unscaled units come back unchanged
                        }
                        f.put(base, c, 0, l.units);
                    }
                }
            } else {
                float[] c = chunk(l.per);
                for (int u = 0; u < l.units; u++) {
                    if (scale[u] == 1.0) {
                        continue;
                    }
                    int from = l.start + u * l.per;
                    f.get(from, c, 0, l.per);
                    scaleAll(c, l.per, (float) scale[u]);
                    f.put(from, c, 0, l.per);
                    wrote = true;
                }
            }
        } else {
            DoubleBuffer d = a.data().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
            for (int u = 0; u < l.units; u++) {
                if (scale[u] == 1.0) {
                    continue;
                }
                wrote = true;
                if (l.rowMajorColumns) {
                    for (int r = 0; r < l.per; r++) {
                        int k = l.start + r * l.units + u;
                        d.put(k, d.get(k) * scale[u]);
                    }
                } else {
                    for (int k = l.start + u * l.per, end = k + l.per; k < end; k++) {
                        d.put(k, d.get(k) * scale[u]);
                    }
                }
            }
        }
        if (wrote) {
            HostMemory.afterWrite(a);
        }
        return true;
    }

    /**
     * How the units lie in memory: {@code units} runs of {@code per} elements from {@code start} (column-major
     * rank 2, or c-order rank 3+), or ({@code rowMajorColumns}) {@code per} rows of {@code units} elements.
     */
    private record Layout(int start, int units, int per, boolean rowMajorColumns) {
    }

    private static Layout layout(INDArray a, boolean weight) {
        if (a.length() == 0 || !Kernels.hostLoopable(a)) {
            return null;
        }
        int start = (int) a.offset();
        int units = count(a, weight);
        if (units == 1) {
            return contiguousC(a) || contiguousF(a) ? new Layout(start, 1, (int) a.length(), false) : null;
        }
        if (a.rank() == 2) {
            if (a.stride(0) == 1 && a.stride(1) == a.size(0)) {
                return new Layout(start, units, (int) a.size(0), false); // columns contiguous ('f')
            }
            if (a.stride(1) == 1 && a.stride(0) == a.size(1)) {
                return new Layout(start, units, (int) a.size(0), true); // rows contiguous ('c')
            }
            return null;
        }
        return contiguousC(a) ? new Layout(start, units, (int) (a.length() / units), false) : null;
    }

    private static boolean contiguousC(INDArray a) {
        long expected = 1;
        for (int d = a.rank() - 1; d >= 0; d--) {
            if (a.size(d) != 1 && a.stride(d) != expected) {
                return false;
            }
            expected *= a.size(d);
        }
        return true;
    }

    private static boolean contiguousF(INDArray a) {
        long expected = 1;
        for (int d = 0; d < a.rank(); d++) {
            if (a.size(d) != 1 && a.stride(d) != expected) {
                return false;
            }
            expected *= a.size(d);
        }
        return true;
    }
}
