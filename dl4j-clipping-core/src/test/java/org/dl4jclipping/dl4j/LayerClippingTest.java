package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.testing.Networks;
import org.dl4jclipping.testing.ReferenceClipping;
import org.dl4jclipping.testing.UnclippedGradient;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Layer-wise rules: {@link LayerClipping} chooses a strategy per layer by index, name or type, the first matching
 * rule wins, unmatched layers are not clipped, and each layer's update is exactly its own rule's clipping of the
 * mean gradient. Also: a second ClippingListener on one network fails instead of clipping twice.
 */
class LayerClippingTest {

    @Test
    void rulesByIndexAndType_clipEachLayerWithItsOwnStrategy_andLeaveUnmatchedLayersAlone() {
        Networks.Fixture plain = Networks.mlp(Sgd::new);
        UnclippedGradient u = UnclippedGradient.of(plain);
        // layer 0: value clipping at 30% of its largest element; output layer (2): layer norm at half its norm;
        // layer 1: no rule, so its update is the plain gradient
        double[][] g = u.gradients();
        int[] layerOf = u.layerOf();
        double c = 0.3 * maxAbs(g, layerOf, 0);
        double t = 0.5 * norm(g, layerOf, 2);
        ClipStrategy value = Clip.value(c);
        ClipStrategy layerNorm = Clip.layerNorm(t);

        Networks.Fixture clipped = Networks.mlp(Sgd::new);
        MultiLayerNetwork original = (MultiLayerNetwork) clipped.model();
        MultiLayerConfiguration conf = LayerClipping.rules().index(0, value).type(OutputLayer.class, layerNorm)
                .applyTo(original.getLayerWiseConfigurations().clone());
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init(original.params().dup(), true);
        net.addListeners(new ClippingListener());
        net.fit(plain.data());

        for (int i = 0; i < u.params.size(); i++) {
            UnclippedGradient.Param p = u.params.get(i);
            double[] expectedGrad = switch (p.layer()) {
                case 0 -> ReferenceClipping.apply(value, new double[][] {g[i]}, new int[] {0}).grads[0];
                case 2 -> scaled(g[i], Math.min(1.0, t / (norm(g, layerOf, 2) + 1e-6)));
                default -> g[i];
            };
            double[] after = UnclippedGradient.paramValues(net, p.key());
            for (int k = 0; k < after.length; k++) {
                double expected = p.values()[k] - expectedGrad[k];
                assertThat(after[k]).as("%s[%d]", p.key(), k)
                        .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-6 * Math.abs(expectedGrad[k])
                                + 1e-12));
            }
        }
        assertThat(conf.getConf(1).getLayer()).extracting(l -> ((DenseLayer) l).getIUpdater())
                .isInstanceOf(Sgd.class);
        assertThat(((DenseLayer) conf.getConf(0).getLayer()).getIUpdater()).isInstanceOf(ClippingUpdater.class);
    }

    @Test
    void firstMatchingRuleWins() {
        MultiLayerNetwork net = (MultiLayerNetwork) Networks.mlp(Sgd::new).model();
        MultiLayerConfiguration conf = LayerClipping.rules()
                .index(0, Clip.value(1.0))
                .type(DenseLayer.class, Clip.globalNorm(2.0)) // matches layers 0 and 1; layer 0 is taken
                .otherwise(Clip.zeroOut(3.0))
                .applyTo(net.getLayerWiseConfigurations().clone());
        assertThat(((DenseLayer) conf.getConf(0).getLayer()).getIUpdater())
                .isEqualTo(new ClippingUpdater(new Sgd(1.0), Clip.value(1.0)));
        assertThat(((DenseLayer) conf.getConf(1).getLayer()).getIUpdater())
                .isEqualTo(new ClippingUpdater(new Sgd(1.0), Clip.globalNorm(2.0)));
        assertThat(((OutputLayer) conf.getConf(2).getLayer()).getIUpdater())
                .isEqualTo(new ClippingUpdater(new Sgd(1.0), Clip.zeroOut(3.0)));
    }

    @Test
    void ruleByName_onComputationGraph_wrapsThatLayersUpdaterOnly() {
        Networks.Fixture f = Networks.graph(Sgd::new);
        var conf = ((org.deeplearning4j.nn.graph.ComputationGraph) f.model()).getConfiguration().clone();
        LayerClipping.rules().name("denseB", Clip.globalNorm(0.1)).applyTo(conf);
        var layerB = (DenseLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex) conf.getVertices().get("denseB"))
                .getLayerConf().getLayer();
        var layerA = (DenseLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex) conf.getVertices().get("denseA"))
                .getLayerConf().getLayer();
        assertThat(layerB.getIUpdater()).isEqualTo(new ClippingUpdater(new Sgd(1.0), Clip.globalNorm(0.1)));
        assertThat(layerA.getIUpdater()).isEqualTo(new Sgd(1.0));
    }

    private static double maxAbs(double[][] g, int[] layerOf, int layer) {
        double m = 0;
        for (int i = 0; i < g.length; i++) {
            if (layerOf[i] == layer) {
                for (double x : g[i]) {
                    m = Math.max(m, Math.abs(x));
                }
            }
        }
        return m;
    }

    private static double norm(double[][] g, int[] layerOf, int layer) {
        int[] members = java.util.stream.IntStream.range(0, g.length).filter(i -> layerOf[i] == layer).toArray();
        return ReferenceClipping.groupNorm(g, members, 2.0);
    }

    private static double[] scaled(double[] a, double s) {
        return Arrays.stream(a).map(x -> x * s).toArray();
    }
}
