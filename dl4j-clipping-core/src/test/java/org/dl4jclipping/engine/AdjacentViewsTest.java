package org.dl4jclipping.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.dl4jclipping.Clip;
import org.dl4jclipping.testing.ReferenceClipping;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Scaling a group whose views lie next to each other in one buffer (as a DL4J network's flattened gradient) goes
 * through one merged span per run of adjacent views: the result must be exactly the per-view scaling, and the
 * memory between and around the views must not change.
 */
class AdjacentViewsTest {

    @Test
    void globalNorm_overAdjacentAndSeparateViews_scalesExactlyTheViews() {
        // a buffer of 30 doubles 1..30; views [2,8) as 'f' [2,3], [8,12) as [1,4], [12,20), then a gap, [22,25)
        INDArray flat = Nd4j.linspace(1, 30, 30, DataType.DOUBLE).reshape(1, 30);
        INDArray before = flat.dup();
        INDArray a = flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(2, 8)).reshape('f', 2, 3);
        INDArray b = flat.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(8, 12));
        INDArray c = flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(12, 20));
        INDArray d = flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(22, 25));
        GradientLayout layout = GradientLayout.builder().add("L0", "a", a, null).add("L0", "b", b, null)
                .add("L1", "c", c, null).add("L2", "d", d, null).build();
        double[][] g = {values(before, 2, 8), values(before, 8, 12), values(before, 12, 20), values(before, 22, 25)};
        // the global norm of the 21 values is about 67.6; clipping to 10 scales every view by 10 / (67.6 + 1e-6)
        double norm = ReferenceClipping.groupNorm(g, new int[] {0, 1, 2, 3}, 2.0);
        double s = 10.0 / (norm + 1e-6);
        ClipReport r = new Clipper(Clip.globalNorm(10.0), layout).clip(0);
        assertThat(r.minScale()).isCloseTo(s, org.assertj.core.data.Offset.offset(1e-15));
        for (int k = 0; k < 30; k++) {
            boolean inView = (k >= 2 && k < 20) || (k >= 22 && k < 25);
            double expected = inView ? before.getDouble(0, k) * s : before.getDouble(0, k);
            assertThat(flat.getDouble(0, k)).as("element %d", k)
                    .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-12 * Math.abs(expected)));
        }
        assertThat(r.totalNormAfter()).isCloseTo(10.0, org.assertj.core.data.Offset.offset(1e-5));
    }

    private static double[] values(INDArray row, int from, int to) {
        double[] v = new double[to - from];
        for (int k = from; k < to; k++) {
            v[k - from] = row.getDouble(0, k);
        }
        return v;
    }
}
