package org.dl4jclipping.rnn.layers;

import java.util.ArrayList;
import java.util.List;
import org.dl4jclipping.privacy.LayerPerExample;
import org.dl4jclipping.privacy.LayerViews;
import org.dl4jclipping.rnn.layers.Gemm.Mat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The per-example gradients of a recurrent layer in factored form, read from its kernel's memory after the backward
 * pass ({@link RecurrentFastPath}): each weight block is a sum over steps of outer products, each bias a sum of
 * error rows. All arrays are time-major, row {@code t * mb + i} for example {@code i} at step {@code t}, so example
 * {@code i}'s rows of a matrix with {@code c} columns are a strided matrix (leading dimension {@code mb * c}, first
 * element {@code i * c}) that BLAS multiplies in place: nothing is gathered per example.
 *
 * <p>For example {@code i}, a block with inputs {@code A_i [T, k]} and errors {@code D_i [T, c]}:
 * <pre>
 *   grad_i = A_i^T D_i,   ||grad_i||^2 = sum((A_i A_i^T) o (D_i D_i^T))  (ghost norm, when 2 T^2 &lt;= k c)
 *                                      or the squares of A_i^T D_i formed in scratch memory (otherwise)
 *   clipped sum  sum_i f_i grad_i = A^T (f o D)   (one product over all rows, D's rows scaled by their example's f)
 * </pre>
 * The arithmetic is the layer's data type (BLAS), the squared norms are summed in double. Valid until the layer's
 * next forward pass on the fast path (the kernel's memory is reused then).
 */
final class RecurrentRows implements LayerPerExample {

    /**
     * Scratch slots: a per-example product or the Gram matrix of A, the Gram matrix of D, bias sums (double), two
     * scaled error arrays.
     */
    static final int SLOTS = 5;
    private static final int PRODUCT = 0;
    private static final int GRAM_D = 1;
    private static final int SUMS = 2;
    private static final int SCALED = 3;

    /**
     * One weight block: {@code param[:, col .. col + cols] = A^T D[:, dCol .. dCol + cols]} with the same column
     * offset in the error array and in the parameter.
     *
     * @param key  the parameter's key ("W", "RW")
     * @param col  first column, in the parameter and in {@code d}
     * @param cols number of columns
     * @param a    the inputs, time-major [T·mb, k]
     * @param k    columns of {@code a}
     * @param d    the errors, time-major [T·mb, g]
     * @param g    columns of {@code d}
     */
    record Product(String key, int col, int cols, HostArray a, int k, HostArray d, int g) {
    }

    /**
     * One bias: {@code param = sum of the rows of d} (all {@code g} columns).
     *
     * @param key the parameter's key ("b", "rb")
     */
    record Bias(String key, HostArray d, int g) {
    }

    private final int mb;
    private final int steps;
    private final DataType type;
    private final List<Product> products;
    private final List<Bias> biases;
    private final KernelMemory scratch;

    RecurrentRows(int mb, int steps, DataType type, List<Product> products, List<Bias> biases,
                  KernelMemory scratch) {
        this.mb = mb;
        this.steps = steps;
        this.type = type;
        this.products = List.copyOf(products);
        this.biases = List.copyOf(biases);
        this.scratch = scratch;
    }

    /** Whether the ghost norm is the cheaper way for one example (privacy.md's rule). */
    static boolean ghostCheaper(long t, long k, long c) {
        return 2 * t * t <= k * c;
    }

    @Override
    public double[] squaredNorms() {
        double[] out = new double[mb];
        for (Product p : products) {
            if (ghostCheaper(steps, p.k(), p.cols())) {
                ghostNorms(p, out);
            } else {
                explicitNorms(p, out);
            }
        }
        for (Bias b : biases) {
            // Each example's bias gradient, summed in one pass over the rows in memory order.
            HostArray sums = scratch.get(SUMS, DataType.DOUBLE, (long) mb * b.g());
            for (int e = 0; e < mb * b.g(); e++) {
                sums.set(e, 0.0);
            }
            for (int t = 0; t < steps; t++) {
                for (int i = 0; i < mb; i++) {
                    int row = (t * mb + i) * b.g();
                    int at = i * b.g();
                    for (int j = 0; j < b.g(); j++) {
                        sums.set(at + j, sums.get(at + j) + b.d().get(row + j));
                    }
                }
            }
            for (int i = 0; i < mb; i++) {
                double s = 0;
                for (int j = 0; j < b.g(); j++) {
                    double v = sums.get(i * b.g() + j);
                    s += v * v;
                }
                out[i] += s;
            }
        }
        return out;
    }

    /**
     * A time-major array with {@code c} columns seen as one example's rows: leading dimension {@code mb * c}, so
     * that from element {@code i * c} on its {@code steps} rows are example {@code i}'s.
     */
    private Mat rowsOf(HostArray data, int c) {
        return new Mat(data, 0, mb * c, false);
    }

    /** Example {@code i}'s gradient of block {@code p}, {@code A_i^T D_i} [k, cols], into {@code c} from {@code at}. */
    private void exampleGradient(Product p, int i, Mat c, long at) {
        Gemm.gemm(p.k(), p.cols(), steps, 1.0, rowsOf(p.a(), p.k()), (long) i * p.k(), true, rowsOf(p.d(), p.g()),
                (long) i * p.g() + p.col(), false, 0.0, c, at);
    }

    private void explicitNorms(Product p, double[] out) {
        HostArray s = scratch.get(PRODUCT, type, (long) p.k() * p.cols());
        Mat sM = Mat.rowMajor(s, p.cols());
        int len = p.k() * p.cols();
        for (int i = 0; i < mb; i++) {
            exampleGradient(p, i, sM, 0);
            double sum = 0;
            for (int e = 0; e < len; e++) {
                double v = s.get(e);
                sum += v * v;
            }
            out[i] += sum;
        }
    }

    private void ghostNorms(Product p, double[] out) {
        int tt = steps * steps;
        HostArray ga = scratch.get(PRODUCT, type, tt);
        HostArray gd = scratch.get(GRAM_D, type, tt);
        // A Gram matrix multiplies an array by itself: BLAS gets a second HostArray (pointer) on the same memory.
        HostArray aTwin = HostArray.of(p.a().array);
        HostArray dTwin = HostArray.of(p.d().array);
        for (int i = 0; i < mb; i++) {
            Gemm.gemm(steps, steps, p.k(), 1.0, rowsOf(p.a(), p.k()), (long) i * p.k(), false,
                    rowsOf(aTwin, p.k()), (long) i * p.k(), true, 0.0, Mat.rowMajor(ga, steps), 0);
            Gemm.gemm(steps, steps, p.cols(), 1.0, rowsOf(p.d(), p.g()), (long) i * p.g() + p.col(), false,
                    rowsOf(dTwin, p.g()), (long) i * p.g() + p.col(), true, 0.0, Mat.rowMajor(gd, steps), 0);
            double sum = 0;
            for (int e = 0; e < tt; e++) {
                sum += ga.get(e) * gd.get(e);
            }
            out[i] += sum;
        }
    }

    @Override
    public void writeClippedSum(double[] factors, LayerViews views) {
        List<HostArray> sources = new ArrayList<>();
        List<HostArray> scaled = new ArrayList<>();
        for (Product p : products) {
            HostArray ds = scaledCopy(p.d(), p.g(), factors, sources, scaled);
            INDArray view = views.byKey().get(p.key());
            Mat c = Mat.of(HostArray.of(view), view);
            Gemm.gemm(p.k(), p.cols(), steps * mb, 1.0, Mat.rowMajor(p.a(), p.k()), 0, true,
                    Mat.rowMajor(ds, p.g()), p.col(), false, 0.0, c, c.at(0, p.col()));
        }
        for (Bias b : biases) {
            writeBias(scaledCopy(b.d(), b.g(), factors, sources, scaled), b, 0, steps * mb, 1, views);
        }
    }

    /** {@code d} with each row scaled by its example's factor, in scratch memory; once per distinct array. */
    private HostArray scaledCopy(HostArray d, int g, double[] factors, List<HostArray> sources,
                                 List<HostArray> scaled) {
        int at = sources.indexOf(d);
        if (at >= 0) {
            return scaled.get(at);
        }
        HostArray ds = scratch.get(SCALED + sources.size(), type, (long) steps * mb * g);
        for (int t = 0; t < steps; t++) {
            for (int i = 0; i < mb; i++) {
                int row = (t * mb + i) * g;
                double f = factors[i];
                for (int j = 0; j < g; j++) {
                    ds.set(row + j, f * d.get(row + j));
                }
            }
        }
        sources.add(d);
        scaled.add(ds);
        return ds;
    }

    /** {@code param[j] = sum over rows first, first + stride, ... (count rows) of d[row, j]}, row by row. */
    private void writeBias(HostArray d, Bias b, int first, int count, int stride, LayerViews views) {
        HostArray sums = scratch.get(SUMS, DataType.DOUBLE, b.g());
        for (int j = 0; j < b.g(); j++) {
            sums.set(j, 0.0);
        }
        for (int r = 0; r < count; r++) {
            int row = (first + r * stride) * b.g();
            for (int j = 0; j < b.g(); j++) {
                sums.set(j, sums.get(j) + d.get(row + j));
            }
        }
        INDArray view = views.byKey().get(b.key());
        HostArray v = HostArray.of(view);
        for (int j = 0; j < b.g(); j++) {
            v.set(j, sums.get(j));
        }
    }

    @Override
    public void writeExample(int i, LayerViews views) {
        for (Product p : products) {
            INDArray view = views.byKey().get(p.key());
            Mat c = Mat.of(HostArray.of(view), view);
            exampleGradient(p, i, c, c.at(0, p.col()));
        }
        for (Bias b : biases) {
            writeBias(b.d(), b, i, steps, mb, views);
        }
    }
}
