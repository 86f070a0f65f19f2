package org.dl4jclipping.rnn.clipping;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Scope;
import org.dl4jclipping.rnn.models.Cell;
import org.dl4jclipping.testing.Networks;
import org.dl4jclipping.testing.ReferenceClipping;
import org.dl4jclipping.testing.UnclippedGradient;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Clipping on recurrent networks (DL4J's LSTM and this module's GRU), checked against {@code semantics.md}:
 * <ul>
 *   <li>with feature and label masks, one {@code fit} with {@code Sgd(lr)} changes every parameter by exactly
 *       {@code -lr * clip(meanGradient)}, the clipped gradient computed by the core test-jar's
 *       {@link ReferenceClipping} from the unclipped gradient (1e-6 relative), for global-norm, layer-norm and
 *       value clipping;</li>
 *   <li>masked steps add nothing: huge values in the masked positions of features and labels change neither
 *       the gradient, nor the clipping, nor the update;</li>
 *   <li>under truncated BPTT (forward = backward = 4, T = 10) each segment update is one clipping step: three
 *       steps per fit; the first segment's norm is the reference norm of the gradient of a network given only
 *       the first 4 steps (it starts from a zero state); every step ends at or below the threshold.</li>
 * </ul>
 */
class SequenceClippingTest {

    private static final double LR = 0.1;
    private static final int MB = 4;
    private static final int N_IN = 3;
    private static final int WIDTH = 4;
    private static final int CLASSES = 3;

