package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.dl4jclipping.dl4j.NetworkTestSupport.assertBitIdentical;
import static org.dl4jclipping.dl4j.NetworkTestSupport.causeOfType;
import static org.dl4jclipping.dl4j.NetworkTestSupport.updaterState;

import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.NonFiniteGradientException;
import org.dl4jclipping.engine.SkipLimitExceededException;
import org.dl4jclipping.testing.Networks;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Non-finite gradients where users train: float32 networks (DL4J's default) as well as double, only some layers
 * clipped, the other layers with plain updaters of their own kind.
 *
 * <p>The network: MLP 4-16-16-3, global updater Adam(1e-2); layer 1 alone has a {@link ClippingUpdater}
 * (Adam(1e-2) with {@code chain(policy, globalNorm(1.0))}); layer 0 and the output layer are plain (layer 0 with
 * Nesterovs in {@link #partialRules_everyPolicy_nanMinibatch}). Batches of 8 examples with fixed seeds; the bad
 * batch has example 0's features all NaN, so the loss and every gradient element are NaN, in every layer.
 */
public class PartialRulesSafetyTest {

    private static final int BATCH = 8;

    /** The same MLP with {@code strategy} on every layer (Adam(1e-2)) and weight seed {@code seed}. */
    public static MultiLayerNetwork allClipped(DataType type, ClipStrategy strategy, long seed) {
        return mlp(type, seed, new ClippingUpdater(new Adam(1e-2), strategy), null, null);
    }

    static MultiLayerNetwork mlp(DataType type, ClipStrategy layer1, boolean nesterovsFirst) {
        return mlp(type, 42, new Adam(1e-2), nesterovsFirst ? new Nesterovs(1e-2, 0.9) : null,
                new ClippingUpdater(new Adam(1e-2), layer1));
    }

    /** MLP 4-16-16-3 with updater {@code global}; layers 0 and 1 take their own when not null. */
    private static MultiLayerNetwork mlp(DataType type, long seed, IUpdater global, IUpdater layer0,
                                         IUpdater layer1) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(type)
                .weightInit(WeightInit.XAVIER).updater(global).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.TANH).updater(layer0).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(16).activation(Activation.TANH).updater(layer1).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /**
     * Minibatch {@code seed}, from {@code java.util.Random(seed)} (ND4J's generator, reseeded after a fit, does not
     * repeat its sequence): N(0, 1) features, one-hot labels; example 0's features NaN when {@code nan}.
     */
    public static DataSet batch(DataType type, long seed, boolean nan) {
        java.util.Random r = new java.util.Random(seed);
        double[][] x = new double[BATCH][4];
        for (double[] row : x) {
            for (int j = 0; j < row.length; j++) {
                row[j] = r.nextGaussian();
            }
        }
        INDArray features = Nd4j.createFromArray(x).castTo(type);
        INDArray labels = Nd4j.zeros(type, BATCH, 3);
        for (int i = 0; i < BATCH; i++) {
            labels.putScalar(i, r.nextInt(3), 1.0);
        }
        if (nan) {
            features.getRow(0).assign(Double.NaN);
        }
        return new DataSet(features, labels);
    }

    static long nonFinite(INDArray a) {
        return a.isNaN().castTo(DataType.INT).sumNumber().longValue()
                + a.isInfinite().castTo(DataType.INT).sumNumber().longValue();
    }

    /**
     * Defect 1 of issue 13: with only layer 1 clipped, the NaN step was reported skipped but the plain layers'
     * Adam ran on NaN: 262 of 806 updater-state values became NaN, the next step wrote NaN into 131 of 403
     * parameters, and every later step was skipped. Now: 5 finite steps, the NaN step, 5 finite steps; the NaN
     * step leaves every parameter and the whole updater state bit-identical; the run ends with 0 non-finite
     * parameters, 1 skipped step, and the 5 later steps train.
     */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void skippedStep_withOneLayerClipped_leavesEveryParameterAndTheWholeUpdaterStateBitIdentical(DataType type) {
        MultiLayerNetwork net = mlp(type, Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1.0)), false);
        ClipHistory history = new ClipHistory(100);
        net.addListeners(new ClippingListener(history));
        assertThat(net.numParams()).isEqualTo(403);
        assertThat(updaterState(net).length()).as("Adam: 2 x 403 state values").isEqualTo(806);
        for (int s = 0; s < 5; s++) {
            net.fit(batch(type, s, false));
        }
        INDArray params = net.params().dup();
        INDArray state = updaterState(net).dup();

        net.fit(batch(type, 99, true));

        assertBitIdentical(net.params(), params, type + ": every parameter after the skipped step");
        assertBitIdentical(updaterState(net), state, type + ": the whole updater state after the skipped step");
        for (int s = 5; s < 10; s++) {
            net.fit(batch(type, s, false));
        }
        assertThat(nonFinite(net.params())).as("non-finite parameters after the run").isZero();
        assertThat(nonFinite(updaterState(net))).as("non-finite updater state after the run").isZero();
        assertThat(history.recorded()).isEqualTo(11);
        assertThat(history.skippedSteps()).as("skipped steps").isEqualTo(1);
        assertThat(history.steps().get(5).skipped()).isTrue();
        assertThat(history.steps().get(5).nonFinite()).as("every trainable element of the network is NaN")
                .isEqualTo(403);
        assertThat(history.steps().subList(6, 11)).noneMatch(ClipHistory.Step::skipped);
        assertThat(NetworkTestSupport.maxAbsDiff(net.params(), params)).as("the later steps train").isPositive();
    }

    /**
     * The same on a ComputationGraph (two inputs, a dense layer each, merged, output; Adam): only "denseB" is
     * clipped (a layer rule), and input "a" of the bad minibatch holds a NaN: the skipped step leaves every
     * parameter and the whole updater state bit-identical, and the next step trains with finite values.
     */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void skippedStep_onComputationGraphWithOneLayerClipped_leavesEverythingBitIdentical(DataType type) {
        Networks.Fixture f = Networks.inPrecision(type, () -> Networks.graph(lr -> new Adam(1e-2)));
        ComputationGraphConfiguration conf = ((ComputationGraph) f.model()).getConfiguration().clone();
        LayerClipping.rules().name("denseB", Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1.0))).applyTo(conf);
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        g.addListeners(new ClippingListener());
        g.fit(f.multiData());
        INDArray params = g.params().dup();
        INDArray state = updaterState(g).dup();
        MultiDataSet bad = f.multiData().copy();
        bad.getFeatures(0).putScalar(0, 0, Double.NaN);

        g.fit(bad);

        assertBitIdentical(g.params(), params, type + " graph parameters");
        assertBitIdentical(updaterState(g), state, type + " graph updater state");
        g.fit(f.multiData());
        assertThat(nonFinite(g.params())).isZero();
        assertThat(NetworkTestSupport.maxAbsDiff(g.params(), params)).isPositive();
    }

    static Stream<Arguments> policies() {
        return Stream.of(DataType.FLOAT, DataType.DOUBLE).flatMap(t -> Stream.of(
                Arguments.of(t, "skip"), Arguments.of(t, "zero"), Arguments.of(t, "fail"), Arguments.of(t, "none")));
    }

    /**
     * Partial rules with every non-finite policy, in float and double: layer 0 plain Nesterovs, layer 1 clipped
     * (Adam), the output layer plain Adam. SKIP: the whole network's update is skipped. ZERO: the policy of the
     * only rule is the network's, so the plain layers' NaN elements are zeroed too and every parameter stays
     * finite. FAIL and no policy: the step fails naming the first non-finite parameter of the rule (layer 1's W),
     * before anything is applied.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("policies")
    void partialRules_everyPolicy_nanMinibatch(DataType type, String policy) {
        ClipStrategy strategy = switch (policy) {
            case "skip" -> Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1.0));
            case "zero" -> Clip.chain(Clip.zeroNonFinite(), Clip.globalNorm(1.0));
            case "fail" -> Clip.chain(Clip.failOnNonFinite(), Clip.globalNorm(1.0));
            default -> Clip.globalNorm(1.0);
        };
        MultiLayerNetwork net = mlp(type, strategy, true);
        ClipHistory history = new ClipHistory(100);
        net.addListeners(new ClippingListener(history));
        net.fit(batch(type, 1, false));
        net.fit(batch(type, 2, false));
        INDArray params = net.params().dup();
        INDArray state = updaterState(net).dup();

        Throwable t = catchThrowable(() -> net.fit(batch(type, 99, true)));

        switch (policy) {
            case "skip" -> {
                assertThat(t).isNull();
                assertBitIdentical(net.params(), params, "parameters");
                assertBitIdentical(updaterState(net), state, "updater state (Nesterovs and both Adam blocks)");
            }
            case "zero" -> {
                assertThat(t).isNull();
                assertThat(history.steps().get(2).zeroed()).as("every element zeroed, plain layers too")
                        .isEqualTo(net.numParams());
                assertThat(nonFinite(net.params())).isZero();
                assertThat(nonFinite(updaterState(net))).isZero();
            }
            default -> {
                NonFiniteGradientException e = causeOfType(t, NonFiniteGradientException.class);
                assertThat(e).as("%s: %s", policy, t).isNotNull();
                assertThat(e.getLayer()).isEqualTo("layer1");
                assertThat(e.getParam()).isEqualTo("W");
                assertThat(e.getIteration()).isEqualTo(2);
                assertBitIdentical(net.params(), params, "parameters after the failed step");
                assertBitIdentical(updaterState(net), state, "updater state after the failed step");
            }
        }
        net.fit(batch(type, 3, false));
        assertThat(nonFinite(net.params())).as("the next finite step trains with finite parameters").isZero();
    }

    /**
     * Defect 2 of issue 13: a run whose data went bad skipped forever. With {@code skipNonFinite(3)}: three NaN
     * steps in a row are skipped, the fourth fails naming the parameters where NaN appeared, and applies nothing;
     * a finite step resets the count, after which three more are allowed.
     */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void consecutiveSkips_beyondTheLimit_failNamingTheParameters(DataType type) {
        MultiLayerNetwork net = mlp(type, Clip.chain(Clip.skipNonFinite(3), Clip.globalNorm(1.0)), false);
        ClipHistory history = new ClipHistory(100);
        net.addListeners(new ClippingListener(history));
        net.fit(batch(type, 1, false));
        for (int k = 0; k < 3; k++) {
            net.fit(batch(type, 90 + k, true));
        }
        assertThat(history.skippedSteps()).isEqualTo(3);
        INDArray params = net.params().dup();
        INDArray state = updaterState(net).dup();

        Throwable t = catchThrowable(() -> net.fit(batch(type, 93, true)));

        SkipLimitExceededException e = causeOfType(t, SkipLimitExceededException.class);
        assertThat(e).as("%s", t).isNotNull();
        assertThat(e.getConsecutiveSkips()).isEqualTo(3);
        assertThat(e.getIteration()).isEqualTo(4);
        assertThat(e.getParameters()).containsExactly("layer0/W", "layer0/b", "layer1/W", "layer1/b", "layer2/W",
                "layer2/b");
        assertThat(e.getMessage()).contains("iteration 4", "3 consecutive skipped steps", "layer1/W",
                "Clip.skipNonFinite(maxConsecutive)");
        assertBitIdentical(net.params(), params, "parameters after the failed step");
        assertBitIdentical(updaterState(net), state, "updater state after the failed step");

        net.fit(batch(type, 2, false));
        for (int k = 0; k < 3; k++) {
            net.fit(batch(type, 80 + k, true));
        }
        assertThat(history.skippedSteps()).as("a finite step resets the count").isEqualTo(6);
        assertThat(nonFinite(net.params())).isZero();
    }

    /** The default limit is documented as 10: ten skips in a row pass, the eleventh fails. */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT"})
    void defaultSkipLimit_isTen(DataType type) {
        MultiLayerNetwork net = mlp(type, Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1.0)), false);
        net.addListeners(new ClippingListener());
        for (int k = 0; k < 10; k++) {
            net.fit(batch(type, 90 + k, true));
        }
        Throwable t = catchThrowable(() -> net.fit(batch(type, 100, true)));
        assertThat(causeOfType(t, SkipLimitExceededException.class)).as("%s", t).isNotNull();
        assertThat(org.dl4jclipping.strategy.NonFinitePolicy.DEFAULT_MAX_CONSECUTIVE_SKIPS).isEqualTo(10);
    }
}
