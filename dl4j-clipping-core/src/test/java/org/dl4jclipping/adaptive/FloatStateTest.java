package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.StateDoubles;
import org.dl4jclipping.strategy.AutoClip;
import org.dl4jclipping.strategy.ZClip;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Defect 3 of issue 13: the adaptive strategies behave the same in float and double networks. Their state lives in
 * the network's updater state, in the network's type; it holds each value as a pair ({@link StateDoubles}), so a
 * float state keeps 48 bits and a count stays exact far beyond 2^31 steps.
 */
class FloatStateTest {

    /** Norms spread over six decades, so that float rounding of a stored norm would matter. */
    private static double[] norms(long seed, int n) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = Math.pow(10, -3 + 6 * r.nextDouble()) * (1 + 1e-9 * r.nextGaussian());
        }
        return v;
    }

    /**
     * The regression: with one float per norm, AutoClip(100) in a float network clipped 4 of 20 steps (by about
     * 1e-6) and step 1 on 11 of 20 seeds. Now neither clips, in a float state, over 20 seeds x 40 steps.
     */
    @Test
    void autoClip100_floatState_neverClips_andStepOneNeverClips() {
        for (long seed = 0; seed < 20; seed++) {
            GlobalNormDriver d = new GlobalNormDriver(new AutoClip(100, 1000), DataType.FLOAT);
            for (double n : norms(seed, 40)) {
                assertThat(d.step(n).minScale()).as("seed %d norm %s", seed, n).isEqualTo(1.0);
            }
            GlobalNormDriver first = new GlobalNormDriver(Clip.autoClip(10), DataType.FLOAT);
            assertThat(first.step(norms(seed, 1)[0]).minScale()).as("step 1, seed %d", seed).isEqualTo(1.0);
        }
    }

    /**
     * The same strategy with its state in FLOAT and in DOUBLE, over the same 200 norms (a spike every 37 steps):
     * every step's scale equal to 1e-12 relative, and the same steps clipped. AutoClip at p = 10 and 50 with a
     * window of 50, ZClip with its defaults and with no cap.
     */
    @ParameterizedTest
    @ValueSource(strings = {"autoclip10", "autoclip50", "zclip", "zclip-nocap"})
    void floatAndDoubleState_clipTheSameSteps(String name) {
        ClipStrategy s = switch (name) {
            case "autoclip10" -> new AutoClip(10, 50);
            case "autoclip50" -> new AutoClip(50, 50);
            case "zclip" -> Clip.zClip();
            default -> ZClip.builder().maxGradNorm(Double.POSITIVE_INFINITY).warmupSteps(10).build();
        };
        GlobalNormDriver f = new GlobalNormDriver(s, DataType.FLOAT);
        GlobalNormDriver d = new GlobalNormDriver(s, DataType.DOUBLE);
        double[] norms = norms(7, 200);
        int clipped = 0;
        for (int t = 0; t < norms.length; t++) {
            double n = t % 37 == 36 ? 50 * norms[t] : norms[t];
            ClipReport rf = f.step(n);
            ClipReport rd = d.step(n);
            assertThat(rf.minScale() < 1.0).as("%s step %d clipped in float as in double", name, t)
                    .isEqualTo(rd.minScale() < 1.0);
            assertThat(Math.abs(rf.minScale() - rd.minScale())).as("%s step %d scale", name, t)
                    .isLessThanOrEqualTo(1e-12 * rd.minScale());
            clipped += rd.minScale() < 1.0 ? 1 : 0;
        }
        assertThat(clipped).as("the sequence really clips").isPositive();
    }

    /** The count kept in a float state advances exactly past 2^24 and 2^31 (restored near each). */
    @ParameterizedTest
    @ValueSource(longs = {(1L << 24) - 2, (1L << 31) - 2})
    void autoClipCount_restoredNearALimit_advancesExactly(long start) {
        AutoClip s = new AutoClip(50, 8);
        GlobalNormDriver d = new GlobalNormDriver(s, DataType.FLOAT);
        StateDoubles.put(d.state, 0, start);
        for (int k = 0; k < 5; k++) {
            d.step(1.0 + k);
        }
        assertThat((long) StateDoubles.get(d.state, 0)).isEqualTo(start + 5);
        assertThat(StateDoubles.get(d.state, 0)).isEqualTo((double) (start + 5));
    }

    /**
     * On a real float32 network (MLP 4-16-16-3, AutoClip(100) on every layer, Adam): 20 seeds of 20 steps, not one
     * step clipped.
     */
    @Test
    void autoClip100_floatNetwork_neverClips() {
        for (long seed = 0; seed < 20; seed++) {
            MultiLayerNetwork net = org.dl4jclipping.dl4j.PartialRulesSafetyTest.allClipped(DataType.FLOAT,
                    Clip.autoClip(100), seed);
            ClipHistory history = new ClipHistory(100);
            net.addListeners(new ClippingListener(history));
            for (int s = 0; s < 20; s++) {
                net.fit(org.dl4jclipping.dl4j.PartialRulesSafetyTest.batch(DataType.FLOAT, 1000 * seed + s, false));
            }
            long seedFinal = seed;
            assertThat(history.steps()).as("seed %d", seedFinal).allMatch(st -> st.minScale() == 1.0);
        }
    }
}
