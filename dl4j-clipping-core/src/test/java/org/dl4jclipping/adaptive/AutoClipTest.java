package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dl4jclipping.adaptive.GlobalNormDriver.assertClose;
import static org.dl4jclipping.adaptive.GlobalNormDriver.assertMatches;

import java.util.Random;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.NonFiniteGradientException;
import org.dl4jclipping.strategy.AutoClip;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * AutoClip at the engine level against {@link AdaptiveReference.AutoClipRef}: for a fixed sequence of global
 * norms (a spike, a run of equal norms, a zero norm), the scale applied each step and the threshold it implies
 * equal the reference's to 1e-12. Hand-computed thresholds are stated where the numbers are small.
 */
class AutoClipTest {

    /** 4, 2, a spike of 10, 3, a run of three 5s, a zero norm, 6. */
    private static final double[] HAND = {4, 2, 10, 3, 5, 5, 5, 0, 6};

    /**
     * 60 norms around 1 with a spike (50), a run of eight equal norms (0.75) and two zero norms, so that the
     * percentile sometimes falls on 0 (then every positive norm is scaled to 0, as the reference does).
     */
    static double[] longSequence() {
        Random r = new Random(42);
        double[] n = new double[60];
        for (int i = 0; i < n.length; i++) {
            n[i] = 0.5 + r.nextDouble();
        }
        n[1] = 0.0;
        n[17] = 50.0;
        for (int i = 30; i < 38; i++) {
            n[i] = 0.75;
        }
        n[45] = 0.0;
        return n;
    }

    private static ClipReport[] run(AutoClip s, double[] norms, AdaptiveReference.AutoClipRef ref) {
        GlobalNormDriver d = new GlobalNormDriver(s);
        ClipReport[] reports = new ClipReport[norms.length];
        for (int t = 0; t < norms.length; t++) {
            reports[t] = d.step(norms[t]);
            assertMatches(reports[t], ref.step(d.set(norms[t])), s + " step " + (t + 1));
        }
        return reports;
    }

    @Test
    void median_unboundedWindow_clipsAboveThePercentileOfTheHistoryIncludingTheCurrentNorm() {
        // p = 50 over the whole history (append first):
        // step 1 [4] -> 4, not above: unclipped;     step 2 [2,4] -> 3: unclipped
        // step 3 [2,4,10] -> 4: 10 scaled by 4 / (10 + 1e-6)
        // step 4 [2,3,4,10] -> 3.5: unclipped
        // step 5 [2,3,4,5,10] -> 4: 5 scaled by 4 / (5 + 1e-6)
        // step 6 [2,3,4,5,5,10] -> 4.5: scaled by 4.5 / (5 + 1e-6)
        // step 7 [2,3,4,5,5,5,10] -> 5: the norm equals the threshold: unclipped
        // step 8 [0,2,3,4,5,5,5,10] -> 4.5: a zero norm is never scaled
        // step 9 [0,2,3,4,5,5,5,6,10] -> 5: 6 scaled by 5 / (6 + 1e-6)
        ClipReport[] r = run(new AutoClip(50, 1000), HAND, new AdaptiveReference.AutoClipRef(50, 1000));
        double[] expected = {1, 1, 4 / (10 + 1e-6), 1, 4 / (5 + 1e-6), 4.5 / (5 + 1e-6), 1, 1, 5 / (6 + 1e-6)};
        for (int t = 0; t < expected.length; t++) {
            assertClose(r[t].minScale(), expected[t], "step " + (t + 1));
        }
    }

    @Test
    void windowSmallerThanTheSequence_keepsOnlyTheLastNorms() {
        // window 3, p = 50: the median of the last three norms (ring buffer)
        // step 3 [4,2,10] -> 4: scaled by 4 / (10 + 1e-6)
        // step 4 [2,10,3] -> 3: unclipped (3.5 with the whole history: also unclipped)
        // step 5 [10,3,5] -> 5: unclipped, where the whole history's median 4 clips
        // step 9 [5,0,6] -> 5: scaled by 5 / (6 + 1e-6)
        ClipReport[] r = run(new AutoClip(50, 3), HAND, new AdaptiveReference.AutoClipRef(50, 3));
        double[] expected = {1, 1, 4 / (10 + 1e-6), 1, 1, 1, 1, 1, 5 / (6 + 1e-6)};
        for (int t = 0; t < expected.length; t++) {
            assertClose(r[t].minScale(), expected[t], "step " + (t + 1));
        }
    }

