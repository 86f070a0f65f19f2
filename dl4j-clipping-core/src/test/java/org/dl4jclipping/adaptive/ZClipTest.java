package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dl4jclipping.adaptive.GlobalNormDriver.assertClose;
import static org.dl4jclipping.adaptive.GlobalNormDriver.assertMatches;

import java.util.Random;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.NonFiniteGradientException;
import org.dl4jclipping.strategy.ZClip;
import org.junit.jupiter.api.Test;

/**
 * ZClip at the engine level against {@link AdaptiveReference.ZClipRef}: warm-up, statistics, z-score, the
 * reciprocal rule, the cap, the EMA order and skip-on-spike, step by step to 1e-12.
 *
 * <p>The hand-sized case: {@code alpha = 0.5}, {@code z = 2}, warm-up 3, no cap, norms 1, 2, 3, 2, 10, ...
 * Steps 1-3 are warm-up; step 3 fills the buffer: {@code mu = 2}, {@code var = (1 + 0 + 1) / 3 = 2/3}.
 * Step 4 ({@code g = 2}): {@code z = 0}, no spike; EMA: {@code mu = 2}, {@code var = 1/3}.
 * Step 5 ({@code g = 10}): {@code sigma = 1/sqrt(3)}, {@code z = 8 / (sigma + 1e-6) ~ 13.86 > 2}: a spike;
 * {@code thr = mu + z_thr^2 * sigma / z ~ 2 + 4 * (1/3) / 8 = 13/6}; scale {@code thr / (10 + 1e-6)}.
 */
class ZClipTest {

    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double[] HAND = {1, 2, 3, 2, 10, 10, 2.5, 0, 2, 2, 2, 2};

    private static ZClip.Builder hand() {
        return ZClip.builder().alpha(0.5).zThreshold(2).warmupSteps(3).maxGradNorm(INF);
    }

    private static AdaptiveReference.ZClipRef ref(ZClip z) {
        return new AdaptiveReference.ZClipRef(z.getAlpha(), z.getZThreshold(), z.getMaxGradNorm(), z.getEps(),
                z.getWarmupSteps(), z.getMode() == ZClip.Mode.MEAN, z.getClipFactor(), z.isSkipUpdateOnSpike());
    }

    /** Runs {@code norms} through the engine and the reference, comparing every step. */
    private static ClipReport[] run(ZClip z, double[] norms) {
        return run(z, z, norms);
    }

    private static ClipReport[] run(ClipStrategy s, ZClip z, double[] norms) {
        GlobalNormDriver d = new GlobalNormDriver(s);
        AdaptiveReference.ZClipRef ref = ref(z);
        ClipReport[] reports = new ClipReport[norms.length];
        for (int t = 0; t < norms.length; t++) {
            reports[t] = d.step(norms[t]);
            assertMatches(reports[t], ref.step(d.set(norms[t])), z + " step " + (t + 1));
        }
        return reports;
    }

    /** 80 norms around 0.5 (some above the default cap 1.0 after warm-up), a spike, a run, a zero. */
    static double[] longSequence() {
        Random r = new Random(7);
        double[] n = new double[80];
        for (int i = 0; i < n.length; i++) {
            n[i] = 0.3 + 0.4 * r.nextDouble();
        }
        n[10] = 1.4;          // above the cap during warm-up
        n[30] = 5.0;          // a spike
        n[31] = 0.0;          // a zero norm
        for (int i = 40; i < 50; i++) {
            n[i] = 0.55;      // a run of equal norms
        }
        n[60] = 0.9;          // a smaller spike once the run has shrunk sigma
        n[61] = 0.9;
        return n;
    }

    @Test
    void handSizedCase_warmupThenReciprocalRule() {
        ClipReport[] r = run(hand().build(), HAND);
        for (int t = 0; t < 4; t++) {
            assertThat(r[t].minScale()).as("step %d: warm-up without a cap, then no spike", t + 1).isEqualTo(1.0);
        }
        double sigma = Math.sqrt(1.0 / 3);
        double z = 8 / (sigma + 1e-6);
        double thr = 2 + 4 * sigma / z;
        assertThat(thr).isCloseTo(13.0 / 6, org.assertj.core.data.Offset.offset(1e-5));
        assertClose(r[4].minScale(), thr / (10 + 1e-6), "step 5: the spike is scaled to the reciprocal threshold");
    }