    /**
     * cell(3 -> 4) -> cell(4 -> 4) -> RnnOutputLayer(4 -> 3) softmax MCXENT, double, seed 12345; a minibatch of
     * 4 sequences of {@code t} steps with lengths t, t-1, t-2, t-3 (feature and label masks) when {@code masked};
     * masked positions of features and labels hold {@code maskedFill}.
     */
    static Networks.Fixture fixture(Cell cell, IUpdater updater, int t, boolean masked, double maskedFill,
                                    int tbptt) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder().seed(Networks.SEED)
                .dataType(DataType.DOUBLE).weightInit(WeightInit.XAVIER).updater(updater).list()
                .layer(cell.layer(N_IN, WIDTH))
                .layer(cell.layer(WIDTH, WIDTH))
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(WIDTH).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).build());
        if (tbptt > 0) {
            list.backpropType(BackpropType.TruncatedBPTT).tBPTTForwardLength(tbptt).tBPTTBackwardLength(tbptt);
        }
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();

        Random r = new Random(7);
        INDArray x = Nd4j.create(DataType.DOUBLE, MB, N_IN, t);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, MB, CLASSES, t);
        INDArray mask = Nd4j.ones(DataType.DOUBLE, MB, t);
        for (int b = 0; b < MB; b++) {
            int length = masked ? t - b : t;
            for (int s = 0; s < t; s++) {
                boolean real = s < length;
                for (int i = 0; i < N_IN; i++) {
                    double v = 2 * r.nextGaussian();
                    x.putScalar(new int[] {b, i, s}, real ? v : maskedFill);
                }
                int c = r.nextInt(CLASSES);
                for (int k = 0; k < CLASSES; k++) {
                    y.putScalar(new int[] {b, k, s}, real ? (k == c ? 1.0 : 0.0) : maskedFill);
                }
                if (!real) {
                    mask.putScalar(b, s, 0.0);
                }
            }
        }
        DataSet ds = new DataSet(x, y);
        if (masked) {
            ds.setFeaturesMaskArray(mask);
            ds.setLabelsMaskArray(mask.dup());
        }
        return new Networks.Fixture(cell + (masked ? "-masked" : ""), net, ds, null);
    }

    private record StrategyCase(String name, BiFunction<double[][], int[], ClipStrategy> make) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> exactness() {
        List<StrategyCase> strategies = List.of(
                new StrategyCase("globalNorm", (g, l) -> Clip.globalNorm(0.5 * norms(g, l, Scope.GLOBAL)[0])),
                new StrategyCase("layerNorm", (g, l) -> Clip.layerNorm(0.5 * median(norms(g, l, Scope.LAYER)))),
                new StrategyCase("value", (g, l) -> Clip.value(0.3 * maxAbs(g))));
        List<Arguments> args = new ArrayList<>();
        for (Cell cell : Cell.values()) {
            for (StrategyCase s : strategies) {
                args.add(Arguments.of(cell, s));
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} x {1}")
    @MethodSource("exactness")
    void maskedFit_withSgd_changesParametersByMinusClippedMeanGradient(Cell cell, StrategyCase strategyCase) {
        Networks.Fixture plain = fixture(cell, new Sgd(LR), 6, true, 0.0, 0);
        UnclippedGradient unclipped = UnclippedGradient.of(plain);
        double[][] g = unclipped.gradients();
        int[] layerOf = unclipped.layerOf();
        assertThat(unclipped.untrained).isEmpty();
        ClipStrategy strategy = strategyCase.make().apply(g, layerOf);
        ReferenceClipping.Outcome expected = ReferenceClipping.apply(strategy, g, layerOf);
        assertThat(expected.failed || expected.skipped).isFalse();
        assertThat(Arrays.deepEquals(expected.grads, g)).as("the case must really clip").isFalse();

        ClipHistory history = new ClipHistory(10);
        Networks.Fixture clipped = fixture(cell, new ClippingUpdater(new Sgd(LR), strategy), 6, true, 0.0, 0);
        clipped.model().addListeners(new ClippingListener(history));
        clipped.fit();

        assertUpdate(unclipped, expected.grads, clipped);
        assertThat(history.recorded()).isEqualTo(1);
        assertThat(history.steps().get(0).normBefore())
                .isCloseTo(norms(g, layerOf, Scope.GLOBAL)[0], org.assertj.core.data.Percentage.withPercentage(1e-4));
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void maskedSteps_addNothing_evenWithHugeValues(Cell cell) {
        Networks.Fixture zeros = fixture(cell, new Sgd(LR), 6, true, 0.0, 0);
        Networks.Fixture huge = fixture(cell, new Sgd(LR), 6, true, 1e6, 0);
        assertThat(huge.data().getFeatures().maxNumber().doubleValue()).isEqualTo(1e6); // really there
        double[][] gz = UnclippedGradient.of(zeros).gradients();
        UnclippedGradient uh = UnclippedGradient.of(huge);
        double[][] gh = uh.gradients();
        for (int i = 0; i < gz.length; i++) {
            assertClose(gh[i], gz[i], 1e-12, uh.params.get(i).key() + " gradient");
        }

        // and the clipped step is the same: same norm recorded, same parameters after
        ClipStrategy strategy = Clip.globalNorm(0.5 * norms(gz, uh.layerOf(), Scope.GLOBAL)[0]);
        ClipHistory hz = new ClipHistory(10);
        ClipHistory hh = new ClipHistory(10);
        Networks.Fixture cz = fixture(cell, new ClippingUpdater(new Sgd(LR), strategy), 6, true, 0.0, 0);
        Networks.Fixture ch = fixture(cell, new ClippingUpdater(new Sgd(LR), strategy), 6, true, 1e6, 0);
        cz.model().addListeners(new ClippingListener(hz));
        ch.model().addListeners(new ClippingListener(hh));
        cz.fit();
        ch.fit();
        assertThat(hh.steps().get(0).normBefore()).isCloseTo(hz.steps().get(0).normBefore(),
                org.assertj.core.data.Percentage.withPercentage(1e-10));
        assertThat(hh.steps().get(0).minScale()).isLessThan(1.0);
        assertClose(UnclippedGradient.values(ch.model().params()), UnclippedGradient.values(cz.model().params()),
                1e-12, "parameters after the clipped fit");
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void truncatedBptt_eachSegmentIsOneClippingStep(Cell cell) {
        int t = 10;
        int segment = 4;
        // The first segment starts from a zero state: its gradient is that of the same network given only the
        // first 4 steps, with standard backpropagation.
        Networks.Fixture full = fixture(cell, new Sgd(LR), t, false, 0.0, 0);
        DataSet ds = full.data();
        DataSet first = new DataSet(
                ds.getFeatures().get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, segment)).dup(),
                ds.getLabels().get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, segment)).dup());
        UnclippedGradient firstGrad = UnclippedGradient.of(new Networks.Fixture("first", full.model(), first, null));
        double firstNorm = norms(firstGrad.gradients(), firstGrad.layerOf(), Scope.GLOBAL)[0];
        double threshold = 0.5 * firstNorm; // so that at least the first segment really clips

        ClipHistory history = new ClipHistory(100);
        Networks.Fixture tbptt = fixture(cell, new ClippingUpdater(new Sgd(LR), Clip.globalNorm(threshold)), t,
                false, 0.0, segment);
        assertThat(tbptt.model().params()).isEqualTo(full.model().params()); // same seed, same start
        tbptt.model().addListeners(new ClippingListener(history));
        tbptt.fit();

        List<ClipHistory.Step> steps = history.steps();
        assertThat(steps).as("segments of 4, 4 and 2 steps").hasSize(3);
        assertThat(steps.get(0).normBefore()).isCloseTo(firstNorm,
                org.assertj.core.data.Percentage.withPercentage(1e-4));
        assertThat(steps.get(0).minScale()).isLessThan(1.0);
        for (ClipHistory.Step s : steps) {
            assertThat(s.normAfter()).isLessThanOrEqualTo(threshold * (1 + 1e-6));
            assertThat(Double.isFinite(s.normBefore())).isTrue();
        }
        tbptt.fit();
        assertThat(history.recorded()).as("three steps per fit").isEqualTo(6);
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void truncatedBptt_firstSegmentUpdate_isMinusLrTimesClippedGradient(Cell cell) {
        // With T = 4 = the segment length, TBPTT is a single segment: one step, exactly the reference update.
        Networks.Fixture plain = fixture(cell, new Sgd(LR), 4, true, 0.0, 0);
        UnclippedGradient unclipped = UnclippedGradient.of(plain);
        double[][] g = unclipped.gradients();
        ClipStrategy strategy = Clip.globalNorm(0.5 * norms(g, unclipped.layerOf(), Scope.GLOBAL)[0]);
        ReferenceClipping.Outcome expected = ReferenceClipping.apply(strategy, g, unclipped.layerOf());
        ClipHistory history = new ClipHistory(10);
        Networks.Fixture clipped = fixture(cell, new ClippingUpdater(new Sgd(LR), strategy), 4, true, 0.0, 4);
        clipped.model().addListeners(new ClippingListener(history));
        clipped.fit();
        assertThat(history.recorded()).isEqualTo(1);
        assertUpdate(unclipped, expected.grads, clipped);
    }

    // ---- helpers

    private static void assertUpdate(UnclippedGradient unclipped, double[][] expectedGrads, Networks.Fixture fitted) {
        for (int i = 0; i < unclipped.params.size(); i++) {
            UnclippedGradient.Param p = unclipped.params.get(i);
            double[] after = UnclippedGradient.paramValues(fitted.model(), p.key());
            for (int k = 0; k < after.length; k++) {
                double actualUpdate = after[k] - p.values()[k];
                double expectedUpdate = -LR * expectedGrads[i][k];
                assertThat(Math.abs(actualUpdate - expectedUpdate))
                        .as("%s: %s element %d update %s, expected %s", fitted.name(), p.key(), k, actualUpdate,
                                expectedUpdate)
                        .isLessThanOrEqualTo(1e-6 * Math.max(Math.abs(expectedUpdate), Math.abs(actualUpdate))
                                + 1e-15);
            }
        }
    }

    private static void assertClose(double[] actual, double[] expected, double rel, String what) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int k = 0; k < actual.length; k++) {
            assertThat(Math.abs(actual[k] - expected[k])).as("%s element %d: %s vs %s", what, k, actual[k],
                    expected[k]).isLessThanOrEqualTo(rel * Math.abs(expected[k]) + 1e-300);
        }
    }

    static double[] norms(double[][] g, int[] layerOf, Scope scope) {
        return ReferenceClipping.groups(scope, layerOf).stream()
                .mapToDouble(group -> ReferenceClipping.groupNorm(g, group, 2.0)).toArray();
    }

    static double maxAbs(double[][] g) {
        int[] all = new int[g.length];
        Arrays.setAll(all, i -> i);
        return ReferenceClipping.groupNorm(g, all, Double.POSITIVE_INFINITY);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
