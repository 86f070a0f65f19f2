package org.dl4jclipping.rnn.layers;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Matrix products straight through OpenBLAS's {@code cblas_sgemm} / {@code cblas_dgemm} (JavaCPP's
 * {@code openblas_nolapack}, the binding and library nd4j-native itself calls) on {@link HostArray} memory at element
 * offsets: no ND4J op, no view object, nothing allocated per call. A call costs about a third of a microsecond
 * plus the arithmetic, where an ND4J op call on views costs tens of microseconds.
 *
 * <p>An operand is a {@link Mat}: a row-major matrix in memory with a leading dimension, or the transpose of one
 * (how a DL4J 'f'-order parameter view looks from row-major BLAS). {@link #gemm} computes
 * {@code C = alpha·op(A)·op(B) + beta·C} for any mix of the two; a transposed {@code C} is computed as
 * {@code Cᵀ = op(B)ᵀ·op(A)ᵀ}. The three operands must be distinct {@link HostArray}s (each holds one BLAS
 * pointer). The number of threads is OpenBLAS's, as ND4J configured it. CPU backend only.
 */
final class Gemm {

    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;

    private Gemm() {
    }

    /**
     * A matrix operand.
     *
     * @param data       its memory
     * @param offset     element offset of its first element in {@code data}
     * @param ld         leading dimension of the row-major storage
     * @param transposed true when the storage holds the transpose (the operand is column-major)
     */
    record Mat(HostArray data, long offset, int ld, boolean transposed) {

        /** A row-major matrix with {@code cols} columns from the first element of {@code data}. */
        static Mat rowMajor(HostArray data, int cols) {
            return new Mat(data, 0, cols, false);
        }

        /**
         * A 2-D contiguous array (whose memory {@code data} is) as an operand: 'c' order is row-major, 'f' order
         * is the transpose of a row-major [cols, rows] matrix.
         */
        static Mat of(HostArray data, INDArray a2d) {
            return a2d.ordering() == 'f' ? new Mat(data, 0, (int) Math.max(1, a2d.size(0)), true)
                    : new Mat(data, 0, (int) Math.max(1, a2d.size(1)), false);
        }

        /**
         * Element offset of element ({@code row}, {@code col}) of the operand (as a matrix) from its first element:
         * where a sub-block starting there begins, with the same leading dimension.
         */
        long at(int row, int col) {
            return transposed ? (long) col * ld + row : (long) row * ld + col;
        }
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C} with {@code op(A)} [m, k], {@code op(B)} [k, n], {@code C} [m, n].
     *
     * Each operand starts {@code aOff}, {@code bOff}, {@code cOff} elements after its {@link Mat}'s own offset (a
     * row block of a time-major array, say), so a time loop creates no objects. With {@code k = 0} the product is
     * zero: {@code C = beta·C}.
     *
     * @param transA use Aᵀ (as a matrix, whatever its storage)
     * @param transB use Bᵀ
     */
    static void gemm(int m, int n, int k, double alpha, Mat a, long aOff, boolean transA, Mat b, long bOff,
                     boolean transB, double beta, Mat c, long cOff) {
        if (m == 0 || n == 0) {
            return;
        }
        if (c.transposed()) {
            // Cᵀ [n, m] = op(B)ᵀ [n, k] · op(A)ᵀ [k, m]
            call(n, m, k, alpha, b, bOff, !transB, a, aOff, !transA, beta, c, cOff);
        } else {
            call(m, n, k, alpha, a, aOff, transA, b, bOff, transB, beta, c, cOff);
        }
    }

    private static void call(int m, int n, int k, double alpha, Mat a, long aOff, boolean transA, Mat b, long bOff,
                             boolean transB, double beta, Mat c, long cOff) {
        if (a.data() == c.data() || b.data() == c.data() || a.data() == b.data()) {
            throw new IllegalArgumentException("Gemm: operands must be distinct arrays");
        }
        int ta = transA ^ a.transposed() ? TRANS : NO_TRANS;
        int tb = transB ^ b.transposed() ? TRANS : NO_TRANS;
        // OpenBLAS checks lda >= max(1, columns of the stored A); with k = 0 it scales C by beta.
        int lda = Math.max(a.ld(), 1);
        int ldb = Math.max(b.ld(), 1);
        if (c.data().isFloat()) {
            openblas_nolapack.cblas_sgemm(ROW_MAJOR, ta, tb, m, n, k, (float) alpha,
                    (FloatPointer) a.data().at(a.offset() + aOff), lda,
                    (FloatPointer) b.data().at(b.offset() + bOff), ldb,
                    (float) beta, (FloatPointer) c.data().at(c.offset() + cOff), c.ld());
        } else {
            openblas_nolapack.cblas_dgemm(ROW_MAJOR, ta, tb, m, n, k, alpha,
                    (DoublePointer) a.data().at(a.offset() + aOff), lda,
                    (DoublePointer) b.data().at(b.offset() + bOff), ldb,
                    beta, (DoublePointer) c.data().at(c.offset() + cOff), c.ld());
        }
    }
}
