package org.dl4jclipping.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.dl4jclipping.Clip;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What a {@link ClipReport} says after one step, on gradients small enough to work out by hand. Norms in a report
 * are always L2. Every expected number is derived in the comment next to it.
 */
class ClipReportTest {

    private static final double EPS = 1e-6;

    /**
     * One layer, gradients [3, 4] and [0]: global norm sqrt(9 + 16 + 0) = 5 > 1, so s = 1 / (5 + 1e-6) =
     * 0.19999996; [3, 4] becomes [0.6, 0.8] * 5 / 5.000001; after-norm 5 s = 0.9999998.
     */
    @Test
    void globalNorm_aboveThreshold_reportsNormsAndScale() {
        INDArray w = vec(3, 4);
        INDArray b = vec(0);
        GradientLayout layout = GradientLayout.builder().add("dense", "W", w, null).add("dense", "b", b, null).build();
        ClipReport r = new Clipper(Clip.globalNorm(1.0), layout).clip(7);

        double s = 1.0 / (5.0 + EPS);
        assertThat(r.iteration()).isEqualTo(7);
        assertThat(r.normBefore(0)).isEqualTo(5.0, within(1e-15));
        assertThat(r.normBefore(1)).isEqualTo(0.0);
        assertThat(r.totalNormBefore()).isEqualTo(5.0, within(1e-15));
        assertThat(r.layerNormBefore(0)).isEqualTo(5.0, within(1e-15));
        assertThat(r.scale(0)).isEqualTo(s, within(1e-16));
        assertThat(r.minScale()).isEqualTo(s, within(1e-16));
        assertThat(r.normAfter(0)).isEqualTo(5.0 * s, within(1e-15));
        assertThat(r.totalNormAfter()).isEqualTo(0.9999998, within(1e-12)).isLessThanOrEqualTo(1.0);
        assertThat(r.layerNormAfter(0)).isEqualTo(r.totalNormAfter());
        assertThat(w.toDoubleVector()).containsExactly(new double[] {3 * s, 4 * s}, within(1e-15));
        assertThat(b.toDoubleVector()).containsExactly(0.0);
        assertThat(r.changed()).isTrue();
        assertThat(r.skipped()).isFalse();
        assertThat(r.totalClipped()).isZero();
        assertThat(r.totalZeroed()).isZero();
        assertThat(r.totalNonFinite()).isZero();
    }

    /**
     * Two layers: "A" has W = [3, 4] (norm 5) and b = [12] (norm 12), layer norm sqrt(25 + 144) = 13; "B" has
     * W = [1, 1, 1, 1], norm 2. LAYER scope, max 10: only A is over, s_A = 10 / (13 + 1e-6); B keeps scale 1.
     * Total before sqrt(169 + 4) = sqrt(173); total after sqrt((13 s_A)^2 + 4).
     */
    @Test
    void layerNorm_twoLayers_clipsOnlyTheLayerOverThreshold() {
        INDArray aw = vec(3, 4);
        INDArray ab = vec(12);
        INDArray bw = vec(1, 1, 1, 1);
        GradientLayout layout = GradientLayout.builder().add("A", "W", aw, null).add("A", "b", ab, null)
                .add("B", "W", bw, null).build();
        ClipReport r = new Clipper(Clip.layerNorm(10.0), layout).clip(0);

        double sA = 10.0 / (13.0 + EPS);
        assertThat(layout.layers()).containsExactly("A", "B");
        assertThat(r.layerNormBefore(0)).isEqualTo(13.0, within(1e-14));
        assertThat(r.layerNormBefore(1)).isEqualTo(2.0, within(1e-15));
        assertThat(r.layerNormAfter(0)).isEqualTo(13.0 * sA, within(1e-13)).isLessThan(10.0);
        assertThat(r.layerNormAfter(1)).isEqualTo(2.0, within(1e-15));
        assertThat(r.scale(0)).isEqualTo(sA, within(1e-16));
        assertThat(r.scale(1)).isEqualTo(sA, within(1e-16));
        assertThat(r.scale(2)).isEqualTo(1.0);
        assertThat(r.totalNormBefore()).isEqualTo(Math.sqrt(173.0), within(1e-13));
        assertThat(r.totalNormAfter()).isEqualTo(Math.sqrt(Math.pow(13.0 * sA, 2) + 4.0), within(1e-13));
        assertThat(ab.toDoubleVector()).containsExactly(new double[] {12 * sA}, within(1e-14));
        assertThat(bw.toDoubleVector()).containsExactly(1.0, 1.0, 1.0, 1.0); // untouched, exactly
    }

    /**
     * The report is reused by the next step; {@code copy()} keeps a step. Step 1 clips [3, 4] (norm 5) to max 1;
     * then the gradient is set to [0.3, 0.4] (norm 0.5, not clipped) and step 2 runs.
     */
    @Test
    void copy_isIndependentOfTheNextStep() {
        INDArray g = vec(3, 4);
        Clipper clipper = new Clipper(Clip.globalNorm(1.0), GradientLayout.builder().add("l", "W", g, null).build());
        ClipReport first = clipper.clip(1);
        ClipReport kept = first.copy();

        g.assign(vec(0.3, 0.4));
        ClipReport second = clipper.clip(2);

        assertThat(second).isSameAs(first); // reused: the live report now describes step 2
        assertThat(second.iteration()).isEqualTo(2);
        assertThat(second.totalNormBefore()).isEqualTo(0.5, within(1e-15));
        assertThat(second.minScale()).isEqualTo(1.0);
        assertThat(second.changed()).isFalse();
        // the copy still describes step 1: norm 5, scale 1 / (5 + 1e-6), changed
        assertThat(kept.iteration()).isEqualTo(1);
        assertThat(kept.totalNormBefore()).isEqualTo(5.0, within(1e-15));
        assertThat(kept.minScale()).isEqualTo(1.0 / (5.0 + EPS), within(1e-16));
        assertThat(kept.changed()).isTrue();
        assertThat(kept.layout()).isSameAs(second.layout());
    }

    /** Counts are per step, not cumulative: a step with nothing to clip after one that clipped reports 0. */
    @Test
    void counts_areResetEachStep() {
        INDArray g = vec(2, -3, 0.5);
        Clipper clipper = new Clipper(Clip.value(1.0), GradientLayout.builder().add("l", "W", g, null).build());
        // step 1: 2 -> 1 and -3 -> -1, two elements moved to a bound
        assertThat(clipper.clip(0).totalClipped()).isEqualTo(2);
        // step 2: [1, -1, 0.5] is inside [-1, 1] (bounds themselves are not "clipped"): 0
        ClipReport r = clipper.clip(1);
        assertThat(r.totalClipped()).isZero();
        assertThat(r.changed()).isFalse();
    }

    /** toString shows the iteration and the total norms (what a log line needs). */
    @Test
    void toString_showsIterationAndNorms() {
        INDArray g = vec(3, 4);
        ClipReport r = new Clipper(Clip.globalNorm(1.0), GradientLayout.builder().add("l", "W", g, null).build())
                .clip(12);
        // norm 5 -> 0.9999998, printed with 6 significant digits
        assertThat(r.toString()).contains("iteration=12").contains("norm 5.00000 -> 1.00000");
    }

    static INDArray vec(double... v) {
        return Nd4j.createFromArray(v).castTo(DataType.DOUBLE);
    }
}
