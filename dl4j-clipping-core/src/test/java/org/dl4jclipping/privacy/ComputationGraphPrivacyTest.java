package org.dl4jclipping.privacy;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.dl4jclipping.privacy.PrivateNets.Case;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
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
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Per-example gradients and DP-SGD for a {@code ComputationGraph} (privacy.md, "Per-example gradients"; issue 26,
 * item 1). The graphs: ones equal to {@link PrivateNets#mlp} (a chain), {@link PrivateNets#lstm} (LSTM +
 * RnnOutputLayer with feature and label masks, variable lengths: the generic path), {@link PrivateNets#timeSeries}
 * (Dense on each time step through the graph's preprocessors, masks) and {@link PrivateNets#embedding}; one with two
 * inputs, two outputs and two branches joined by an {@code ElementWiseVertex} (add) and a {@code MergeVertex}, its
 * vertices declared out of topological order; one merging two Dense branches on each time step of a masked
 * sequence; one with a parameterless {@code ActivationLayer} between Dense layers and a {@code LossLayer} output.
 *
 * <p>What is expected, and why:
 * <ul>
 *   <li>Each row of the graph's per-example gradients, read by parameter key ({@code LayerViews}), equals what the
 *       graph's own {@code computeGradientAndScore} puts under {@code "<vertex>_<key>"} for that example alone:
 *       the same computation on the generic path (0 difference), the same sums in another order on the fast path
 *       (rounding only); the tolerance is 1e-12 relative (double), 1e-6 (float). Read by key, not by offset, this
 *       checks that the flattened layout is DL4J's. The fast path's gradients, norms and clipped sums equal the
 *       generic path's to the same tolerances.</li>
 *   <li>Summed over the batch they equal the graph's batch gradient (DL4J sums the examples' losses): rounding of
 *       a sum of B terms only, so 1e-11 relative (double), 1e-5 (float), as {@code PerExampleGradientsTest}.</li>
 *   <li>Where the graph is the same network as a {@code MultiLayerNetwork} (same parameters, copied), its
 *       per-example gradients equal the network's (fast path for the MLP, generic for the LSTM) to 1e-12 relative
 *       in double and 1e-6 in float; a DP step (replayed noise) and two seeded epochs of {@code fit} equal the
 *       network's to 1e-15 absolute in double (parameters are O(1): rounding of the last bit only).</li>
 * </ul>
 */
class ComputationGraphPrivacyTest {

    private static final Logger LOG = LoggerFactory.getLogger(ComputationGraphPrivacyTest.class);

    /**
     * A graph, a batch for it, (where there is one) the same network as a MultiLayerNetwork, and whether the fast
     * path covers it.
     */
    record GraphCase(String name, ComputationGraph graph, MultiDataSet batch, Case mln, boolean fast) {
        @Override
        public String toString() {
            return name + " " + graph.params().dataType();
        }
    }

    private static NeuralNetConfiguration.Builder base(DataType type, IUpdater updater) {
        return new NeuralNetConfiguration.Builder().seed(12345).dataType(type).updater(updater);
    }

    private static ComputationGraph init(ComputationGraphConfiguration conf) {
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        return graph;
    }

    /** {@link PrivateNets#mlp} as a graph (in - d0 - d1 - out), the network's parameters copied in. */
    static GraphCase mlp(DataType type, IUpdater updater) {
        Case c = PrivateNets.mlp(type, updater);
        ComputationGraph graph = init(base(type, updater).graphBuilder().addInputs("in")
                .addLayer("d0", new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH).build(), "in")
                .addLayer("d1", new DenseLayer.Builder().nIn(5).nOut(3).activation(Activation.SIGMOID).build(), "d0")
                .addLayer("out", new OutputLayer.Builder(LossFunction.MCXENT).nIn(3).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "d1")
                .setOutputs("out").build());
        graph.setParams(c.net().params().dup());
        return new GraphCase("mlp graph", graph, multi(c.batch()), c, true);
    }

    /** {@link PrivateNets#lstm} as a graph (in - lstm - out), masked, the network's parameters copied in. */
    static GraphCase lstm(DataType type) {
        Case c = PrivateNets.lstm(type);
        ComputationGraph graph = init(base(type, new Sgd(0.1)).graphBuilder().addInputs("in")
                .addLayer("lstm", new LSTM.Builder().nIn(3).nOut(4).activation(Activation.TANH).build(), "in")
                .addLayer("out", new RnnOutputLayer.Builder(LossFunction.MSE).nIn(4).nOut(2)
                        .activation(Activation.IDENTITY).build(), "lstm")
                .setOutputs("out").setInputTypes(InputType.recurrent(3, 4)).build());
        graph.setParams(c.net().params().dup());
        return new GraphCase("lstm graph", graph, multi(c.batch()), c, false);
    }

    /**
     * Two inputs {@code x1 [B, 4]}, {@code x2 [B, 3]}; {@code left = Dense(x1, 3, tanh)},
     * {@code right = Dense(x2, 3, sigmoid)}, {@code sum = left + right} (ElementWiseVertex), {@code merge =
     * [left, sum]} (MergeVertex, 6), outputs {@code out = softmax(merge)} (MCXENT, 2 classes) and {@code aux =
     * right} (identity, MSE, 2); declared output first so that the topological order is not the declaration order.
     * Batch 5, fixed seeds.
     */
    static GraphCase branches(DataType type, IUpdater updater) {
        ComputationGraph graph = init(base(type, updater).graphBuilder().addInputs("x1", "x2")
                .addLayer("out", new OutputLayer.Builder(LossFunction.MCXENT).nIn(6).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "merge")
                .addLayer("aux", new OutputLayer.Builder(LossFunction.MSE).nIn(3).nOut(2)
                        .activation(Activation.IDENTITY).build(), "right")
                .addVertex("merge", new MergeVertex(), "left", "sum")
                .addVertex("sum", new ElementWiseVertex(ElementWiseVertex.Op.Add), "left", "right")
                .addLayer("left", new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.TANH).build(), "x1")
                .addLayer("right", new DenseLayer.Builder().nIn(3).nOut(3).activation(Activation.SIGMOID).build(),
                        "x2")
                .setOutputs("out", "aux").build());
        MultiDataSet batch = new org.nd4j.linalg.dataset.MultiDataSet(
                new INDArray[] {PrivateNets.gaussian(type, 21, 5, 4), PrivateNets.gaussian(type, 22, 5, 3)},
                new INDArray[] {PrivateNets.oneHot(type, 23, 5, 2), PrivateNets.gaussian(type, 24, 5, 2)});
        return new GraphCase("branches graph", graph, batch, null, true);
    }

    /**
     * {@link PrivateNets#timeSeries} (T 4, n 5, feature and label masks) as a graph: Dense on each time step (the
     * graph adds DL4J's RnnToFeedForward and FeedForwardToRnn preprocessors from the input type), RnnOutput.
     */
    static GraphCase timeSeries(DataType type) {
        Case c = PrivateNets.timeSeries(type, 4, 5, true);
        ComputationGraph graph = init(base(type, new Sgd(0.1)).graphBuilder().addInputs("in")
                .addLayer("dense", new DenseLayer.Builder().nOut(5).activation(Activation.TANH).build(), "in")
                .addLayer("out", new RnnOutputLayer.Builder(LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "dense")
                .setOutputs("out").setInputTypes(InputType.recurrent(3, 4)).build());
        graph.setParams(c.net().params().dup());
        return new GraphCase("timeSeries graph", graph, multi(c.batch()), c, true);
    }

    /** {@link PrivateNets#embedding} (tokens with repeats) as a graph. */
    static GraphCase embedding(DataType type) {
        Case c = PrivateNets.embedding(type);
        ComputationGraph graph = init(base(type, new Sgd(0.1)).graphBuilder().addInputs("in")
                .addLayer("emb", new org.deeplearning4j.nn.conf.layers.EmbeddingLayer.Builder().nIn(7).nOut(4)
                        .activation(Activation.IDENTITY).build(), "in")
                .addLayer("dense", new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.TANH).build(),
                        "emb")
                .addLayer("out", new OutputLayer.Builder(LossFunction.MCXENT).nIn(3).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "dense")
                .setOutputs("out").build());
        graph.setParams(c.net().params().dup());
        return new GraphCase("embedding graph", graph, multi(c.batch()), c, true);
    }

    /**
     * Sequences through two Dense branches merged on each time step: {@code in [B, 3, T 4]}, {@code a =
     * Dense(in, 3, tanh)}, {@code b = Dense(in, 2, sigmoid)} (each on the rows DL4J's preprocessor flattens),
     * {@code merge = [a, b]}, RnnOutput(5, 2, softmax); the batch of {@link PrivateNets#timeSeries} with its masks.
     */
    static GraphCase sequenceBranches(DataType type) {
        Case c = PrivateNets.timeSeries(type, 4, 5, true);
        ComputationGraph graph = init(base(type, new Sgd(0.1)).graphBuilder().addInputs("in")
                .addLayer("a", new DenseLayer.Builder().nOut(3).activation(Activation.TANH).build(), "in")
                .addLayer("b", new DenseLayer.Builder().nOut(2).activation(Activation.SIGMOID).build(), "in")
                .addVertex("merge", new MergeVertex(), "a", "b")
                .addLayer("out", new RnnOutputLayer.Builder(LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "merge")
                .setOutputs("out").setInputTypes(InputType.recurrent(3, 4)).build());
        return new GraphCase("sequence branches graph", graph, multi(c.batch()), null, true);
    }

    /**
     * {@code Dense(4, 3, identity) - ActivationLayer(tanh) - Dense(3, 2, identity) - LossLayer(MCXENT, softmax)}:
     * layers without parameters in the middle and at the output; batch 6.
     */
    static GraphCase lossLayer(DataType type) {
        ComputationGraph graph = init(base(type, new Sgd(0.1)).graphBuilder().addInputs("in")
                .addLayer("d0", new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.IDENTITY).build(), "in")
                .addLayer("act", new org.deeplearning4j.nn.conf.layers.ActivationLayer.Builder()
                        .activation(Activation.TANH).build(), "d0")
                .addLayer("d1", new DenseLayer.Builder().nIn(3).nOut(2).activation(Activation.IDENTITY).build(),
                        "act")
                .addLayer("loss", new org.deeplearning4j.nn.conf.layers.LossLayer.Builder(LossFunction.MCXENT)
                        .activation(Activation.SOFTMAX).build(), "d1")
                .setOutputs("loss").build());
        return new GraphCase("lossLayer graph", graph, new org.nd4j.linalg.dataset.MultiDataSet(
                PrivateNets.gaussian(type, 31, 6, 4), PrivateNets.oneHot(type, 32, 6, 2)), null, true);
    }

    static MultiDataSet multi(DataSet d) {
        return new org.nd4j.linalg.dataset.MultiDataSet(d.getFeatures(), d.getLabels(), d.getFeaturesMaskArray(),
                d.getLabelsMaskArray());
    }

    static Stream<GraphCase> cases() {
        List<GraphCase> out = new ArrayList<>();
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            out.add(mlp(type, new Sgd(0.1)));
            out.add(lstm(type));
            out.add(branches(type, new Sgd(0.1)));
            out.add(timeSeries(type));
            out.add(embedding(type));
            out.add(sequenceBranches(type));
            out.add(lossLayer(type));
        }
        return out.stream();
    }

    static Stream<GraphCase> sameAsMln() {
        return cases().filter(c -> c.mln() != null);
    }

    private static double tolerance(DataType type) {
        return type == DataType.DOUBLE ? 1e-12 : 1e-6;
    }

    private static double relative(INDArray actual, INDArray expected) {
        return actual.sub(expected).amaxNumber().doubleValue() / expected.amaxNumber().doubleValue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void layout_viewsByKey_areTheGraphsOwnParameters(GraphCase c) {
        ComputationGraph graph = c.graph();
        List<LayerViews> views = LayerViews.of(graph, graph.params());
        long total = 0;
        for (LayerViews v : views) {
            String name = graph.getVertices()[v.layer()].getVertexName();
            Map<String, INDArray> own = graph.getVertex(name).getLayer().paramTable();
            assertThat(v.byKey().keySet()).as(name).isEqualTo(own.keySet());
            v.byKey().forEach((key, view) -> assertThat(view).as(name + "_" + key).isEqualTo(own.get(key)));
            total += v.flat().length();
        }
        assertThat(total).isEqualTo(graph.numParams());
        // the rows of layerNorms(): the layer vertices in topological order (for "branches": declared out of order)
        PerExampleGradients pe = PerExampleGradients.of(graph, c.batch());
        List<String> expected = new ArrayList<>();
        for (int k : graph.topologicalSortOrder()) {
            if (graph.getVertices()[k].numParams() > 0) {
                expected.add(graph.getVertices()[k].getVertexName());
            }
        }
        assertThat(pe.layerNames()).isEqualTo(expected);
        if (c.name().startsWith("branches")) {
            assertThat(pe.layerNames()).containsExactlyInAnyOrder("left", "right", "out", "aux");
            assertThat(pe.layerNames().indexOf("out")).isGreaterThan(pe.layerNames().indexOf("left"));
            assertThat(pe.layerNames().indexOf("aux")).isGreaterThan(pe.layerNames().indexOf("right"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void perExample_equalsSingleExampleBackprop_byKey(GraphCase c) {
        ComputationGraph graph = c.graph();
        PerExampleGradients pe = PerExampleGradients.of(graph, c.batch());
        INDArray m = pe.matrix();
        assertThat(pe.batchSize()).isEqualTo((int) c.batch().getFeatures(0).size(0));
        assertThat(pe.fast()).as("fast path").isEqualTo(c.fast());
        assertThat(PerExampleGradients.slowLayers(graph).isEmpty()).isEqualTo(c.fast());
        double worst = 0;
        for (int i = 0; i < pe.batchSize(); i++) {
            graph.setInputs(GenericBackprop.examples(c.batch().getFeatures(), i));
            graph.setLabels(GenericBackprop.examples(c.batch().getLabels(), i));
            graph.setLayerMaskArrays(GenericBackprop.examples(c.batch().getFeaturesMaskArrays(), i),
                    GenericBackprop.examples(c.batch().getLabelsMaskArrays(), i));
            graph.computeGradientAndScore();
            Map<String, INDArray> dl4j = graph.gradient().gradientForVariable();
            graph.clearLayerMaskArrays();
            double scale = 0;
            double diff = 0;
            for (LayerViews v : LayerViews.of(graph, m.getRow(i, true))) {
                String name = graph.getVertices()[v.layer()].getVertexName();
                for (Map.Entry<String, INDArray> e : v.byKey().entrySet()) {
                    INDArray expected = dl4j.get(name + "_" + e.getKey());
                    assertThat(expected).as(name + "_" + e.getKey()).isNotNull();
                    scale = Math.max(scale, expected.amaxNumber().doubleValue());
                    diff = Math.max(diff, e.getValue().reshape(expected.shape()).sub(expected).amaxNumber()
                            .doubleValue());
                }
            }
            worst = Math.max(worst, diff / scale);
        }
        double[] norms = pe.norms();
        double[] rowNorms = m.norm2(1).toDoubleVector();
        double normDiff = 0;
        for (int i = 0; i < norms.length; i++) {
            normDiff = Math.max(normDiff, Math.abs(norms[i] - rowNorms[i]) / rowNorms[i]);
        }
        LOG.info("{}: per-example vs single-example DL4J gradient by key {} relative; norms {} relative", c, worst,
                normDiff);
        assertThat(worst).isLessThanOrEqualTo(tolerance(c.graph().params().dataType()));
        assertThat(normDiff).isLessThanOrEqualTo(tolerance(c.graph().params().dataType()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void perExample_sumToTheGraphsBatchGradient(GraphCase c) {
        ComputationGraph graph = c.graph();
        INDArray sum = PerExampleGradients.of(graph, c.batch()).matrix().sum(0);
        graph.setInputs(c.batch().getFeatures());
        graph.setLabels(c.batch().getLabels());
        graph.setLayerMaskArrays(c.batch().getFeaturesMaskArrays(), c.batch().getLabelsMaskArrays());
        graph.computeGradientAndScore();
        INDArray batch = graph.getFlattenedGradients().reshape(sum.shape()).dup();
        graph.clearLayerMaskArrays();
        double diff = relative(sum, batch);
        LOG.info("{}: sum of per-example gradients vs the graph's batch gradient {} relative", c, diff);
        assertThat(diff).isLessThanOrEqualTo(tolerance(graph.params().dataType()) * 10);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sameAsMln")
    void perExample_equalTheSameMultiLayerNetworks(GraphCase c) {
        MultiLayerNetwork net = c.mln().net();
        assertThat(c.graph().params()).isEqualTo(net.params());
        PerExampleGradients g = PerExampleGradients.of(c.graph(), c.batch());
        PerExampleGradients n = PerExampleGradients.of(net, c.mln().batch());
        double diff = relative(g.matrix(), n.matrix());
        double[] gn = g.layerNorms()[0];
        double[] nn = n.layerNorms()[0];
        double normDiff = 0;
        for (int i = 0; i < gn.length; i++) {
            normDiff = Math.max(normDiff, Math.abs(gn[i] - nn[i]) / nn[i]);
        }
        LOG.info("{}: graph vs MultiLayerNetwork ({} path) per-example gradients {} relative, first layer's norms "
                + "{} relative", c, n.fast() ? "fast" : "generic", diff, normDiff);
        assertThat(g.layerIndices()).hasSameSizeAs(n.layerIndices());
        assertThat(diff).isLessThanOrEqualTo(tolerance(net.params().dataType()));
        assertThat(normDiff).isLessThanOrEqualTo(tolerance(net.params().dataType()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fastPath_equalsGenericPath_gradientsNormsAndClippedSums(GraphCase c) {
        ComputationGraph graph = c.graph();
        PerExampleGradients pe = PerExampleGradients.of(graph, c.batch());
        PerExampleGradients generic = PerExampleGradients.generic(graph, c.batch());
        assertThat(pe.fast()).isEqualTo(c.fast());
        INDArray g = generic.matrix();
        double diff = relative(pe.matrix(), g);
        double[] fn = pe.norms();
        double[] gn = g.norm2(1).toDoubleVector();
        double normDiff = 0;
        for (int i = 0; i < fn.length; i++) {
            normDiff = Math.max(normDiff, Math.abs(fn[i] - gn[i]) / gn[i]);
        }
        // clipped sum with factors that differ by layer and example (per-layer clipping)
        int layers = pe.layerIndices().length;
        double[][] factors = new double[layers][pe.batchSize()];
        for (int s = 0; s < layers; s++) {
            for (int i = 0; i < pe.batchSize(); i++) {
                factors[s][i] = 0.25 + 0.5 * ((i + s) % 3);
            }
        }
        INDArray sum = Nd4j.create(g.dataType(), 1, graph.numParams());
        pe.writeClippedSum(factors, sum);
        INDArray expected = Nd4j.create(g.dataType(), 1, graph.numParams());
        for (int i = 0; i < pe.batchSize(); i++) {
            INDArray row = g.getRow(i, true).dup();
            List<LayerViews> views = LayerViews.of(graph, row);
            for (int s = 0; s < layers; s++) {
                views.get(s).flat().muli(factors[s][i]);
            }
            expected.addi(row);
        }
        double sumDiff = relative(sum, expected);
        LOG.info("{} ({} path): vs generic gradients {}, norms {}, clipped sum {} relative", c,
                pe.fast() ? "fast" : "generic", diff, normDiff, sumDiff);
        double tol = tolerance(graph.params().dataType());
        assertThat(diff).isLessThanOrEqualTo(tol);
        assertThat(normDiff).isLessThanOrEqualTo(tol);
        assertThat(sumDiff).isLessThanOrEqualTo(tol);
    }

    @Test
    void lstm_keepsTheGraphOnTheGenericPath_namingTheVertex() {
        assertThat(PerExampleGradients.slowLayers(lstm(DataType.DOUBLE).graph())).singleElement().asString()
                .contains("vertex \"lstm\" (LSTM) has no fast path");
    }

    enum Clipping { FLAT, PER_LAYER }

    @ParameterizedTest
    @EnumSource(Clipping.class)
    void dpStep_replayedNoise_equalsTheMultiLayerNetworksStep(Clipping clipping) {
        for (GraphCase c : List.of(mlp(DataType.DOUBLE, new Sgd(0.1)), lstm(DataType.DOUBLE))) {
            MultiLayerNetwork net = c.mln().net();
            int p = (int) net.numParams();
            double[] z = DpSgdMatchesPyTorchTest.formula(p, k -> 1.5 * Math.cos(1.3 * k + 0.2));
            // thresholds at the median norm (flat) and each layer's median norm: some examples clipped, some not
            PerExampleGradients pe = PerExampleGradients.of(net, c.mln().batch());
            double flat = median(pe.norms());
            double[][] layerNorms = pe.layerNorms();
            double[] perLayer = new double[layerNorms.length];
            for (int s = 0; s < perLayer.length; s++) {
                perLayer[s] = median(layerNorms[s]);
            }
            INDArray before = net.params().dup();
            DpStepReport rn = trainer(clipping, z, flat, perLayer).step(net, c.mln().batch(), 24);
            DpStepReport rg = trainer(clipping, z, flat, perLayer).step(c.graph(), c.batch(), 24);
            double diff = Math.abs(c.graph().params().sub(net.params()).amaxNumber().doubleValue());
            double moved = c.graph().params().sub(before).amaxNumber().doubleValue();
            double updaterDiff = c.graph().getUpdater().getStateViewArray() == null ? 0
                    : c.graph().getUpdater().getStateViewArray().sub(net.getUpdater().getStateViewArray())
                    .amaxNumber().doubleValue();
            double normDiff = 0;
            for (int i = 0; i < rn.norms().length; i++) {
                normDiff = Math.max(normDiff, Math.abs(rg.norms()[i] - rn.norms()[i]) / rn.norms()[i]);
            }
            LOG.info("{} {}: graph vs MultiLayerNetwork DP step: parameters {} absolute, updater state {}, norms {} "
                    + "relative; {}", clipping, c, diff, updaterDiff, normDiff, rg);
            assertThat(diff).isLessThanOrEqualTo(1e-15);
            assertThat(updaterDiff).isLessThanOrEqualTo(1e-15);
            assertThat(normDiff).isLessThanOrEqualTo(1e-12);
            assertThat(rg.fractionClipped()).isEqualTo(rn.fractionClipped());
            if (clipping == Clipping.FLAT) {
                assertThat(rg.fractionClipped()).isStrictlyBetween(0.0, 1.0);
            }
            assertThat(rg.noiseStd()).isEqualTo(rn.noiseStd());
            assertThat(rg.expectedBatchSize()).isEqualTo(6.0);
            assertThat(rg.fastPath()).isEqualTo(c.fast());
            assertThat(c.graph().getIterationCount()).isEqualTo(1);
            assertThat(moved).as("the step moved the parameters").isGreaterThan(1e-4);
        }
    }

    private static PrivateTraining trainer(Clipping clipping, double[] z, double flat, double[] perLayer) {
        PrivateTraining.Builder b = PrivateTraining.builder().noiseMultiplier(1.3).sampleRate(0.25).delta(1e-5)
                .noise(NoiseSource.replay(z));
        return (clipping == Clipping.FLAT ? b.maxGradNorm(flat) : b.perLayerMaxGradNorms(perLayer)).build();
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }

    @Test
    void fit_seededEpochs_equalTheMultiLayerNetworks_withAdam() {
        DataSet data = new DataSet(PrivateNets.gaussian(DataType.DOUBLE, 11, 40, 4),
                PrivateNets.oneHot(DataType.DOUBLE, 12, 40, 2));
        GraphCase c = mlp(DataType.DOUBLE, new Adam(0.01));
        MultiLayerNetwork net = c.mln().net();
        List<DpStepReport> rn = new ArrayList<>();
        List<DpStepReport> rg = new ArrayList<>();
        PrivateTraining.Builder b = PrivateTraining.builder().noiseMultiplier(1.0).maxGradNorm(1.0)
                .sampleRate(0.25).delta(1e-5).seed(7);
        PrivateTraining dn = b.report(rn::add).build();
        dn.fit(net, data, 2);
        PrivateTraining dg = PrivateTraining.builder().noiseMultiplier(1.0).maxGradNorm(1.0).sampleRate(0.25)
                .delta(1e-5).seed(7).report(rg::add).build();
        dg.fit(c.graph(), data, 2);
        double diff = c.graph().params().sub(net.params()).amaxNumber().doubleValue();
        double updaterDiff = c.graph().getUpdater().getStateViewArray().sub(net.getUpdater().getStateViewArray())
                .amaxNumber().doubleValue();
        LOG.info("fit 2 epochs, Adam: graph vs MultiLayerNetwork parameters {} absolute, updater state {}", diff,
                updaterDiff);
        // same seed: the same Poisson batches (same sizes) and noise, 4 steps per epoch
        assertThat(rg).hasSize(8);
        for (int s = 0; s < 8; s++) {
            assertThat(rg.get(s).batchSize()).isEqualTo(rn.get(s).batchSize());
            assertThat(rg.get(s).step()).isEqualTo(s);
        }
        assertThat(diff).isLessThanOrEqualTo(1e-15);
        assertThat(updaterDiff).isLessThanOrEqualTo(1e-15);
        assertThat(dg.spent()).isEqualTo(dn.spent());
        assertThat(c.graph().getEpochCount()).isEqualTo(2);
        assertThat(c.graph().getIterationCount()).isEqualTo(8);
    }

    @Test
    void emptyBatch_noiseOnlyStep_onTheGraph() {
        GraphCase c = branches(DataType.DOUBLE, new Sgd(0.1));
        ComputationGraph graph = c.graph();
        INDArray before = graph.params().dup();
        double[] z = DpSgdMatchesPyTorchTest.formula((int) graph.numParams(), k -> Math.sin(2.1 * k + 0.4));
        PrivateTraining dp = PrivateTraining.builder().noiseMultiplier(1.0).maxGradNorm(1.0).sampleRate(0.25)
                .delta(1e-5).noise(NoiseSource.replay(z)).build();
        MultiDataSet empty = new org.nd4j.linalg.dataset.MultiDataSet(
                new INDArray[] {Nd4j.create(DataType.DOUBLE, 0, 4), Nd4j.create(DataType.DOUBLE, 0, 3)},
                new INDArray[] {Nd4j.create(DataType.DOUBLE, 0, 2), Nd4j.create(DataType.DOUBLE, 0, 2)});
        DpStepReport report = dp.step(graph, empty, 40);
        // params - lr * (sigma * C * z) / (q * N) = params - 0.1 * z / 10, z in the order of graph.params()
        double[] after = graph.params().toDoubleVector();
        double[] b = before.toDoubleVector();
        for (int k = 0; k < z.length; k++) {
            assertThat(after[k]).isCloseTo(b[k] - 0.1 * z[k] / 10.0, within(1e-15));
        }
        assertThat(report.batchSize()).isZero();
        assertThat(dp.accountant().totalSteps()).isEqualTo(1);
    }

    @Test
    void multiDataSetPoissonSampling_keepsEveryArraysRowsTogether_andDrawsAsPoissonSampling() {
        GraphCase c = lstm(DataType.DOUBLE);
        MultiDataSet all = c.batch();
        DataSet allSingle = c.mln().batch();
        MultiDataSetPoissonSampling multi = new MultiDataSetPoissonSampling(all, 0.5, 4);
        PoissonSampling single = new PoissonSampling(allSingle, 0.5, 4);
        assertThat(multi.batchesPerEpoch()).isEqualTo(2);
        int checked = 0;
        for (int e = 0; e < 20; e++) {
            multi.reset();
            single.reset();
            while (multi.hasNext()) {
                MultiDataSet m = multi.next();
                DataSet s = single.next();
                assertThat(m.getFeatures(0)).isEqualTo(s.getFeatures());
                assertThat(m.getLabels(0)).isEqualTo(s.getLabels());
                if (s.numExamples() > 0) {
                    assertThat(m.getFeaturesMaskArray(0)).isEqualTo(s.getFeaturesMaskArray());
                    assertThat(m.getLabelsMaskArray(0)).isEqualTo(s.getLabelsMaskArray());
                    checked++;
                } else {
                    assertThat(m.getFeaturesMaskArrays()).isNull();
                }
            }
        }
        assertThat(checked).isPositive();
    }

    @Test
    void fit_twoInputsTwoOutputs_batchesKeepEachExamplesArraysTogether_onTheFastPath() {
        // 40 examples; example i's x1 row starts with i, its x2 row with 100 + i, its aux label with 200 + i
        INDArray x1 = PrivateNets.gaussian(DataType.DOUBLE, 41, 40, 4);
        INDArray x2 = PrivateNets.gaussian(DataType.DOUBLE, 42, 40, 3);
        INDArray aux = PrivateNets.gaussian(DataType.DOUBLE, 43, 40, 2);
        for (int i = 0; i < 40; i++) {
            x1.putScalar(i, 0, i);
            x2.putScalar(i, 0, 100 + i);
            aux.putScalar(i, 0, 200 + i);
        }
        MultiDataSet data = new org.nd4j.linalg.dataset.MultiDataSet(new INDArray[] {x1, x2},
                new INDArray[] {PrivateNets.oneHot(DataType.DOUBLE, 44, 40, 2), aux});
        MultiDataSetPoissonSampling s = new MultiDataSetPoissonSampling(data, 0.25, 8);
        int rows = 0;
        for (int e = 0; e < 10; e++) {
            s.reset();
            while (s.hasNext()) {
                MultiDataSet m = s.next();
                for (int r = 0; r < m.getFeatures(0).size(0); r++) {
                    int i = (int) m.getFeatures(0).getDouble(r, 0);
                    assertThat(m.getFeatures(1).getDouble(r, 0)).isEqualTo(100 + i);
                    assertThat(m.getLabels(1).getDouble(r, 0)).isEqualTo(200 + i);
                    assertThat(m.getFeatures(0).getRow(r)).isEqualTo(x1.getRow(i));
                    assertThat(m.getLabels(0).getRow(r)).isEqualTo(data.getLabels(0).getRow(i));
                    rows++;
                }
            }
        }
        // 40 batches of expected size 10: 400 rows expected, standard deviation sqrt(40 * 40 * 0.25 * 0.75) = 17
        assertThat(rows).isBetween(300, 500);
        GraphCase c = branches(DataType.DOUBLE, new Adam(0.01));
        INDArray before = c.graph().params().dup();
        List<DpStepReport> reports = new ArrayList<>();
        PrivateTraining.builder().noiseMultiplier(1.0).maxGradNorm(1.0).sampleRate(0.25).delta(1e-5).seed(3)
                .report(reports::add).build().fit(c.graph(), data, 1);
        assertThat(reports).hasSize(4).allSatisfy(r -> assertThat(r.fastPath()).isTrue());
        assertThat(c.graph().getIterationCount()).isEqualTo(4);
        assertThat(c.graph().params()).isNotEqualTo(before);
    }

    @Test
    void batchNormalization_refusedNamingTheVertex_paramsUntouched() {
        ComputationGraph graph = init(base(DataType.DOUBLE, new Sgd(0.1)).graphBuilder().addInputs("in")
                .addLayer("dense", new DenseLayer.Builder().nIn(4).nOut(5).build(), "in")
                .addLayer("bn", new BatchNormalization.Builder().build(), "dense")
                .addLayer("out", new OutputLayer.Builder(LossFunction.MSE).nOut(2).activation(Activation.IDENTITY)
                        .build(), "bn")
                .setOutputs("out").setInputTypes(InputType.feedForward(4)).build());
        MultiDataSet batch = new org.nd4j.linalg.dataset.MultiDataSet(PrivateNets.gaussian(DataType.DOUBLE, 1, 3, 4),
                PrivateNets.gaussian(DataType.DOUBLE, 2, 3, 2));
        assertThatThrownBy(() -> PerExampleGradients.requireSupported(graph))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("vertex \"bn\" (BatchNormalization)")
                .hasMessageContaining("mixes the examples")
                .hasMessageContaining("remove it");
        INDArray before = graph.params().dup();
        assertThatThrownBy(() -> PrivateTraining.builder().noiseMultiplier(1).maxGradNorm(1).sampleRate(0.25)
                .delta(1e-5).build().step(graph, batch, 12))
                .hasMessageContaining("vertex \"bn\" (BatchNormalization)");
        assertThat(graph.params()).isEqualTo(before);
    }

    @Test
    void perLayerThresholds_mustMatchTheLayerVertices_namedInTopologicalOrder() {
        GraphCase c = branches(DataType.DOUBLE, new Sgd(0.1));
        List<String> names = PerExampleGradients.of(c.graph(), c.batch()).layerNames();
        assertThatThrownBy(() -> PrivateTraining.builder().noiseMultiplier(1).perLayerMaxGradNorms(1, 2)
                .sampleRate(0.25).delta(1e-5).build().step(c.graph(), c.batch(), 20))
                .hasMessageContaining("perLayerMaxGradNorms.length = 2")
                .hasMessageContaining("4 (vertices " + names + ")");
    }

    @Test
    void dataSet_onAGraphWithTwoInputs_refusedNamingThem() {
        GraphCase c = branches(DataType.DOUBLE, new Sgd(0.1));
        DataSet d = new DataSet(c.batch().getFeatures(0), c.batch().getLabels(0));
        assertThatThrownBy(() -> PerExampleGradients.of(c.graph(), d))
                .hasMessageContaining("2 inputs [x1, x2]").hasMessageContaining("2 outputs [out, aux]");
    }

    @Test
    void checkpoint_graph_keepsBudgetAndParameters(@TempDir Path dir) throws Exception {
        GraphCase c = mlp(DataType.DOUBLE, new Adam(0.01));
        DataSet data = new DataSet(PrivateNets.gaussian(DataType.DOUBLE, 11, 40, 4),
                PrivateNets.oneHot(DataType.DOUBLE, 12, 40, 2));
        PrivateTraining dp = PrivateTraining.builder().noiseMultiplier(1.0).maxGradNorm(1.0).sampleRate(0.25)
                .delta(1e-5).seed(9).build();
        dp.fit(c.graph(), data, 1);
        File file = dir.resolve("graph.zip").toFile();
        PrivateCheckpoint.save(c.graph(), dp, file);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
        assertThat(restored.params()).isEqualTo(c.graph().params());
        assertThat(restored.getUpdater().getStateViewArray()).isEqualTo(c.graph().getUpdater().getStateViewArray());
        assertThat(PrivateCheckpoint.accountant(file).phases()).isEqualTo(new double[][] {{0.25, 1.0, 4}});
    }
}
