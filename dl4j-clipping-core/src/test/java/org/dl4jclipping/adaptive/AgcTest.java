package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dl4jclipping.adaptive.GlobalNormDriver.assertClose;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.GradientLayout;
import org.dl4jclipping.strategy.AdaptiveGradientClip;
import org.dl4jclipping.testing.Networks;
import org.dl4jclipping.testing.UnclippedGradient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * AGC per unit against {@link AdaptiveReference#agc}: at the engine level on DL4J-shaped parameters (dense
 * {@code W [nIn, nOut]}: a unit is a column; LSTM {@code W [nIn, 4nOut]}, {@code RW [nOut, 4nOut]}: columns;
 * convolution {@code W [out, in, kh, kw]}: an output channel; biases {@code [1, n]}: one unit), to 1e-12, and on
 * real DL4J networks with {@code Sgd}: one {@code fit} changes each parameter by {@code -lr * AGC(mean gradient)}
 * to 1e-6 relative. The output layer is left unclipped by default (the paper, timm), clipped with
 * {@code includingOutputLayer()}; {@code excluding(name)} leaves a layer unclipped.
 *
 * <p>The clip factor is chosen as the median of the units' ratios {@code ||G_i|| / max(||W_i||, eps)}, so about
 * half the units clip and half do not; each case asserts both kinds occur.
 */
class AgcTest {

    private static final double EPS_W = AdaptiveGradientClip.DEFAULT_EPS;

    /** One parameter of the engine-level layout. */
    private record P(String layer, String name, INDArray w, INDArray g) {
        double[] wc() {
            return w.dup('c').data().asDouble();
        }

        double[] gc() {
            return g.dup('c').data().asDouble();
        }
    }

