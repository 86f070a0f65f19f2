package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.strategy.AdaGC;
import org.dl4jclipping.strategy.AutoClip;
import org.dl4jclipping.strategy.SkipSpikes;
import org.dl4jclipping.strategy.ZClip;
import org.dl4jclipping.testing.Networks;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Adaptive state survives checkpoints: training k steps, saving with {@code ModelSerializer}, restoring and
 * training n more gives parameters and updater state (the wrapped Adam's moments and the strategy's history or
 * statistics) bit-identical to k + n uninterrupted steps; for each adaptive strategy, in MultiLayerNetwork and
 * ComputationGraph. And one network's state never leaks into another's: two networks trained in turn in one JVM
 * end exactly as each trained alone.
 */
class AdaptiveCheckpointTest {

    private static final int K = 4;
    private static final int N = 5;

    static Stream<Arguments> cases() {
        // small windows and warm-ups so that the adaptive paths (percentile of a full window, post-warm-up
        // z-scores) are reached within K + N steps
        List<ClipStrategy> strategies = List.of(
                new AutoClip(50, 3),
                ZClip.builder().warmupSteps(3).zThreshold(0.5).maxGradNorm(Double.POSITIVE_INFINITY).build(),
                Clip.agc(0.01).includingOutputLayer(),
                Clip.chain(Clip.skipNonFinite(), ZClip.builder().warmupSteps(2).build(), new AutoClip(30, 4)),
                AdaGC.builder().warmupSteps(3).lambdaAbs(0.5).lambdaRel(0.9).build(),
                Clip.chain(Clip.skipNonFinite(), SkipSpikes.builder().window(4).sigmaFactor(0.5).build(),
                        AdaGC.builder().warmupSteps(2).lambdaRel(0.8).build()));
        return strategies.stream().flatMap(s -> Stream.of(
                Arguments.of(s, "MLP", DataType.DOUBLE), Arguments.of(s, "Graph", DataType.DOUBLE),
                Arguments.of(s, "MLP", DataType.FLOAT)));
    }

    private static Networks.Fixture fixture(ClipStrategy s, String kind, DataType type) {
        Function<Double, IUpdater> up = lr -> new ClippingUpdater(new Adam(0.05 * lr), s);
        Networks.Fixture f = Networks.inPrecision(type,
                () -> kind.equals("MLP") ? Networks.batchNorm(up) : Networks.graph(up));
        f.model().addListeners(new ClippingListener());
        return f;
    }

    @ParameterizedTest(name = "{0} on {1} {2}")
    @MethodSource("cases")
    void saveRestoreContinue_isBitIdenticalToUninterrupted(ClipStrategy s, String kind, DataType type)
            throws Exception {
        Networks.Fixture straight = fixture(s, kind, type);
        for (int i = 0; i < K + N; i++) {
            straight.fit();
        }
        Networks.Fixture first = fixture(s, kind, type);
        for (int i = 0; i < K; i++) {
            first.fit();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(first.model(), bytes, true);
        Model restored = kind.equals("MLP")
                ? ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes.toByteArray()), true)
                : ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes.toByteArray()), true);
        restored.addListeners(new ClippingListener());
        Networks.Fixture resumed = new Networks.Fixture(kind, restored, first.data(), first.multiData());
        for (int i = 0; i < N; i++) {
            resumed.fit();
        }
        assertBitIdentical(resumed.model().params(), straight.model().params(), "parameters");
        assertBitIdentical(updaterState(resumed.model()), updaterState(straight.model()), "updater state");
    }

    @ParameterizedTest(name = "{0} on {1} {2}")
    @MethodSource("cases")
    void twoNetworksInTurn_endAsEachAlone(ClipStrategy s, String kind, DataType type) {
        Networks.Fixture alone = fixture(s, kind, type);
        for (int i = 0; i < K; i++) {
            alone.fit();
        }
        Networks.Fixture a = fixture(s, kind, type);
        Networks.Fixture b = fixture(s, kind, type);
        for (int i = 0; i < K; i++) {
            a.fit();
            b.fit();
            b.fit(); // b runs ahead, so any shared state would show in a
        }
        assertBitIdentical(a.model().params(), alone.model().params(), "parameters of a");
        assertBitIdentical(updaterState(a.model()), updaterState(alone.model()), "updater state of a");
    }

    static INDArray updaterState(Model m) {
        return m instanceof MultiLayerNetwork net ? net.getUpdater().getStateViewArray()
                : ((ComputationGraph) m).getUpdater().getStateViewArray();
    }

    static void assertBitIdentical(INDArray actual, INDArray expected, String what) {
        double[] a = actual.dup().data().asDouble();
        double[] e = expected.dup().data().asDouble();
        assertThat(a.length).as(what + " length").isEqualTo(e.length);
        for (int i = 0; i < a.length; i++) {
            assertThat(Double.doubleToRawLongBits(a[i])).as("%s element %d: %s vs %s", what, i, a[i], e[i])
                    .isEqualTo(Double.doubleToRawLongBits(e[i]));
        }
    }
}