    @Test
    void warmupBoundary_theStepThatFillsTheBufferIsStillWarmup() {
        // warm-up 3 with a cap of 1.5: steps 1-3 are clipped by plain global norm at 1.5 (PyTorch's formula,
        // min(1, 1.5 / (g + 1e-6))), including step 3 that fills the buffer; step 4 is the first to use the
        // statistics: g = 2 is no spike (z = 0), but the effective threshold min(g, 1.5) still caps it.
        double[] norms = {1, 2, 3, 2};
        ClipReport[] r = run(hand().maxGradNorm(1.5).build(), norms);
        assertThat(r[0].minScale()).isEqualTo(1.0);
        assertClose(r[1].minScale(), 1.5 / (2 + 1e-6), "step 2 (warm-up)");
        assertClose(r[2].minScale(), 1.5 / (3 + 1e-6), "step 3 fills the buffer: still warm-up");
        assertClose(r[3].minScale(), 1.5 / (2 + 1e-6), "step 4: statistics, no spike, capped at 1.5");
        // the same with a huge z threshold and no cap: after warm-up nothing is ever clipped
        ClipReport[] free = run(hand().zThreshold(1e6).build(), new double[] {1, 2, 3, 100});
        assertThat(free[3].minScale()).isEqualTo(1.0);
        // and with warm-up 4, the same 4th step (g = 2 after 1, 2, 3) is warm-up: only the cap applies
        ClipReport[] longer = run(hand().warmupSteps(4).build(), new double[] {1, 2, 3, 10, 10});
        assertThat(longer[3].minScale()).as("4th step still warm-up, no cap: unclipped").isEqualTo(1.0);
        assertThat(longer[4].minScale()).as("5th step uses the statistics: 10 after 1, 2, 3, 10 is no spike "
                + "at z = 2 (mean 4, sigma ~3.54, z ~1.7)").isEqualTo(1.0);
    }

    @Test
    void emaOrder_varianceUsesTheUpdatedMean() {
        // After the spike at step 5, x = thr ~ 13/6: mu = 2 + (thr - 2) / 2 ~ 2.0833, then
        // var = 1/6 + (thr - mu)^2 / 2 ~ 1/6 + 1/288 (with the old mean it would be 1/6 + 1/72).
        // Step 6 (another g = 10) is a spike whose threshold depends on sigma: it tells the two orders apart.
        ClipReport[] r = run(hand().build(), HAND);
        double sigma5 = Math.sqrt(1.0 / 3);
        double thr5 = 2 + 4 * sigma5 / (8 / (sigma5 + 1e-6));
        double mu = 0.5 * 2 + 0.5 * thr5;
        double varUpdatedMean = 0.5 / 3 + 0.5 * (thr5 - mu) * (thr5 - mu);
        double varOldMean = 0.5 / 3 + 0.5 * (thr5 - 2) * (thr5 - 2);
        double right = step6Scale(mu, varUpdatedMean);
        double wrong = step6Scale(mu, varOldMean);
        assertClose(r[5].minScale(), right, "step 6 with the variance around the updated mean");
        assertThat(Math.abs(r[5].minScale() - wrong)).as("differs from the old-mean order").isGreaterThan(1e-6);
    }

    /** The scale of a spike g = 10 with z = 2 against mu and var (adaptive scaling, no cap). */
    private static double step6Scale(double mu, double var) {
        double sigma = Math.sqrt(var);
        double z = (10 - mu) / (sigma + 1e-6);
        return (mu + 4 * sigma / z) / (10 + 1e-6);
    }

    @Test
    void meanMode_clipsASpikeToTheMean() {
        ClipReport[] r = run(hand().mode(ZClip.Mode.MEAN).build(), HAND);
        assertClose(r[4].minScale(), 2 / (10 + 1e-6), "step 5: thr = mu = 2");
    }

    @Test
    void clipFactor_multipliesTheAdaptiveThreshold() {
        ClipReport[] r = run(hand().clipFactor(0.5).build(), HAND);
        double sigma = Math.sqrt(1.0 / 3);
        double z = 8 / (sigma + 1e-6);
        assertClose(r[4].minScale(), (2 + 4 * sigma / z) * 0.5 / (10 + 1e-6), "step 5: thr * 0.5");
    }

    @Test
    void skipUpdateOnSpike_keepsTheStatisticsSoTheSameSpikeIsClippedTheSame() {
        // with skip, step 6 (g = 10 again) sees mu = 2, var = 1/3 as step 5 did: the same scale
        ClipReport[] r = run(hand().skipUpdateOnSpike(true).build(), HAND);
        assertThat(r[5].minScale()).isEqualTo(r[4].minScale());
        // without skip the statistics moved
        ClipReport[] moved = run(hand().build(), HAND);
        assertThat(moved[5].minScale()).isNotEqualTo(moved[4].minScale());
    }

