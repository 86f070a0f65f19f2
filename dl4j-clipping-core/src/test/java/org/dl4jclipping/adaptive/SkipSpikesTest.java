package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.GradientLayout;
import org.dl4jclipping.engine.SkipLimitExceededException;
import org.dl4jclipping.strategy.SkipSpikes;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SkipSpikes at the engine level against {@link AdaptiveReference.SpikeRef}: the same steps skipped, over generated
 * sequences of losses and norms with injected spikes, windows of 2 to 16, by loss, by norm or both, the state in
 * float or double; a taken step leaves the gradient untouched.
 */
class SkipSpikesTest {

    @Property(tries = 1000, seed = "4301")
    void engine_skipsTheStepsTheReferenceSkips(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int seed) {
        Random r = new Random(seed);
        int window = 2 + r.nextInt(15);
        int mode = r.nextInt(3);
        boolean byLoss = mode != 1;
        boolean byNorm = mode != 0;
        double sigma = 0.5 + 3 * r.nextDouble();
        SkipSpikes s = SkipSpikes.builder().window(window).sigmaFactor(sigma).byLoss(byLoss).byNorm(byNorm)
                .maxConsecutiveSkips(Integer.MAX_VALUE).build();
        DataType type = r.nextBoolean() ? DataType.FLOAT : DataType.DOUBLE;
        INDArray g = Nd4j.zeros(DataType.DOUBLE, 3);
        Clipper clipper = new Clipper(s, GradientLayout.builder().add("l", "W", g, null).build());
        clipper.rules().get(0).attachState(Nd4j.zeros(type, s.stateSize()));
        AdaptiveReference.SpikeRef ref = new AdaptiveReference.SpikeRef(window, sigma, byLoss, byNorm);
        int steps = 1 + r.nextInt(3 * window + 10);
        int skipped = 0;
        for (int t = 0; t < steps; t++) {
            double loss = 2 + 0.3 * r.nextGaussian();
            double scale = 1 + 0.2 * r.nextGaussian();
            if (r.nextInt(6) == 0) {
                loss *= 1 + 20 * r.nextDouble();
            }
            if (r.nextInt(6) == 0) {
                scale *= 1 + 20 * r.nextDouble();
            }
            double[] v = {scale, -2 * scale, 0.5 * scale};
            g.assign(Nd4j.createFromArray(v));
            double norm = AdaptiveReference.norm(v);
            ClipReport rep = clipper.clip(t, 1.0, loss);
            boolean expected = ref.skip(loss, norm);
            assertThat(rep.skipped()).as("seed %d step %d loss %s norm %s", seed, t, loss, norm).isEqualTo(expected);
            assertThat(rep.skippedBySpike()).isEqualTo(expected);
            assertThat(g.toDoubleVector()).as("the gradient is never changed").containsExactly(v);
            skipped += expected ? 1 : 0;
        }
        assertThat(skipped).isLessThanOrEqualTo(steps);
    }

    /**
     * Window 4, sigma 3, by loss only: losses 1, 2, 1, 2 are taken (from the second on the limit exists: after
     * 1, 2, 1 it is 1.33 + 3 * 0.47 = 2.75), then the window holds mean 1.5, std 0.5, limit 3.0: 3.0 is taken (not
     * above); the window 2, 1, 2, 3 has limit 2 + 3 * 0.71 = 4.12: 10 is skipped and not kept; two more 10s are
     * skipped; with maxConsecutiveSkips 3 the fourth consecutive spike fails naming the spike; then 1.9 is taken.
     */
    @Test
    void byHand_limitIsMeanPlusSigmaStd_skippedValuesNotKept_andTheLimitStopsARun() {
        INDArray g = Nd4j.createFromArray(1.0, 1.0);
        Clipper c = new Clipper(SkipSpikes.builder().window(4).sigmaFactor(3).byNorm(false).maxConsecutiveSkips(3)
                .build(), GradientLayout.builder().add("l", "W", g, null).build());
        double[] kept = {1, 2, 1, 2};
        for (int t = 0; t < kept.length; t++) {
            assertThat(c.clip(t, 1, kept[t]).skipped()).isFalse();
        }
        assertThat(c.clip(4, 1, 3.0).skipped()).as("3.0 is the limit itself").isFalse();
        for (int t = 5; t < 8; t++) {
            assertThat(c.clip(t, 1, 10.0).skippedBySpike()).isTrue();
        }
        assertThatThrownBy(() -> c.clip(8, 1, 10.0)).isInstanceOf(SkipLimitExceededException.class)
                .hasMessageContaining("3 consecutive skipped steps").hasMessageContaining("spike");
        assertThat(c.clip(9, 1, 1.9).skipped()).as("the window never took the 10s").isFalse();
    }
}
