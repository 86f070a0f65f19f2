package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Stream;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Scope;
import org.dl4jclipping.strategy.AdaGC;
import org.dl4jclipping.testing.Networks;
import org.dl4jclipping.testing.ReferenceClipping;
import org.dl4jclipping.testing.UnclippedGradient;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * The exactness matrix of issue 5 (AdaGC's first step and a chain through a fresh spike skip since issue 16):
 * for each strategy x scope x network, one {@code fit} with {@code Sgd(lr)}
 * changes every trainable parameter by exactly {@code -lr * clip(meanGradient)}, where the clipped gradient is
 * computed by the test's double-precision {@link ReferenceClipping} from the network's unclipped gradient.
 * Every case runs in DOUBLE and in FLOAT (DL4J's default), the reference always in double, applied to the
 * network's own unclipped mean gradient (in FLOAT: the float gradient, widened).
 *
 * <p>Tolerance on each element of the update {@code after - before}: DOUBLE 1e-6 relative. FLOAT 1e-6
 * relative plus one float ulp of the parameter after the step: the float path rounds the minibatch division,
 * the applied scale (or the float bound of a value clip) and the Sgd product once each (at most 2^-24
 * relative each, 1.8e-7 together), and the stored parameter {@code before - update} is rounded to float, an
 * absolute error of half an ulp of the parameter, which is large against a small update. Parameters that are not trained (BatchNorm statistics,
 * frozen layers) end exactly where the same network without clipping puts them.
 *
 * <p>Thresholds are set from the gradient itself (a fraction of its norm or largest element) so that every case
 * really clips, which the test also asserts: a case whose reference equals the unclipped gradient would prove
 * nothing.
 */
class IntegrationExactnessTest {

    /** A strategy chosen from the unclipped mean gradient (per parameter arrays, layer of each). */
    private record StrategyCase(String name, BiFunction<double[][], int[], ClipStrategy> make) {
        @Override
        public String toString() {
            return name;
        }
    }

    private record NetworkCase(String name, Function<Function<Double, IUpdater>, Networks.Fixture> make) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> matrix() {
        List<NetworkCase> networks = List.of(
                new NetworkCase("MLP", Networks::mlp),
                new NetworkCase("CNN", Networks::cnn),
                new NetworkCase("LSTM", u -> Networks.lstm(u, false)),
                new NetworkCase("LSTM-masked", u -> Networks.lstm(u, true)),
                new NetworkCase("Graph", Networks::graph),
                new NetworkCase("BatchNorm", Networks::batchNorm),
                new NetworkCase("Frozen", Networks::frozen),
                new NetworkCase("MixedUpdaters", Networks::mixedUpdaters));
        List<StrategyCase> strategies = List.of(
                new StrategyCase("value", (g, l) -> Clip.value(0.3 * maxAbs(g))),
                new StrategyCase("zeroOut", (g, l) -> Clip.zeroOut(0.3 * maxAbs(g))),
                new StrategyCase("norm2-PARAMETER", (g, l) -> Clip.parameterNorm(0.5 * median(perGroup(g, l,
                        Scope.PARAMETER)))),
                new StrategyCase("norm2-LAYER", (g, l) -> Clip.layerNorm(0.5 * median(perGroup(g, l, Scope.LAYER)))),
                new StrategyCase("norm2-GLOBAL", (g, l) -> Clip.globalNorm(0.5 * perGroup(g, l, Scope.GLOBAL)[0])),
                new StrategyCase("norm1-GLOBAL", (g, l) -> Clip.norm(0.5 * ReferenceClipping.groupNorm(g,
                        all(g.length), 1.0), 1.0, Scope.GLOBAL)),
                new StrategyCase("normInf-LAYER", (g, l) -> Clip.norm(0.5 * maxAbs(g), Double.POSITIVE_INFINITY,
                        Scope.LAYER)),
                new StrategyCase("chain", (g, l) -> Clip.chain(Clip.skipNonFinite(), Clip.value(0.5 * maxAbs(g)),
                        Clip.globalNorm(0.5 * perGroup(g, l, Scope.GLOBAL)[0]))),
                new StrategyCase("adaGC", (g, l) -> AdaGC.builder().lambdaAbs(0.5 * perGroup(g, l, Scope.GLOBAL)[0])
                        .build()),
                new StrategyCase("skipSpikes-chain", (g, l) -> Clip.chain(Clip.skipNonFinite(), Clip.skipSpikes(),
                        Clip.globalNorm(0.5 * perGroup(g, l, Scope.GLOBAL)[0]))));
        List<Arguments> args = new ArrayList<>();
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            for (NetworkCase n : networks) {
                for (StrategyCase s : strategies) {
                    args.add(Arguments.of(type, n, s));
                }
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} {1} x {2}")
    @MethodSource("matrix")
    void fit_withSgd_changesParametersByMinusClippedGradient(DataType type, NetworkCase network,
                                                             StrategyCase strategyCase) {
        // The unclipped mean gradient of the network as built with plain Sgd (same seed, same parameters).
        Networks.Fixture plain = Networks.inPrecision(type, () -> network.make().apply(Sgd::new));
        UnclippedGradient unclipped = UnclippedGradient.of(plain);
        double[][] g = unclipped.gradients();
        int[] layerOf = unclipped.layerOf();
        ClipStrategy strategy = strategyCase.make().apply(g, layerOf);
        ReferenceClipping.Outcome expected = ReferenceClipping.apply(strategy, g, layerOf);
        assertThat(expected.failed || expected.skipped).isFalse();
        assertThat(Arrays.deepEquals(expected.grads, g)).as("the case must really clip").isFalse();

        Networks.Fixture clipped = Networks.inPrecision(type,
                () -> network.make().apply(lr -> new ClippingUpdater(new Sgd(lr), strategy)));
        clipped.model().addListeners(new ClippingListener());
        clipped.fit();
        plain.fit();

        for (int i = 0; i < unclipped.params.size(); i++) {
            UnclippedGradient.Param p = unclipped.params.get(i);
            double lr = ((Sgd) p.updater()).getLearningRate();
            double[] after = UnclippedGradient.paramValues(clipped.model(), p.key());
            for (int k = 0; k < after.length; k++) {
                double actualUpdate = after[k] - p.values()[k];
                double expectedUpdate = -lr * expected.grads[i][k];
                double storage = type == DataType.FLOAT ? Math.ulp((float) after[k]) : 1e-15;
                assertThat(Math.abs(actualUpdate - expectedUpdate))
                        .as("%s %s: %s element %d update %s, expected %s", type, network, p.key(), k, actualUpdate,
                                expectedUpdate)
                        .isLessThanOrEqualTo(1e-6 * Math.max(Math.abs(expectedUpdate), Math.abs(actualUpdate))
                                + storage);
            }
        }
        for (String key : unclipped.untrained) {
            assertThat(UnclippedGradient.paramValues(clipped.model(), key))
                    .as("untrained parameter %s as without clipping", key)
                    .isEqualTo(UnclippedGradient.paramValues(plain.model(), key));
        }
    }

    static double maxAbs(double[][] g) {
        return ReferenceClipping.groupNorm(g, all(g.length), Double.POSITIVE_INFINITY);
    }

    static int[] all(int n) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        return a;
    }

    static double[] perGroup(double[][] g, int[] layerOf, Scope scope) {
        return ReferenceClipping.groups(scope, layerOf).stream()
                .mapToDouble(group -> ReferenceClipping.groupNorm(g, group, 2.0)).toArray();
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
