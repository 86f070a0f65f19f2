package org.dl4jclipping.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The one-pass unit kernels against the per-unit path they replace: for generated weights ('f' and 'c' rank 2,
 * 'c' rank 4, biases; float and double; magnitudes from 1e-30 to 1e30, and 1e200 / 1e-200 in double; some NaN and
 * Inf), every unit norm equals {@link Kernels#norm2} of the unit view to 1e-12 relative (1e-7 in float data, where
 * BLAS snrm2 itself is that far), and scaling equals per-view BLAS scaling bit for bit. Views the loops do not take
 * (strided sub-matrices) answer false and change nothing.
 */
class UnitKernelsTest {

    @Property(tries = 1000, seed = "4401")
    void oneStep_matchesPerUnitPath(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int seed) {
        Random r = new Random(seed);
        DataType type = r.nextBoolean() ? DataType.FLOAT : DataType.DOUBLE;
        int kind = r.nextInt(4);
        long[] shape = switch (kind) {
            case 0, 1 -> new long[] {1 + r.nextInt(9), 1 + r.nextInt(9)};
            case 2 -> new long[] {1 + r.nextInt(4), 1 + r.nextInt(3), 1 + r.nextInt(3), 1 + r.nextInt(3)};
            default -> new long[] {1, 1 + r.nextInt(9)};
        };
        char order = kind == 0 ? 'f' : 'c';
        boolean weight = kind != 3;
        double exp = type == DataType.DOUBLE && r.nextInt(5) == 0 ? (r.nextBoolean() ? 200 : -200)
                : -30 + 60 * r.nextDouble();
        INDArray a = Nd4j.create(type, shape, order);
        INDArray b = Nd4j.create(type, shape, order);
        long n = a.length();
        for (long k = 0; k < n; k++) {
            double v = r.nextGaussian() * Math.pow(10, exp);
            if (r.nextInt(40) == 0) {
                v = r.nextBoolean() ? Double.NaN : Double.POSITIVE_INFINITY;
            }
            a.putScalar(k, v);
            b.putScalar(k, v);
        }
        int units = UnitKernels.count(a, weight);
        INDArray[] views = Units.of(a, weight);
        assertThat(views).hasSize(units);
        double[] norms = new double[units];
        assertThat(UnitKernels.norms(a, weight, norms)).isTrue();
        double tol = type == DataType.FLOAT ? 1e-7 : 1e-12;
        for (int u = 0; u < units; u++) {
            double expected = Kernels.norm2(views[u]);
            if (Double.isNaN(expected) || Double.isInfinite(expected)) {
                assertThat(Double.isNaN(norms[u]) || Double.isInfinite(norms[u])).as("seed %d unit %d", seed, u)
                        .isTrue();
            } else {
                assertThat(Math.abs(norms[u] - expected)).as("seed %d %s %s unit %d: %s vs %s", seed, type,
                        order, u, norms[u], expected).isLessThanOrEqualTo(tol * expected);
            }
        }
        double[] scale = new double[units];
        for (int u = 0; u < units; u++) {
            scale[u] = r.nextBoolean() ? 1.0 : r.nextDouble();
        }
        assertThat(UnitKernels.scale(a, weight, scale)).isTrue();
        INDArray[] bViews = Units.of(b, weight);
        for (int u = 0; u < units; u++) {
            if (scale[u] != 1.0) {
                Kernels.scale(bViews[u], scale[u]);
            }
        }
        double[] x = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] y = b.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        for (int k = 0; k < x.length; k++) {
            assertThat(Double.doubleToLongBits(x[k])).as("seed %d element %d", seed, k)
                    .isEqualTo(Double.doubleToLongBits(y[k]));
        }
    }

    @Property(tries = 50, seed = "4402")
    void stridedView_isNotTaken(@ForAll @IntRange(min = 2, max = 9) int rows) {
        INDArray m = Nd4j.rand(DataType.FLOAT, rows + 2, 7);
        INDArray view = m.get(NDArrayIndex.interval(1, rows + 1), NDArrayIndex.interval(2, 6));
        INDArray before = m.dup();
        assertThat(UnitKernels.norms(view, true, new double[4])).isFalse();
        assertThat(UnitKernels.scale(view, true, new double[] {0.5, 0.5, 0.5, 0.5})).isFalse();
        assertThat(m.equals(before)).isTrue();
    }
}
