package org.dl4jclipping.constraint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * {@link WeightClipping#everyLayer} against DL4J 1.0.0-M2.1's own global constraints, on the MLP of
 * {@link ConstraintFixtures} whose middle layer has a constraint of its own ({@code UnitMaxNorm(100)}, far above
 * every column norm, so it never acts and only triggers DL4J's "own constraints replace global ones" rule).
 * Bound {@code c = 0.3}: after one SGD(1.0) step every layer of the unconstrained network has weights above it.
 */
class WeightClippingTest {

    private static final double C = 0.3;

    private static double maxAbsWeight(MultiLayerNetwork net, int layer) {
        return net.getLayer(layer).getParam("W").amaxNumber().doubleValue();
    }

    @Test
    void everyLayer_layerWithOwnConstraint_everyLayerEndsWithinBound() {
        MultiLayerConfiguration conf = WeightClipping.everyLayer(ConstraintFixtures.mlpConf(
                ConstraintFixtures.base(), null, new UnitMaxNorm(100.0), null), new WeightValueClip(C));
        assertThat(conf.getConf(1).getLayer().getConstraints()).hasSize(2)
                .first().isInstanceOf(UnitMaxNorm.class); // its own constraint is kept, first
        assertThat(conf.getConf(0).getLayer().getConstraints()).singleElement()
                .satisfies(c -> assertThat(c.getParams()).containsExactly("W"));
        MultiLayerNetwork free = ConstraintFixtures.init(ConstraintFixtures.mlpConf(ConstraintFixtures.base()));
        MultiLayerNetwork net = ConstraintFixtures.init(conf);
        free.fit(ConstraintFixtures.mlpData());
        net.fit(ConstraintFixtures.mlpData());
        for (int layer = 0; layer < 3; layer++) {
            assertThat(maxAbsWeight(free, layer)).as("layer %d crosses", layer).isGreaterThan(C);
            assertThat(ConstraintFixtures.param(net, layer, "W"))
                    .isEqualTo(Reference.valueClip(ConstraintFixtures.param(free, layer, "W"), C));
            assertThat(ConstraintFixtures.param(net, layer, "b")).isEqualTo(ConstraintFixtures.param(free, layer,
                    "b"));
        }
    }

    /** The M2.1 bug: the global builder's constrainAllParameters reaches no layer, so nothing is clipped. */
    @Test
    void dl4jGlobalConstrainAllParameters_doesNothingInM21() {
        MultiLayerConfiguration conf = ConstraintFixtures.mlpConf(
                ConstraintFixtures.base().constrainAllParameters(new WeightValueClip(C)));
        for (int layer = 0; layer < 3; layer++) {
            assertThat(conf.getConf(layer).getLayer().getConstraints()).as("layer %d", layer).isNull();
        }
        MultiLayerNetwork net = ConstraintFixtures.init(conf);
        net.fit(ConstraintFixtures.mlpData());
        for (int layer = 0; layer < 3; layer++) {
            assertThat(maxAbsWeight(net, layer)).as("layer %d unclipped", layer).isGreaterThan(C);
        }
    }

    /** The other M2.1 rule: a global constrainWeights reaches only the layers without a constraint of their own. */
    @Test
    void dl4jGlobalConstrainWeights_layerWithOwnConstraintLosesIt() {
        MultiLayerConfiguration conf = ConstraintFixtures.mlpConf(
                ConstraintFixtures.base().constrainWeights(new WeightValueClip(C)), null, new UnitMaxNorm(100.0),
                null);
        assertThat(conf.getConf(1).getLayer().getConstraints()).singleElement().isInstanceOf(UnitMaxNorm.class);
        MultiLayerNetwork net = ConstraintFixtures.init(conf);
        net.fit(ConstraintFixtures.mlpData());
        assertThat(maxAbsWeight(net, 0)).isLessThanOrEqualTo(C);
        assertThat(maxAbsWeight(net, 1)).isGreaterThan(C);
        assertThat(maxAbsWeight(net, 2)).isLessThanOrEqualTo(C);
    }

    @Test
    void everyLayer_computationGraph_everyLayerVertexEndsWithinBound() {
        ComputationGraphConfiguration conf = ConstraintFixtures.base().graphBuilder()
                .addInputs("in")
                .addLayer("dense", new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH)
                        .constrainWeights(new UnitMaxNorm(100.0)).build(), "in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "dense")
                .setOutputs("out")
                .build();
        assertThat(WeightClipping.everyLayer(conf, new UnitMaxNorm(0.8))).isSameAs(conf);
        assertThat(((LayerVertex) conf.getVertices().get("dense")).getLayerConf().getLayer().getConstraints())
                .hasSize(2);
        assertThat(ComputationGraphConfiguration.fromJson(conf.toJson())).isEqualTo(conf);
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        g.fit(new MultiDataSet(ConstraintFixtures.mlpData().getFeatures(), ConstraintFixtures.mlpData().getLabels()));
        for (String layer : new String[] {"dense", "out"}) {
            INDArray w = g.getLayer(layer).getParam("W");
            assertThat(java.util.Arrays.stream(Reference.unitNorms(w, false)).boxed().toList()).as(layer)
                    .allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(0.8 * (1 + 1e-6)));
        }
    }

    @Test
    void everyLayer_noConstraints_isRejected() {
        MultiLayerConfiguration conf = ConstraintFixtures.mlpConf(ConstraintFixtures.base());
        assertThatThrownBy(() -> WeightClipping.everyLayer(conf))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("constraints.length = 0 is out of range: must be >= 1");
    }
}