    private static INDArray rand(long seed, char order, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.DOUBLE, shape).dup(order);
    }

    /** Gradient columns / channels at very different scales, so that a middle clip factor splits the units. */
    private static INDArray spread(INDArray g) {
        int units = (int) (g.rank() == 2 && g.size(0) > 1 ? g.size(1) : g.rank() > 2 ? g.size(0) : 1);
        for (int u = 0; u < units; u++) {
            double f = Math.pow(10, (u % 5) - 2.0); // 0.01 .. 100
            if (g.rank() == 2 && g.size(0) > 1) {
                g.getColumn(u).muli(f);
            } else if (g.rank() > 2) {
                g.slice(u).muli(f);
            }
        }
        return g;
    }

    /** Dense, LSTM, convolution, and an output layer, with DL4J's shapes and orders ('f' for dense/LSTM W). */
    private static List<P> params() {
        List<P> p = new ArrayList<>();
        p.add(new P("dense", "W", rand(1, 'f', 4, 5), spread(rand(2, 'f', 4, 5))));
        p.add(new P("dense", "b", rand(3, 'c', 1, 5), rand(4, 'c', 1, 5).muli(0.1)));
        p.add(new P("lstm", "W", rand(5, 'f', 3, 16), spread(rand(6, 'f', 3, 16))));
        p.add(new P("lstm", "RW", rand(7, 'f', 4, 16), spread(rand(8, 'f', 4, 16))));
        p.add(new P("lstm", "b", rand(9, 'c', 1, 16), rand(10, 'c', 1, 16)));
        p.add(new P("conv", "W", rand(11, 'c', 3, 2, 3, 3), spread(rand(12, 'c', 3, 2, 3, 3))));
        p.add(new P("conv", "b", rand(13, 'c', 1, 3), rand(14, 'c', 1, 3).muli(0.001)));
        p.add(new P("out", "W", rand(15, 'f', 5, 3), rand(16, 'f', 5, 3).muli(10)));
        p.add(new P("out", "b", rand(17, 'c', 1, 3), rand(18, 'c', 1, 3)));
        // a dense column of zero weights: its bound is lambda * eps (timm's eps)
        p.get(0).w().getColumn(2).assign(0.0);
        return p;
    }

    private static GradientLayout layout(List<P> ps) {
        GradientLayout.Builder b = GradientLayout.builder();
        for (P p : ps) {
            b.add(p.layer(), p.name(), p.g(), p.w());
        }
        return b.build(); // the last layer, "out", is the output layer
    }

    /** Runs AGC through the engine and compares each parameter with the reference (or with no change). */
    private static long[] engineMatchesReference(AdaptiveGradientClip agc, List<String> unclippedLayers) {
        List<P> ps = params();
        double[][] before = ps.stream().map(P::gc).toArray(double[][]::new);
        ClipReport report = new Clipper(agc, layout(ps)).clip(0);
        long clipped = 0;
        long units = 0;
        for (int i = 0; i < ps.size(); i++) {
            P p = ps.get(i);
            double[] actual = p.gc();
            if (unclippedLayers.contains(p.layer())) {
                assertThat(actual).as("%s/%s excluded: unchanged", p.layer(), p.name()).isEqualTo(before[i]);
                assertThat(report.scale(i)).isEqualTo(1.0);
                continue;
            }
            AdaptiveReference.AgcResult ref = AdaptiveReference.agc(p.wc(), before[i], p.w().shape(),
                    !p.name().equals("b"), agc.getClipFactor(), agc.getEps());
            for (int k = 0; k < actual.length; k++) {
                assertClose(actual[k], ref.gradient()[k], p.layer() + "/" + p.name() + " element " + k);
            }
            double minScale = Arrays.stream(ref.unitScale()).min().orElse(1.0);
            if (minScale < 1.0) {
                assertClose(report.scale(i), minScale, p.layer() + "/" + p.name() + " smallest unit scale");
            } else {
                assertThat(report.scale(i)).isEqualTo(1.0);
            }
            clipped += ref.clippedUnits();
            units += ref.unitScale().length;
        }
        return new long[] {clipped, units};
    }

    @Test
    void engine_denseLstmConv_perUnitAsTheReference_outputExcluded() {
        long[] c = engineMatchesReference(AdaptiveGradientClip.of(0.1), List.of("out"));
        assertThat(c[0]).as("some units clip").isGreaterThan(0).as("some do not").isLessThan(c[1]);
        // units: dense 5 columns + 1 bias, LSTM 16 + 16 columns + 1 bias, conv 3 channels + 1 bias
        assertThat(c[1]).isEqualTo(5 + 1 + 16 + 16 + 1 + 3 + 1);
    }

    @Test
    void engine_includingOutputLayer_clipsItToo_andExcludingNamesLeavesLayersAlone() {
        long[] all = engineMatchesReference(AdaptiveGradientClip.of(0.1).includingOutputLayer(), List.of());
        assertThat(all[1]).isEqualTo(43 + 3 + 1);
        engineMatchesReference(AdaptiveGradientClip.of(0.1).includingOutputLayer().excluding("lstm"),
                List.of("lstm"));
        engineMatchesReference(AdaptiveGradientClip.of(0.1).excluding("conv", "dense"),
                List.of("conv", "dense", "out"));
    }

    @Test
    void engine_zeroWeightColumn_isBoundedByLambdaTimesEps() {
        // dense column 2 has zero weights: its gradient is clipped to norm lambda * 1e-3 = 1e-4
        List<P> ps = params();
        new Clipper(AdaptiveGradientClip.of(0.1), layout(ps)).clip(0);
        assertClose(ps.get(0).g().getColumn(2).norm2Number().doubleValue(), 0.1 * EPS_W, "zero-weight unit");
    }

    @Test
    void engine_unitExactlyAtTheBound_isLeftUnchanged() {
        // ||G_i|| == lambda * ||W_i||: timm's >= clips with the factor max / ||G_i|| = 1, i.e. no change
        INDArray w = Nd4j.createFromArray(new double[][] {{3, 1}, {4, 1}});   // column norms 5, sqrt 2
        INDArray g = Nd4j.createFromArray(new double[][] {{0.3, 10}, {0.4, 0}}); // 0.5 = 0.1 * 5; 10 > 0.1 * sqrt 2
        GradientLayout layout = GradientLayout.builder().add("a", "W", g, w).add("z", "W",
                Nd4j.zeros(DataType.DOUBLE, 2, 2), Nd4j.ones(DataType.DOUBLE, 2, 2)).build();
        ClipReport r = new Clipper(AdaptiveGradientClip.of(0.1), layout).clip(0);
        assertThat(g.getDouble(0, 0)).isEqualTo(0.3);
        assertThat(g.getDouble(1, 0)).isEqualTo(0.4);
        assertClose(g.getDouble(0, 1), 10 * 0.1 * Math.sqrt(2) / 10, "column 1 scaled to 0.1 * sqrt 2");
        assertClose(r.scale(0), 0.1 * Math.sqrt(2) / 10, "report: the smallest unit scale");
    }

    // ---------------------------------------------------------------- real networks

    private record NetworkCase(String name, Function<Function<Double, IUpdater>, Networks.Fixture> make) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** A variant of AGC on a network: how to build it from lambda, and which layers it leaves unclipped. */
    private record Variant(String name, Function<Double, AdaptiveGradientClip> make, boolean outputClipped,
                           String excluded) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> networks() {
        List<NetworkCase> nets = List.of(new NetworkCase("MLP", Networks::mlp),
                new NetworkCase("LSTM", u -> Networks.lstm(u, false)), new NetworkCase("CNN", Networks::cnn));
        List<Variant> variants = List.of(
                new Variant("default (output excluded)", AdaptiveGradientClip::of, false, null),
                new Variant("includingOutputLayer", l -> AdaptiveGradientClip.of(l).includingOutputLayer(), true,
                        null),
                new Variant("excluding(first layer)", l -> AdaptiveGradientClip.of(l).includingOutputLayer()
                        .excluding("0"), true, "0"));
        List<Arguments> args = new ArrayList<>();
        for (NetworkCase n : nets) {
            for (Variant v : variants) {
                args.add(Arguments.of(n, v));
            }
        }
        return args.stream();
    }

    private static String layerName(MultiLayerNetwork net, int l) {
        String name = net.getLayer(l).conf().getLayer().getLayerName();
        return name == null ? String.valueOf(l) : name;
    }

    /**
     * Regression: DL4J's updater-block views are flat {@code [1, n]} rows; before {@code NetworkClipping} viewed
     * them in the parameter's shape, AGC in a network took one norm per parameter tensor instead of one per unit
     * and this test failed on 8 of its 9 cases.
     */
    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("networks")
    void network_sgdUpdate_isMinusLrTimesAgcOfTheMeanGradient(NetworkCase network, Variant variant) {
        Networks.Fixture plain = network.make().apply(Sgd::new);
        MultiLayerNetwork plainNet = (MultiLayerNetwork) plain.model();
        UnclippedGradient u = UnclippedGradient.of(plain);
        int outputLayer = plainNet.getnLayers() - 1;
        String excluded = variant.excluded() == null ? null : layerName(plainNet, Integer.parseInt(variant.excluded()));
        // which parameters AGC clips, and the clip factor that splits their units
        boolean[] clipped = new boolean[u.params.size()];
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < clipped.length; i++) {
            UnclippedGradient.Param p = u.params.get(i);
            String name = layerName(plainNet, p.layer());
            clipped[i] = (variant.outputClipped() || p.layer() != outputLayer) && !name.equals(excluded);
            if (clipped[i]) {
                long[] shape = plainNet.getParam(p.key()).shape();
                ratioOfUnits(p, shape, ratios);
            }
        }
        double lambda = median(ratios);

        long clippedUnits = 0;
        long units = 0;
        double[][] expected = new double[clipped.length][];
        for (int i = 0; i < clipped.length; i++) {
            UnclippedGradient.Param p = u.params.get(i);
            if (!clipped[i]) {
                expected[i] = p.meanGradient();
                continue;
            }
            AdaptiveReference.AgcResult r = AdaptiveReference.agc(p.values(), p.meanGradient(),
                    plainNet.getParam(p.key()).shape(), isWeightKey(p.key()), lambda, EPS_W);
            expected[i] = r.gradient();
            clippedUnits += r.clippedUnits();
            units += r.unitScale().length;
        }
        assertThat(clippedUnits).as("some units clip").isGreaterThan(0).as("some do not").isLessThan(units);

        Networks.Fixture fixture = network.make().apply(lr -> new ClippingUpdater(new Sgd(lr), agcFor(lambda,
                variant, excluded)));
        fixture.model().addListeners(new ClippingListener());
        fixture.fit();
        for (int i = 0; i < clipped.length; i++) {
            UnclippedGradient.Param p = u.params.get(i);
            double lr = ((Sgd) p.updater()).getLearningRate();
            double[] after = UnclippedGradient.paramValues(fixture.model(), p.key());
            for (int k = 0; k < after.length; k++) {
                double actual = after[k] - p.values()[k];
                double exp = -lr * expected[i][k];
                assertThat(Math.abs(actual - exp))
                        .as("%s %s: %s element %d update %s, expected %s (%s)", network, variant, p.key(), k, actual,
                                exp, clipped[i] ? "AGC" : "unclipped")
                        .isLessThanOrEqualTo(1e-6 * Math.max(Math.abs(exp), Math.abs(actual)) + 1e-15);
            }
        }
    }

    private static AdaptiveGradientClip agcFor(double lambda, Variant v, String excluded) {
        return v.excluded() == null ? v.make().apply(lambda)
                : AdaptiveGradientClip.of(lambda).includingOutputLayer().excluding(excluded);
    }

    /** Adds {@code ||G_i|| / max(||W_i||, eps)} of each unit (the lambda at which the unit starts to clip). */
    private static void ratioOfUnits(UnclippedGradient.Param p, long[] shape, List<Double> out) {
        // AGC with lambda -> infinity never clips; with a tiny lambda every unit clips with scale
        // lambda * max(||W_i||, eps) / ||G_i||, so the ratio is lambda / scale
        double tiny = 1e-200;
        for (double s : AdaptiveReference.agc(p.values(), p.meanGradient(), shape, isWeightKey(p.key()), tiny,
                EPS_W).unitScale()) {
            out.add(tiny / s);
        }
    }

    /** DL4J's weight keys in these networks: {@code W} and {@code RW} (biases are {@code b}). */
    static boolean isWeightKey(String key) {
        return key.endsWith("_W") || key.endsWith("_RW");
    }

    private static double median(List<Double> v) {
        double[] s = v.stream().mapToDouble(Double::doubleValue).filter(Double::isFinite).sorted().toArray();
        return s[s.length / 2];
    }
}
