package org.dl4jclipping.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.dl4jclipping.Clip;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * Defect 8 of issue 13, checked on the CPU: every Java loop of {@link Kernels} reads array memory only after
 * {@link HostMemory#beforeRead} and marks it with {@link HostMemory#afterWrite} after changing it, which under the
 * CUDA backend synchronise host and device ({@code AffinityManager.ensureLocation} / {@code tagLocation}). A
 * recording {@link HostMemory.Sync} stands in for the backend and logs the calls in order; the loops themselves are
 * the production ones. (On the CPU backend both calls are no-ops; {@code gpu-check.sh} runs the exactness tests on
 * a GPU.)
 */
class HostMemoryTest {

    private final List<String> log = new ArrayList<>();
    private final List<INDArray> arrays = new ArrayList<>();

    @BeforeEach
    void record() {
        HostMemory.sync = new HostMemory.Sync() {
            @Override
            public void toHost(INDArray a) {
                log.add("read " + id(a));
            }

            @Override
            public void hostWritten(INDArray a) {
                log.add("write " + id(a));
            }
        };
    }

    @AfterEach
    void restore() {
        HostMemory.sync = HostMemory.AFFINITY;
    }

    private String id(INDArray a) {
        for (int k = 0; k < arrays.size(); k++) {
            if (arrays.get(k) == a) {
                return "#" + k;
            }
        }
        arrays.add(a);
        return "#" + (arrays.size() - 1);
    }

    private INDArray floats(double... v) {
        INDArray a = Nd4j.createFromArray(v).castTo(DataType.FLOAT);
        id(a);
        return a;
    }

    @Test
    void countAndReplace_readAfterSync_andMarkWrites() {
        INDArray a = floats(1, -5, Double.NaN, 7);
        assertThat(Kernels.count(a, Conditions.greaterThan(2.0))).isEqualTo(1);
        assertThat(log).containsExactly("read #0");
        log.clear();
        Kernels.replace(a, 0.0, Conditions.isNan());
        assertThat(a.toDoubleVector()).containsExactly(1, -5, 0, 7);
        assertThat(log).containsExactly("read #0", "write #0");
        log.clear();
        Kernels.replace(a, 0.0, Conditions.isNan());
        assertThat(log).as("nothing to replace: nothing marked written").containsExactly("read #0");
    }

    @Test
    void clampCounting_andZeroNonFinite_andLoopNorm() {
        INDArray a = floats(1, -5, 3, 7);
        assertThat(Kernels.clampCounting(a, -2, 2, -2, 2, true)).isEqualTo(3);
        assertThat(a.toDoubleVector()).containsExactly(1, -2, 2, 2);
        assertThat(log).containsExactly("read #0", "write #0");
        log.clear();
        INDArray b = floats(Double.POSITIVE_INFINITY, 2);
        Kernels.zeroNonFinite(b);
        assertThat(b.toDoubleVector()).containsExactly(0, 2);
        assertThat(log).containsExactly("read #1", "read #1", "write #1");
        log.clear();
        // a non-contiguous view takes the strided loop for every norm
        INDArray m = Nd4j.createFromArray(new double[][] {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}).castTo(DataType.FLOAT);
        INDArray view = m.get(NDArrayIndex.interval(0, 2), NDArrayIndex.interval(0, 2));
        id(view);
        assertThat(Kernels.norm(view, 1.0)).isEqualTo(12.0);
        assertThat(log).containsExactly("read #2");
    }

    /**
     * Through the engine: value clipping of a gradient holding NaN takes compare-and-replace (a native min/max
     * would turn NaN into a bound), so the loop reads and writes; a ZERO policy the same.
     */
    @Test
    void clipper_valueOnNaN_andZeroPolicy_syncTheGradient() {
        INDArray g = floats(10, Double.NaN, -10);
        GradientLayout layout = GradientLayout.builder().add("l", "W", g, null).build();
        new Clipper(Clip.chain(Clip.zeroNonFinite(), Clip.value(1.0)), layout).clip(0);
        assertThat(g.toDoubleVector()).containsExactly(1, 0, -1);
        assertThat(log).contains("write #0");
        assertThat(log.get(0)).isEqualTo("read #0");
        for (int k = 0; k < log.size(); k++) {
            if (log.get(k).startsWith("write")) {
                assertThat(log.subList(0, k)).as("a write follows a read").contains("read #0");
            }
        }
    }
}
