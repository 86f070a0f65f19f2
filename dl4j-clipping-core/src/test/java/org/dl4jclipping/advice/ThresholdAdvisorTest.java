package org.dl4jclipping.advice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.GradientLayout;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The advisor on a history of known norms: reports built by a {@link Clipper} (skip non-finite, then a value clip
 * that never fires) on a layout of two layers, "a" with 3 gradient elements and "b" with 4, so 7 parameters.
 *
 * <p>Steps k = 1..10: layer a's gradient has norm 3k, layer b's 4k (global 5k), except step 10 where a is 0 and
 * b is 50 (global 50). Plus one NaN step, skipped and left out. Hence the global norms 5, 10, ..., 50:
 * median = (25 + 30) / 2 = 27.5, 90th percentile at position 9 x 0.9 = 8.1: 45 + 0.1 x 5 = 45.5;
 * threshold 2 x 27.5 = 55 (clips none of the steps; the p90 would clip 1 in 10);
 * value threshold 55 / sqrt(7) x 3; shares: b (9 x 16/25 + 1) / 10 = 0.676, a 9 x 9/25 / 10 = 0.324.
 */
class ThresholdAdvisorTest {

    private final INDArray ga = Nd4j.zeros(DataType.DOUBLE, 1, 3);
    private final INDArray gb = Nd4j.zeros(DataType.DOUBLE, 2, 2);
    private final Clipper clipper = new Clipper(Clip.chain(Clip.skipNonFinite(), Clip.value(1e9)),
            GradientLayout.builder().add("a", "W", ga, null).add("b", "W", gb, null).build());
    private long iteration;

    /** One step with layer norms {@code na} (a = (na, 0, 0)) and {@code nb} (b = nb * (0.6, 0.8, 0, 0)). */
    private void step(ClipHistory h, double na, double nb) {
        ga.assign(Nd4j.createFromArray(new double[][] {{na, 0, 0}}));
        gb.assign(Nd4j.createFromArray(new double[][] {{0.6 * nb, 0.8 * nb}, {0, 0}}));
        h.accept(clipper.clip(iteration++));
    }

    private ClipHistory known() {
        ClipHistory h = new ClipHistory(100);
        for (int k = 1; k <= 9; k++) {
            step(h, 3 * k, 4 * k);
            if (k == 4) {
                ga.putScalar(0, 1, Double.NaN);
                h.accept(clipper.clip(iteration++)); // skipped: left out
            }
        }
        step(h, 0, 50);
        return h;
    }

    @Test
    void knownNorms_giveTheHandComputedAdvice() {
        ClipHistory h = known();
        assertThat(h.steps()).hasSize(11);
        Advice a = ThresholdAdvisor.advise(h, 7);
        assertThat(a.steps()).isEqualTo(10);
        assertThat(a.medianNorm()).isCloseTo(27.5, within(1e-12));
        assertThat(a.p90Norm()).isCloseTo(45.5, within(1e-12));
        assertThat(a.globalNormThreshold()).isCloseTo(55.0, within(1e-12));
        assertThat(a.fractionAboveGlobal()).isZero();
        assertThat(a.fractionAboveP90()).isEqualTo(0.1);
        assertThat(a.numParameters()).isEqualTo(7);
        assertThat(a.valueThreshold()).isCloseTo(55 / Math.sqrt(7) * 3, within(1e-12));
        assertThat(a.layerShares()).extracting(Advice.LayerShare::layer).containsExactly("b", "a");
        assertThat(a.layerShares().get(0).share()).isCloseTo(0.676, within(1e-12));
        assertThat(a.layerShares().get(1).share()).isCloseTo(0.324, within(1e-12));
        // the reasoning states both numbers and the rule
        assertThat(String.join("\n", a.reasoning())).contains("27.5000", "45.5000", "55.0000", "2 x median",
                "Pascanu", "90th percentile", "sqrt(7 parameters)", "layer 'b' carries 67.6%");
    }

    @Test
    void toTable_listsTheNumbersTheLayersAndTheReasoning() {
        String t = ThresholdAdvisor.advise(known(), 7).toTable();
        assertThat(t).contains("median global norm", "27.5000", "45.5000", "recommended global norm (2 x median)",
                "55.0000", "62.3641", "67.6%", "32.4%", "reasoning:", "10.0%");
        // 55 / sqrt(7) * 3 = 62.36... ; b is listed before a
        assertThat(t.indexOf("\nb ")).isLessThan(t.indexOf("\na "));
    }

    @Test
    void advice_isImmutable() {
        Advice a = ThresholdAdvisor.advise(known(), 7);
        assertThatThrownBy(() -> a.layerShares().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> a.reasoning().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void spikyHistory_p90AboveTwiceTheMedian_suggestsAnAdaptiveStrategy() {
        // norms 5 (x 7) and 100 (x 3): median 5, threshold 10, p90 100: 30% of the steps are spikes
        ClipHistory h = new ClipHistory(100);
        for (int k = 0; k < 10; k++) {
            double n = k < 7 ? 5 : 100;
            step(h, 0.6 * n, 0.8 * n);
        }
        Advice a = ThresholdAdvisor.advise(h, 7);
        assertThat(a.globalNormThreshold()).isCloseTo(10, within(1e-12));
        assertThat(a.p90Norm()).isCloseTo(100, within(1e-12));
        assertThat(a.fractionAboveGlobal()).isCloseTo(0.3, within(1e-12));
        assertThat(a.reasoning()).anyMatch(r -> r.contains("Clip.zClip()"));
    }

    @Test
    void emptyOrUnusableHistory_isRejectedNamingTheField() {
        assertThatThrownBy(() -> ThresholdAdvisor.advise(new ClipHistory(10), 7))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("history = ")
                .hasMessageContaining("at least one step");
        ClipHistory onlySkipped = new ClipHistory(10);
        ga.putScalar(0, 0, Double.NaN);
        onlySkipped.accept(clipper.clip(0));
        assertThatThrownBy(() -> ThresholdAdvisor.advise(onlySkipped, 7))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 recorded steps, 0 usable");
        ClipHistory zeros = new ClipHistory(10);
        step(zeros, 0, 0);
        assertThatThrownBy(() -> ThresholdAdvisor.advise(zeros, 7))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("history = ");
        assertThatThrownBy(() -> ThresholdAdvisor.advise(null, 7))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("history is null");
        assertThatThrownBy(() -> ThresholdAdvisor.advise(known(), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("numParameters = 0")
                .hasMessageContaining(">= 1");
    }
}