    @ParameterizedTest(name = "p = {0}, window = {1}")
    @CsvSource({"10, 1000", "10, 7", "25, 1", "50, 20", "90, 5", "0.5, 1000", "99.9, 13"})
    void longSequence_matchesTheReferenceEveryStep(double p, int window) {
        run(new AutoClip(p, window), longSequence(), new AdaptiveReference.AutoClipRef(p, window));
    }

    @ParameterizedTest(name = "p = {0}")
    @CsvSource({"10", "50", "100"})
    void firstStep_neverClips(double p) {
        // the history holds only the current norm, so the threshold is the norm itself
        GlobalNormDriver d = new GlobalNormDriver(new AutoClip(p, 1000));
        ClipReport r = d.step(123.0);
        assertThat(r.minScale()).isEqualTo(1.0);
        assertThat(r.changed()).isFalse();
    }

    @Test
    void percentile100_neverClips() {
        // the 100th percentile is the maximum of a history that contains the current norm
        GlobalNormDriver d = new GlobalNormDriver(new AutoClip(100, 1000));
        for (double n : longSequence()) {
            assertThat(d.step(n).minScale()).as("norm %s", n).isEqualTo(1.0);
        }
    }

    @Test
    void windowOne_neverClips() {
        // a window of one holds only the current norm
        GlobalNormDriver d = new GlobalNormDriver(new AutoClip(10, 1));
        for (double n : longSequence()) {
            assertThat(d.step(n).minScale()).isEqualTo(1.0);
        }
    }

    @Test
    void factoryDefaults_areThePapersPercentileAndAThousandNorms() {
        AutoClip a = Clip.autoClip(AutoClip.DEFAULT_PERCENTILE);
        assertThat(a.getPercentile()).isEqualTo(10.0);
        assertThat(a.getWindow()).isEqualTo(1000);
        assertThat(a.stateSize()).as("count and 1000 norms, two elements each").isEqualTo(2002);
        run(a, longSequence(), new AdaptiveReference.AutoClipRef(10, 1000));
    }

    @Test
    void nonFiniteNorm_failsTheStepAndLeavesTheHistoryUnchanged() {
        // after 4, 2 the NaN step fails; had it entered the history, step 3 would see [2, 4, NaN, 10]
        GlobalNormDriver d = new GlobalNormDriver(new AutoClip(50, 1000));
        AdaptiveReference.AutoClipRef ref = new AdaptiveReference.AutoClipRef(50, 1000);
        assertMatches(d.step(4), ref.step(d.set(4)), "step 1");
        assertMatches(d.step(2), ref.step(d.set(2)), "step 2");
        d.nanStepThrows(NonFiniteGradientException.class);
        ClipReport r = d.step(10);
        assertMatches(r, ref.step(d.set(10)), "step after NaN");
        assertClose(r.minScale(), 4 / (10 + 1e-6), "median of [2, 4, 10] is 4");
    }

    @Test
    void skipNonFiniteFirst_skipsTheStepAndLeavesTheHistoryUnchanged() {
        GlobalNormDriver d = new GlobalNormDriver(Clip.chain(Clip.skipNonFinite(), new AutoClip(50, 3)));
        AdaptiveReference.AutoClipRef ref = new AdaptiveReference.AutoClipRef(50, 3);
        assertMatches(d.step(4), ref.step(d.set(4)), "step 1");
        assertMatches(d.step(2), ref.step(d.set(2)), "step 2");
        ClipReport skipped = d.stepWithNaN();
        assertThat(skipped.skipped()).isTrue();
        assertThat(skipped.minScale()).isEqualTo(1.0);
        // window 3: a NaN in the history would have pushed 4 out
        ClipReport r = d.step(10);
        assertMatches(r, ref.step(d.set(10)), "step after NaN");
        assertClose(r.minScale(), 4 / (10 + 1e-6), "median of [4, 2, 10] is 4");
    }
}
