package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dl4jclipping.adaptive.AdaptiveCheckpointTest.assertBitIdentical;
import static org.dl4jclipping.adaptive.AdaptiveCheckpointTest.updaterState;
import static org.dl4jclipping.adaptive.GlobalNormDriver.assertClose;

import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.strategy.ZClip;
import org.dl4jclipping.testing.Networks;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * {@code Clip.chain(Clip.skipNonFinite(), zClip, Clip.value(c))} on a real network (the MLP fixture, Sgd so that
 * a skipped iteration cannot shift a bias correction): a minibatch with NaN features is skipped (parameters and
 * updater state, which holds ZClip's statistics, as if it never happened), and the normal steps are clipped by
 * ZClip (scale against a reference fed with the recorded norms) and then by value.
 */
class AdaptiveChainTest {

    /** Warm-up 2 and a cap of 1e-3 (far below the fixture's gradient norms), so every normal step is scaled. */
    private static final ZClip ZCLIP = ZClip.builder().warmupSteps(2).zThreshold(1.0).maxGradNorm(1e-3).build();

    private static ClipStrategy chain() {
        return Clip.chain(Clip.skipNonFinite(), ZCLIP, Clip.value(1e-5));
    }

    private static Networks.Fixture fixture(ClipHistory history) {
        Networks.Fixture f = Networks.mlp(lr -> new ClippingUpdater(new Sgd(lr), chain()));
        f.model().addListeners(new ClippingListener(history));
        return f;
    }

    private static DataSet withNaN(DataSet d) {
        DataSet bad = d.copy();
        bad.getFeatures().getRow(0).assign(Double.NaN);
        return bad;
    }

    @Test
    void nanMinibatch_isSkippedWithZClipStatisticsUnchanged_andNormalStepsClip() {
        ClipHistory history = new ClipHistory(100);
        Networks.Fixture a = fixture(history);
        MultiLayerNetwork net = (MultiLayerNetwork) a.model();
        for (int i = 0; i < 3; i++) {
            a.fit();
        }
        net.fit(withNaN(a.data()));
        for (int i = 0; i < 3; i++) {
            a.fit();
        }
        Networks.Fixture b = fixture(new ClipHistory(100));
        for (int i = 0; i < 6; i++) {
            b.fit();
        }
        // the skipped step changed nothing: parameters and updater state (= ZClip's state with Sgd) as without it
        assertBitIdentical(a.model().params(), b.model().params(), "parameters");
        assertBitIdentical(updaterState(a.model()), updaterState(b.model()), "updater state (ZClip statistics)");
        assertThat(updaterState(a.model()).length()).as("one ZClip slot per parameter of the block")
                .isEqualTo(ZCLIP.stateSize() * 6L);

        List<ClipHistory.Step> steps = history.steps();
        assertThat(steps).hasSize(7);
        assertThat(steps.get(3).skipped()).isTrue();
        assertThat(steps.get(3).nonFinite()).as("NaN elements counted").isPositive();
        assertThat(history.skippedSteps()).isEqualTo(1);
        // the normal steps: ZClip scales (the cap 1e-3, warm-up or not), then value clipping moves elements
        AdaptiveReference.ZClipRef ref = new AdaptiveReference.ZClipRef(ZCLIP.getAlpha(), ZCLIP.getZThreshold(),
                ZCLIP.getMaxGradNorm(), ZCLIP.getEps(), ZCLIP.getWarmupSteps(), false, ZCLIP.getClipFactor(), false);
        for (int t = 0; t < steps.size(); t++) {
            ClipHistory.Step s = steps.get(t);
            if (s.skipped()) {
                continue;
            }
            AdaptiveReference.Step r = ref.step(s.normBefore());
            assertThat(r.clipped()).as("step %d is clipped by ZClip", t).isTrue();
            assertClose(s.minScale(), r.scale(), "step " + t + " ZClip scale");
            assertThat(s.clipped()).as("step %d: value clipping moved elements", t).isPositive();
            assertThat(s.normAfter()).isLessThan(s.normBefore());
        }
    }
}
