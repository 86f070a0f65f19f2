package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.StateDoubles;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How listeners live with networks: a second listener on one network, and one listener over many networks. The
 * network is the float32 MLP 4-16-16-3 of {@link PartialRulesSafetyTest} with AutoClip(50) on layer 1 (its history
 * lives in the updater state, so a second clipping would show there).
 */
class ListenerLifecycleTest {

    private static MultiLayerNetwork net() {
        return PartialRulesSafetyTest.mlp(DataType.FLOAT, Clip.autoClip(50), false);
    }

    /** AutoClip's state (count, then the ring of norms) in the network's updater state. */
    private static INDArray autoClipState(MultiLayerNetwork net) {
        return NetworkTestSupport.ruleState(net);
    }

    /**
     * Defect 4 of issue 13: a second ClippingListener clipped the clipped gradient and appended it to AutoClip's
     * history before failing, and the network then failed every later fit, with any listener. Now the second one
     * does nothing: after three steps with two listeners AutoClip's history holds three norms (not six), each the
     * norm the first listener reported before clipping; the second listener's consumer never sees a report; after
     * {@code setListeners} with a brand-new listener the network trains on and the history grows by one per step.
     */
    @Test
    void secondListener_changesNothing_andTheNetworkTrainsAgainWithOne() {
        MultiLayerNetwork net = net();
        List<ClipReport> secondReports = new ArrayList<>();
        ClipHistory first = new ClipHistory(10);
        net.addListeners(new ClippingListener(first), new ClippingListener(r -> secondReports.add(r.copy())));
        for (int s = 0; s < 3; s++) {
            net.fit(PartialRulesSafetyTest.batch(DataType.FLOAT, s, false));
        }
        assertThat(secondReports).as("the second listener did nothing").isEmpty();
        INDArray state = autoClipState(net);
        assertThat(StateDoubles.get(state, 0)).as("norms in AutoClip's history").isEqualTo(3.0);
        int layer1 = 1;
        for (int s = 0; s < 3; s++) {
            assertThat(StateDoubles.get(state, 1 + s)).as("history norm %d", s)
                    .isCloseTo(first.steps().get(s).layerNormBefore()[layer1], within(1e-12));
        }

        ClipHistory history = new ClipHistory(10);
        net.setListeners(new ClippingListener(history));
        INDArray before = net.params().dup();
        for (int s = 3; s < 5; s++) {
            net.fit(PartialRulesSafetyTest.batch(DataType.FLOAT, s, false));
        }
        assertThat(history.recorded()).isEqualTo(2);
        assertThat(StateDoubles.get(autoClipState(net), 0)).isEqualTo(5.0);
        assertThat(NetworkTestSupport.maxAbsDiff(net.params(), before)).as("it trains").isPositive();
    }

    /**
     * Defect 5 of issue 13: one listener fitted over 300 networks kept all of them alive (its entry held the
     * network's updater, which holds the network). Now 40 networks fitted once each with one listener and then
     * dropped are all collected: a WeakReference to each is cleared after garbage collection, while the listener
     * is still in use.
     */
    @Test
    void listenerReusedOverManyNetworks_doesNotKeepThemAlive() throws InterruptedException {
        ClippingListener shared = new ClippingListener();
        List<WeakReference<MultiLayerNetwork>> refs = new ArrayList<>();
        for (int k = 0; k < 40; k++) {
            MultiLayerNetwork n = net();
            n.addListeners(shared);
            n.fit(PartialRulesSafetyTest.batch(DataType.FLOAT, k, false));
            refs.add(new WeakReference<>(n));
        }
        MultiLayerNetwork alive = net();
        alive.addListeners(shared);
        for (int attempt = 0; attempt < 20 && refs.stream().anyMatch(r -> r.get() != null); attempt++) {
            System.gc();
            Thread.sleep(50);
        }
        assertThat(refs.stream().filter(r -> r.get() != null).count()).as("networks still reachable").isZero();
        INDArray before = alive.params().dup();
        alive.fit(PartialRulesSafetyTest.batch(DataType.FLOAT, 99, false));
        assertThat(NetworkTestSupport.maxAbsDiff(alive.params(), before)).as("the listener still clips and trains")
                .isPositive();
    }
}