    @Test
    void maxGradNorm_capsTheEffectiveThreshold_andInfinityMeansNoCap() {
        // cap 1.5: the spike's threshold 13/6 is capped to 1.5; a normal step 2.5 (step 7) is capped too
        ClipReport[] capped = run(hand().maxGradNorm(1.5).build(), HAND);
        assertClose(capped[4].minScale(), 1.5 / (10 + 1e-6), "step 5 capped at 1.5");
        // the EMA took the threshold (13/6), not the cap: the reference agrees on every later step (run())
        ClipReport[] free = run(hand().build(), HAND);
        for (int t = 0; t < 3; t++) {
            assertThat(free[t].minScale()).as("no cap: warm-up never clips").isEqualTo(1.0);
        }
    }

    @Test
    void warmupZero_initialisesOnTheFirstNorm() {
        // warm-up 0: step 1 sets mu = g1 = 1, var = 0 and is clipped only by the cap (1.5: unclipped);
        // step 2 (g = 3): sigma = 0, z = 2 / 1e-6: a spike; thr = mu + 4 * 0 / z = 1: scale 1 / (3 + 1e-6)
        ClipReport[] r = run(hand().warmupSteps(0).maxGradNorm(1.5).build(), new double[] {1, 3, 1, 1, 0.5, 4});
        assertThat(r[0].minScale()).isEqualTo(1.0);
        assertClose(r[1].minScale(), 1 / (3 + 1e-6), "step 2: spike against sigma = 0");
    }

    @Test
    void referenceDefaults_longSequence_matchEveryStep() {
        ZClip z = Clip.zClip();
        assertThat(z).isEqualTo(new ZClip(0.97, 2.5, 1.0, 1e-6, 25, ZClip.Mode.ADAPTIVE_SCALING, 1.0, false));
        ClipReport[] r = run(z, longSequence());
        assertThat(r[10].minScale()).as("1.4 during warm-up is capped at 1.0").isLessThan(1.0);
        assertThat(r[30].minScale()).as("the spike is clipped").isLessThan(1.0);
    }

    @Test
    void variants_longSequence_matchEveryStep() {
        run(ZClip.builder().maxGradNorm(INF).warmupSteps(5).build(), longSequence());
        run(ZClip.builder().maxGradNorm(INF).warmupSteps(5).mode(ZClip.Mode.MEAN).build(), longSequence());
        run(ZClip.builder().maxGradNorm(0.6).warmupSteps(0).zThreshold(1.0).build(), longSequence());
        run(ZClip.builder().maxGradNorm(INF).warmupSteps(3).skipUpdateOnSpike(true).zThreshold(1.5).alpha(0.8)
                .clipFactor(0.7).eps(1e-3).build(), longSequence());
    }

    @Test
    void nonFiniteNorm_failsAndLeavesTheStatisticsUnchanged() {
        // a NaN after warm-up, and one during warm-up: both fail; the following steps are those of the
        // reference that never saw them (the warm-up count did not advance either)
        ZClip z = hand().build();
        GlobalNormDriver d = new GlobalNormDriver(z);
        AdaptiveReference.ZClipRef ref = ref(z);
        assertMatches(d.step(1), ref.step(d.set(1)), "step 1");
        d.nanStepThrows(NonFiniteGradientException.class);
        assertMatches(d.step(2), ref.step(d.set(2)), "step 2");
        assertMatches(d.step(3), ref.step(d.set(3)), "step 3 fills the buffer");
        assertMatches(d.step(2), ref.step(d.set(2)), "step 4");
        d.nanStepThrows(NonFiniteGradientException.class);
        ClipReport r = d.step(10);
        assertMatches(r, ref.step(d.set(10)), "step 5");
        double sigma = Math.sqrt(1.0 / 3);
        assertClose(r.minScale(), (2 + 4 * sigma / (8 / (sigma + 1e-6))) / (10 + 1e-6), "mu = 2, var = 1/3");
    }

    @Test
    void skipNonFiniteFirst_skipsTheStepAndLeavesTheStatisticsUnchanged() {
        ZClip z = hand().build();
        GlobalNormDriver d = new GlobalNormDriver(Clip.chain(Clip.skipNonFinite(), z));
        AdaptiveReference.ZClipRef ref = ref(z);
        for (double n : new double[] {1, 2}) {
            assertMatches(d.step(n), ref.step(d.set(n)), "warm-up");
        }
        assertThat(d.stepWithNaN().skipped()).as("NaN during warm-up").isTrue();
        for (double n : new double[] {3, 2}) {
            assertMatches(d.step(n), ref.step(d.set(n)), "after the NaN");
        }
        ClipReport skipped = d.stepWithNaN();
        assertThat(skipped.skipped()).isTrue();
        assertThat(skipped.minScale()).isEqualTo(1.0);
        for (double n : new double[] {10, 10, 2.5, 0, 2}) {
            assertMatches(d.step(n), ref.step(d.set(n)), "after the second NaN");
        }
    }
}
