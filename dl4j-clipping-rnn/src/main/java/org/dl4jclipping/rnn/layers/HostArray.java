package org.dl4jclipping.rnn.layers;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * The memory of a contiguous float or double {@link INDArray} on the host, seen from Java: element {@code i} (in the
 * array's own linear order, from its first element) read and written as a double through a direct NIO buffer, and
 * a BLAS pointer to any element for {@link Gemm}. Nothing is copied: reads and writes go to the array's memory.
 *
 * <p>Element access costs what a direct buffer's does (no JNI call); a float array's values are widened on read
 * and rounded to float on write. The object holds the array so that its memory stays alive. CPU backend only (the
 * memory must be host memory). ND4J's {@code addressPointer()} of a view's buffer already points at the view's
 * first element (nd4j-native's own BLAS calls rely on that too), so no offset is added.
 */
abstract sealed class HostArray permits HostArray.F32, HostArray.F64 {

    /** The array whose memory this is. */
    final INDArray array;

    private HostArray(INDArray array) {
        this.array = array;
    }

    /**
     * The memory of {@code a}, which must be float or double and contiguous (element-wise stride 1, any order: the
     * elements are then seen in that order).
     */
    static HostArray of(INDArray a) {
        if (a.length() > 1 && a.elementWiseStride() != 1) {
            throw new IllegalArgumentException("HostArray: array is not contiguous (element-wise stride "
                    + a.elementWiseStride() + ", shape " + java.util.Arrays.toString(a.shape()) + ")");
        }
        if (a.length() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("HostArray: " + a.length() + " elements exceed 2^31 - 1");
        }
        if (a.dataType() == DataType.FLOAT) {
            return new F32(a);
        }
        if (a.dataType() == DataType.DOUBLE) {
            return new F64(a);
        }
        throw new IllegalArgumentException("HostArray: data type " + a.dataType() + " is not float or double");
    }

    /** Element {@code i}. */
    abstract double get(int i);

    /** Sets element {@code i} (rounded to float for a float array). */
    abstract void set(int i, double v);

    /** A BLAS pointer to element {@code i}; one object per array, repositioned on each call. */
    abstract Pointer at(long i);

    final boolean isFloat() {
        return this instanceof F32;
    }

    /** Float memory. */
    static final class F32 extends HostArray {
        private final FloatBuffer buf;
        private final FloatPointer blas;

        F32(INDArray a) {
            super(a);
            FloatPointer p = new FloatPointer(a.data().addressPointer());
            p.position(0).capacity(a.length()).limit(a.length());
            buf = p.asBuffer();
            blas = new FloatPointer(a.data().addressPointer());
        }

        @Override
        double get(int i) {
            return buf.get(i);
        }

        @Override
        void set(int i, double v) {
            buf.put(i, (float) v);
        }

        @Override
        Pointer at(long i) {
            return blas.position(i);
        }
    }

    /** Double memory. */
    static final class F64 extends HostArray {
        private final DoubleBuffer buf;
        private final DoublePointer blas;

        F64(INDArray a) {
            super(a);
            DoublePointer p = new DoublePointer(a.data().addressPointer());
            p.position(0).capacity(a.length()).limit(a.length());
            buf = p.asBuffer();
            blas = new DoublePointer(a.data().addressPointer());
        }

        @Override
        double get(int i) {
            return buf.get(i);
        }

        @Override
        void set(int i, double v) {
            buf.put(i, v);
        }

        @Override
        Pointer at(long i) {
            return blas.position(i);
        }
    }
}
