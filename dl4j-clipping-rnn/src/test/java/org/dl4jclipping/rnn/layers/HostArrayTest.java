package org.dl4jclipping.rnn.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.dl4jclipping.rnn.layers.Gemm.Mat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** {@link HostArray} sees an array's own elements (views at an offset too) and {@link Gemm} equals ND4J's gemm. */
class HostArrayTest {

    enum Type {
        FLOAT(DataType.FLOAT, 1e-5), DOUBLE(DataType.DOUBLE, 1e-12);

        final DataType type;
        final double tol;

        Type(DataType type, double tol) {
            this.type = type;
            this.tol = tol;
        }
    }

    @ParameterizedTest
    @EnumSource(Type.class)
    void viewAtAnOffsetReadsAndWritesItsOwnElements(Type t) {
        INDArray all = Nd4j.linspace(t.type, 1, 20, 1);                  // 1 .. 20
        INDArray view = all.get(NDArrayIndex.interval(5, 12));           // 6 .. 12
        HostArray h = HostArray.of(view);
        assertThat(h.get(0)).isEqualTo(6.0);
        assertThat(h.get(6)).isEqualTo(12.0);
        h.set(1, -1.0);
        assertThat(all.getDouble(6)).isEqualTo(-1.0);                   // element 1 of the view is element 6
        assertThat(all.getDouble(5)).isEqualTo(6.0);
    }

    @ParameterizedTest
    @EnumSource(Type.class)
    void gemmOnFOrderViewsEqualsNd4j(Type t) {
        Nd4j.getRandom().setSeed(3);
        INDArray flat = Nd4j.randn(t.type, 1, 5 * 7 + 7 * 4 + 5 * 4);
        // A [5, 7] 'c' from offset 0 of a row block, B [7, 4] 'f' view at an offset, C [5, 4] 'f' view at an offset.
        INDArray a = Nd4j.randn(t.type, 9, 7).get(NDArrayIndex.interval(2, 7), NDArrayIndex.all());
        INDArray b = flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(35, 63)).reshape('f', 7, 4);
        INDArray c = flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(63, 83)).reshape('f', 5, 4);
        INDArray expected = a.mmul(b).mul(2.0).add(c.mul(0.5));
        Gemm.gemm(5, 4, 7, 2.0, Mat.rowMajor(HostArray.of(a), 7), 0, false, Mat.of(HostArray.of(b), b), 0, false, 0.5,
                Mat.of(HostArray.of(c), c), 0);
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 4; j++) {
                assertThat(c.getDouble(i, j)).isCloseTo(expected.getDouble(i, j), within(t.tol));
            }
        }
    }
}
