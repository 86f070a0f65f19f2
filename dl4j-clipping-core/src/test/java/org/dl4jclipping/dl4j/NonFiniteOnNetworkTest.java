package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.dl4jclipping.dl4j.NetworkTestSupport.assertBitIdentical;
import static org.dl4jclipping.dl4j.NetworkTestSupport.causeOfType;
import static org.dl4jclipping.dl4j.NetworkTestSupport.updaterState;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.NonFiniteGradientException;
import org.dl4jclipping.testing.Networks;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The non-finite policies on a real network (the MLP of {@link Networks}, Adam(1e-2)): two normal steps, then a
 * minibatch whose first example's features are all NaN. DL4J's forward pass accepts NaN input without complaint
 * and propagates it, so the loss and every gradient element that depends on that example is NaN: all 20
 * elements of layer 0's W (each column sums over the examples, one of which is NaN), and so on through the net.
 *
 * <p>SKIP_STEP leaves parameters and Adam's moments bit-identical (the wrapped updater is not called, and the
 * listener puts the parameters back after DL4J's step, which also undoes weight decay); FAIL (or no policy) throws
 * {@link NonFiniteGradientException} naming layer, parameter, iteration and count; ZERO replaces NaN by 0 and
 * training goes on with finite parameters.
 */
class NonFiniteOnNetworkTest {

    private static Networks.Fixture mlp(ClipStrategy strategy) {
        return Networks.mlp(lr -> new ClippingUpdater(new Adam(1e-2), strategy));
    }

    /** The fixture's minibatch with every feature of example 0 set to NaN. */
    private static DataSet nanBatch(Networks.Fixture f) {
        INDArray features = f.data().getFeatures().dup();
        features.getRow(0).assign(Double.NaN);
        return new DataSet(features, f.data().getLabels());
    }

    @Test
    void skipNonFinite_nanMinibatch_leavesParametersAndAdamStateBitIdentical_andTrainingResumes() {
        Networks.Fixture f = mlp(Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1)));
        MultiLayerNetwork net = (MultiLayerNetwork) f.model();
        ClipHistory history = new ClipHistory(10);
        net.addListeners(new ClippingListener(history));
        f.fit();
        f.fit();
        INDArray params = net.params().dup();
        INDArray state = updaterState(net).dup();
        assertThat(state.sumNumber().doubleValue()).as("Adam's moments are non-zero after 2 steps").isNotZero();

        net.fit(nanBatch(f));

        assertBitIdentical(net.params(), params, "parameters after the skipped step");
        assertBitIdentical(updaterState(net), state, "Adam state after the skipped step");
        assertThat(history.recorded()).isEqualTo(3);
        ClipHistory.Step skipped = history.steps().get(2);
        assertThat(skipped.skipped()).isTrue();
        assertThat(skipped.iteration()).isEqualTo(2);
        // example 0 is NaN throughout: every gradient element is a sum that includes it (all 5 + 6 + 3 biases
        // and 20 + 30 + 18 weights = 82 trainable elements)
        assertThat(skipped.nonFinite()).isEqualTo(net.numParams());
        assertThat(history.skippedSteps()).isEqualTo(1);

        f.fit();

        assertThat(history.steps().get(3).skipped()).isFalse();
        assertThat(NetworkTestSupport.maxAbsDiff(net.params(), params)).as("the next normal step trains").isPositive();
        assertThat(NetworkTestSupport.maxAbsDiff(updaterState(net), state)).isPositive();
        assertThat(net.params().isInfinite().any() || net.params().isNaN().any()).isFalse();
    }

    @Test
    void skipNonFinite_withWeightDecay_skippedStepStillLeavesParametersBitIdentical() {
        // Weight decay runs after the updater, inside DL4J's step, whatever the gradient: on its own it would move
        // the parameters by lr * 1e-2 * w even on a skipped step. The listener restores them in iterationDone.
        ClipStrategy strategy = Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1));
        Networks.Fixture f = Networks.mlpWithWeightDecay(lr -> new ClippingUpdater(new Adam(1e-2), strategy), 1e-2);
        MultiLayerNetwork net = (MultiLayerNetwork) f.model();
        net.addListeners(new ClippingListener());
        f.fit();
        f.fit();
        INDArray params = net.params().dup();
        INDArray state = updaterState(net).dup();

        net.fit(nanBatch(f));

        assertBitIdentical(net.params(), params, "parameters after the skipped step with weight decay");
        assertBitIdentical(updaterState(net), state, "Adam state after the skipped step with weight decay");
        f.fit();
        assertThat(NetworkTestSupport.maxAbsDiff(net.params(), params)).isPositive();
    }

    @Test
    void noPolicyOrFail_nanMinibatch_throwsNamingLayerParameterIterationAndCount() {
        for (ClipStrategy strategy : new ClipStrategy[] {Clip.globalNorm(1),
                Clip.chain(Clip.failOnNonFinite(), Clip.globalNorm(1))}) {
            Networks.Fixture f = mlp(strategy);
            MultiLayerNetwork net = (MultiLayerNetwork) f.model();
            net.addListeners(new ClippingListener());
            f.fit();
            f.fit();
            INDArray params = net.params().dup();

            Throwable t = catchThrowable(() -> net.fit(nanBatch(f)));

            NonFiniteGradientException e = causeOfType(t, NonFiniteGradientException.class);
            assertThat(e).as("%s: %s", strategy, t).isNotNull();
            // the first trainable parameter in the network's order: layer 0's W, 4 x 5 = 20 elements, all NaN
            assertThat(e.getLayer()).as("DL4J names MLN layers layer0, layer1, ...").isEqualTo("layer0");
            assertThat(e.getParam()).isEqualTo("W");
            assertThat(e.getIteration()).isEqualTo(2);
            assertThat(e.getCount()).isEqualTo(20);
            assertThat(e.getMessage()).contains("iteration 2", "layer 'layer0'", "parameter 'W'", "20 NaN or infinite",
                    "Clip.skipNonFinite()");
            // the listener throws before the updater runs: nothing was applied
            assertBitIdentical(net.params(), params, "parameters after the failed step");
        }
    }

    @Test
    void zeroNonFinite_nanMinibatch_trainingContinuesWithFiniteParameters() {
        Networks.Fixture f = mlp(Clip.chain(Clip.zeroNonFinite(), Clip.globalNorm(1)));
        MultiLayerNetwork net = (MultiLayerNetwork) f.model();
        ClipHistory history = new ClipHistory(10);
        net.addListeners(new ClippingListener(history));
        f.fit();
        f.fit();
        INDArray params = net.params().dup();

        net.fit(nanBatch(f));
        f.fit();

        ClipHistory.Step zeroed = history.steps().get(2);
        assertThat(zeroed.skipped()).isFalse();
        assertThat(zeroed.nonFinite()).isEqualTo(net.numParams());
        assertThat(zeroed.zeroed()).isEqualTo(net.numParams());
        assertThat(zeroed.normAfter()).as("an all-NaN gradient zeroed has norm 0").isZero();
        assertThat(net.params().isNaN().any() || net.params().isInfinite().any()).isFalse();
        // Adam's momentum still moves the parameters on the zero-gradient step, and the next step trains
        assertThat(NetworkTestSupport.maxAbsDiff(net.params(), params)).isPositive();
        assertThat(history.recorded()).isEqualTo(4);
    }
}
