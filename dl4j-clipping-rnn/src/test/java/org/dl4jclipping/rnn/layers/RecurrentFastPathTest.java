package org.dl4jclipping.rnn.layers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.privacy.NoiseSource;
import org.dl4jclipping.privacy.PerExampleGradients;
import org.dl4jclipping.privacy.PrivateTraining;
import org.dl4jclipping.rnn.conf.GRU;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The recurrent fast path of private training ({@link RecurrentFastPath}, found by {@code PerExampleGradients} as a
 * service): for DL4J's LSTM, NativeLSTM and both GRU variants, alone, stacked and inside DL4J's LastTimeStep, NCW and NWC, with variable
 * lengths (feature and label masks), ghost and explicit norms, in double and float, the per-example gradients and
 * norms equal DL4J's own backpropagation of each example alone (the generic path) within 1e-12 relative to the
 * largest gradient element in double and 1e-6 in float (issue 26's exactness bar); they add up to DL4J's batch
 * gradient; and one DP-SGD step (noise 0, SGD with rate 1) moves the parameters by exactly the clipped average
 * computed from the generic path's gradients.
 */
class RecurrentFastPathTest {

    private static final Logger LOG = LoggerFactory.getLogger(RecurrentFastPathTest.class);

    record Case(String name, MultiLayerNetwork net, DataSet batch) {
        @Override
        public String toString() {
            return name + " " + net.params().dataType();
        }
    }

    static Stream<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            // W: k = 3, c = 16; RW: k = 4: T = 7 gives 2 T^2 = 98 > 48 (explicit norms), T = 2 gives 8 (ghost norms).
            out.add(single("DL4J LSTM T=7", type, 7, RNNFormat.NCW,
                    new LSTM.Builder().nIn(3).nOut(4).activation(Activation.TANH)));
            out.add(single("DL4J LSTM T=2", type, 2, RNNFormat.NWC,
                    new LSTM.Builder().nIn(3).nOut(4).activation(Activation.TANH)));
            out.add(single("NativeLSTM T=6", type, 6, RNNFormat.NWC, new NativeLSTM.Builder().nIn(3).nOut(4)));
            out.add(single("GRU reset-after T=6", type, 6, RNNFormat.NCW, new GRU.Builder().nIn(3).nOut(4)));
            out.add(single("GRU reset-before T=6", type, 6, RNNFormat.NWC,
                    new GRU.Builder().nIn(3).nOut(4).resetAfter(false)));
            out.add(single("GRU reset-before T=2", type, 2, RNNFormat.NCW,
                    new GRU.Builder().nIn(3).nOut(4).resetAfter(false)));
            out.add(stacked(type));
            out.add(lastStep("LastTimeStep(NativeLSTM) NCW", type, RNNFormat.NCW,
                    new NativeLSTM.Builder().nIn(3).nOut(4).dataFormat(RNNFormat.NCW).build()));
            out.add(lastStep("LastTimeStep(GRU) NWC", type, RNNFormat.NWC,
                    new GRU.Builder().nIn(3).nOut(4).dataFormat(RNNFormat.NWC).build()));
        }
        return out.stream();
    }

    /** One recurrent layer (nIn 3, nOut 4) - RnnOutput(4, 2, softmax), batch 4, example i of length T - i. */
    private static Case single(String name, DataType type, int t, RNNFormat format,
                               org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer.Builder<?> layer) {
        layer.dataFormat(format);
        return build(name + " " + format, type, t, format, layer.build(),
                new RnnOutputLayer.Builder(LossFunction.MCXENT).nIn(4).nOut(2).activation(Activation.SOFTMAX)
                        .dataFormat(format).build());
    }

    /** GRU(3, 5) - DL4J LSTM(5, 4) - RnnOutput: the error passed down through a recurrent layer. */
    private static Case stacked(DataType type) {
        return build("GRU+LSTM stacked NCW", type, 5, RNNFormat.NCW,
                new GRU.Builder().nIn(3).nOut(5).build(),
                new LSTM.Builder().nIn(5).nOut(4).activation(Activation.TANH).build(),
                new RnnOutputLayer.Builder(LossFunction.MCXENT).nIn(4).nOut(2).activation(Activation.SOFTMAX)
                        .build());
    }

    /**
     * The sequence classifier's shape: LastTimeStep(recurrent(3, 4)) - Output(4, 3, softmax), batch 4 of T = 6,
     * example i of length 6 - i (a feature mask only: the last step is each example's last unmasked one).
     */
    private static Case lastStep(String name, DataType type, RNNFormat format,
                                 org.deeplearning4j.nn.conf.layers.Layer recurrent) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(42).dataType(type)
                .updater(new Sgd(1.0)).list()
                .layer(new org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep(recurrent))
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(LossFunction.MCXENT).nIn(4).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        int b = 4;
        int t = 6;
        INDArray x = gaussian(type, 17, format == RNNFormat.NCW ? new long[] {b, 3, t} : new long[] {b, t, 3});
        INDArray y = Nd4j.create(type, b, 3);
        for (int i = 0; i < b; i++) {
            y.putScalar(i, i % 3, 1);
        }
        INDArray mask = Nd4j.create(type, b, t);
        for (int i = 0; i < b; i++) {
            for (int s = 0; s < t - i; s++) {
                mask.putScalar(i, s, 1);
            }
        }
        return new Case(name, net, new DataSet(x, y, mask, null));
    }

    private static Case build(String name, DataType type, int t, RNNFormat format, Layer... layers) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder().seed(42).dataType(type)
                .updater(new Sgd(1.0)).list();
        for (Layer l : layers) {
            list.layer(l);
        }
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        int b = 4;
        boolean ncw = format == RNNFormat.NCW;
        INDArray x = gaussian(type, 11, ncw ? new long[] {b, 3, t} : new long[] {b, t, 3});
        INDArray y = Nd4j.create(type, ncw ? new long[] {b, 2, t} : new long[] {b, t, 2});
        Random r = new Random(13);
        for (int i = 0; i < b; i++) {
            for (int s = 0; s < t; s++) {
                int c = r.nextInt(2);
                y.putScalar(ncw ? new int[] {i, c, s} : new int[] {i, s, c}, 1);
            }
        }
        INDArray mask = Nd4j.create(type, b, t);
        for (int i = 0; i < b; i++) {
            for (int s = 0; s < Math.max(1, t - i); s++) {
                mask.putScalar(i, s, 1);
            }
        }
        return new Case(name, net, new DataSet(x, y, mask, mask.dup()));
    }

    private static INDArray gaussian(DataType type, long seed, long... shape) {
        Random r = new Random(seed);
        double[] v = new double[(int) Nd4j.create(DataType.DOUBLE, shape).length()];
        for (int k = 0; k < v.length; k++) {
            v[k] = r.nextGaussian();
        }
        return Nd4j.createFromArray(v).reshape(shape).castTo(type);
    }

    private static double tolerance(MultiLayerNetwork net) {
        return net.params().dataType() == DataType.DOUBLE ? 1e-12 : 1e-6;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fastPath_equalsSingleExampleBackprop(Case c) {
        assertThat(PerExampleGradients.slowLayers(c.net())).as("every layer on the fast path").isEmpty();
        PerExampleGradients fast = PerExampleGradients.of(c.net(), c.batch());
        assertThat(fast.fast()).as("fast path taken").isTrue();
        INDArray g = PerExampleGradients.generic(c.net(), c.batch()).matrix();
        double diff = fast.matrix().sub(g).amaxNumber().doubleValue() / g.amaxNumber().doubleValue();
        double[] fn = fast.norms();
        double[] gn = g.norm2(1).toDoubleVector();
        double normDiff = 0;
        for (int i = 0; i < fn.length; i++) {
            normDiff = Math.max(normDiff, Math.abs(fn[i] - gn[i]) / gn[i]);
        }
        LOG.info("{}: gradients {} relative, norms {} relative", c, diff, normDiff);
        assertThat(diff).isLessThanOrEqualTo(tolerance(c.net()));
        assertThat(normDiff).isLessThanOrEqualTo(tolerance(c.net()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void perExampleGradients_sumToDl4jBatchGradient(Case c) {
        INDArray sum = PerExampleGradients.of(c.net(), c.batch()).matrix().sum(0);
        MultiLayerNetwork net = c.net();
        net.setInput(c.batch().getFeatures());
        net.setLabels(c.batch().getLabels());
        net.setLayerMaskArrays(c.batch().getFeaturesMaskArray(), c.batch().getLabelsMaskArray());
        net.computeGradientAndScore();
        INDArray batch = net.getFlattenedGradients().reshape(sum.shape());
        net.clearLayerMaskArrays();
        double diff = sum.sub(batch).amaxNumber().doubleValue() / batch.amaxNumber().doubleValue();
        LOG.info("{}: sum vs DL4J batch gradient {} relative", c, diff);
        assertThat(diff).isLessThanOrEqualTo(tolerance(net) * 10);
    }

    /**
     * Flat clipping at the median norm (so some examples are clipped and some not), noise multiplier 0, SGD with
     * rate 1, q N = 4: the step is {@code params -= sum_i min(1, C / (n_i + 1e-6)) g_i / 4}, computed here from the
     * generic path's {@code g_i}.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void dpStep_appliesClippedAverageOfSingleExampleGradients(Case c) {
        MultiLayerNetwork net = c.net();
        INDArray g = PerExampleGradients.generic(net, c.batch()).matrix().castTo(DataType.DOUBLE);
        double[] norms = g.norm2(1).toDoubleVector();
        double[] sorted = norms.clone();
        java.util.Arrays.sort(sorted);
        double clip = (sorted[1] + sorted[2]) / 2;
        INDArray expected = Nd4j.zeros(DataType.DOUBLE, 1, g.size(1));
        for (int i = 0; i < norms.length; i++) {
            expected.addi(g.getRow(i, true).mul(Math.min(1, clip / (norms[i] + 1e-6))));
        }
        expected.divi(4);
        INDArray before = net.params().castTo(DataType.DOUBLE).dup();
        PrivateTraining dp = PrivateTraining.builder().noiseMultiplier(0).maxGradNorm(clip).sampleRate(0.5)
                .delta(1e-5).noise(NoiseSource.replay(new double[(int) net.numParams()])).build();
        assertThat(dp.step(net, c.batch(), 8).fastPath()).isTrue();
        INDArray moved = before.sub(net.params().castTo(DataType.DOUBLE)).reshape(expected.shape());
        double diff = moved.sub(expected).amaxNumber().doubleValue() / expected.amaxNumber().doubleValue();
        LOG.info("{}: DP step vs clipped average of generic gradients {} relative", c, diff);
        assertThat(diff).isLessThanOrEqualTo(tolerance(net) * 10);
    }

    static Stream<Case> gapCases() {
        return Stream.of(single("DL4J LSTM", DataType.DOUBLE, 5, RNNFormat.NCW,
                        new LSTM.Builder().nIn(3).nOut(4).activation(Activation.TANH)),
                single("GRU", DataType.DOUBLE, 5, RNNFormat.NCW, new GRU.Builder().nIn(3).nOut(4)));
    }

    /**
     * A feature mask with a gap (example 0 masked at step 2 only). DL4J's {@code MultiLayerNetwork} does not hand
     * the feature mask to its recurrent layers ({@code LSTM.feedForwardMaskArray} passes it on without keeping it;
     * the loss applies the label mask), so the layer runs through the gap; the fast path sees the layer's mask as
     * DL4J's layer does and gives the same numbers, on the fast path.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("gapCases")
    void maskWithGap_sameNumbersAsDl4j(Case c) {
        INDArray mask = c.batch().getFeaturesMaskArray().dup();
        mask.putScalar(0, 2, 0);
        DataSet gap = new DataSet(c.batch().getFeatures(), c.batch().getLabels(), mask, mask.dup());
        PerExampleGradients fast = PerExampleGradients.of(c.net(), gap);
        assertThat(fast.fast()).isTrue();
        INDArray g = PerExampleGradients.generic(c.net(), gap).matrix();
        assertThat(fast.matrix().sub(g).amaxNumber().doubleValue() / g.amaxNumber().doubleValue())
                .isLessThanOrEqualTo(1e-12);
    }

    /**
     * Inside DL4J's LastTimeStep the LSTM does get the feature mask (the wrapper sets it on the layer). A mask with a
     * gap (example 1 masked at step 1, then unmasked) has no sequence-length form for the kernel: the batch takes the
     * generic path (logged), with DL4J's own numbers; a plain variable-length mask stays on the fast path.
     */
    @Test
    void lastTimeStepLstm_maskWithGap_fallsBackToGenericPath() {
        Case c = lastStep("LastTimeStep(LSTM)", DataType.DOUBLE, RNNFormat.NCW,
                new LSTM.Builder().nIn(3).nOut(4).activation(Activation.TANH).build());
        assertThat(PerExampleGradients.of(c.net(), c.batch()).fast()).isTrue();
        INDArray mask = c.batch().getFeaturesMaskArray().dup();
        mask.putScalar(1, 1, 0);
        DataSet gap = new DataSet(c.batch().getFeatures(), c.batch().getLabels(), mask, null);
        PerExampleGradients pe = PerExampleGradients.of(c.net(), gap);
        assertThat(pe.fast()).isFalse();
        assertThat(pe.matrix().sub(PerExampleGradients.generic(c.net(), gap).matrix()).amaxNumber().doubleValue())
                .isZero();
    }

    /**
     * The same recurrent paths in a {@code ComputationGraph} (GRU and DL4J's LSTM stacked, then RnnOutput; and
     * LastTimeStep(NativeLSTM) then Output), masked: fast path, equal to each example alone through the graph.
     */
    @Test
    void computationGraph_recurrentLayersOnFastPath() {
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            org.deeplearning4j.nn.graph.ComputationGraph seq = graph(type, false);
            org.deeplearning4j.nn.graph.ComputationGraph last = graph(type, true);
            Case cs = stacked(type);
            Case cl = lastStep("", type, RNNFormat.NCW, new NativeLSTM.Builder().nIn(3).nOut(4).build());
            for (Object[] g : new Object[][] {{seq, cs.batch()}, {last, cl.batch()}}) {
                org.deeplearning4j.nn.graph.ComputationGraph graph = (org.deeplearning4j.nn.graph.ComputationGraph) g[0];
                org.nd4j.linalg.dataset.MultiDataSet mds = toMulti((DataSet) g[1]);
                assertThat(PerExampleGradients.slowLayers(graph)).isEmpty();
                PerExampleGradients fast = PerExampleGradients.of(graph, mds);
                assertThat(fast.fast()).isTrue();
                INDArray generic = PerExampleGradients.generic(graph, mds).matrix();
                double diff = fast.matrix().sub(generic).amaxNumber().doubleValue()
                        / generic.amaxNumber().doubleValue();
                LOG.info("graph {} {}: fast vs generic {} relative", graph.getConfiguration().getNetworkInputs(),
                        type, diff);
                assertThat(diff).isLessThanOrEqualTo(type == DataType.DOUBLE ? 1e-12 : 1e-6);
            }
        }
    }

    private static org.deeplearning4j.nn.graph.ComputationGraph graph(DataType type, boolean lastStep) {
        org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder b = new NeuralNetConfiguration
                .Builder().seed(42).dataType(type).updater(new Sgd(1.0)).graphBuilder().addInputs("in");
        if (lastStep) {
            b.addLayer("rnn", new org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep(
                            new NativeLSTM.Builder().nIn(3).nOut(4).build()), "in")
                    .addLayer("out", new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(LossFunction.MCXENT)
                            .nIn(4).nOut(3).activation(Activation.SOFTMAX).build(), "rnn");
        } else {
            b.addLayer("gru", new GRU.Builder().nIn(3).nOut(5).build(), "in")
                    .addLayer("lstm", new LSTM.Builder().nIn(5).nOut(4).activation(Activation.TANH).build(), "gru")
                    .addLayer("out", new RnnOutputLayer.Builder(LossFunction.MCXENT).nIn(4).nOut(2)
                            .activation(Activation.SOFTMAX).build(), "lstm");
        }
        b.setOutputs("out").setInputTypes(org.deeplearning4j.nn.conf.inputs.InputType.recurrent(3));
        org.deeplearning4j.nn.graph.ComputationGraph graph = new org.deeplearning4j.nn.graph.ComputationGraph(
                b.build());
        graph.init();
        return graph;
    }

    private static org.nd4j.linalg.dataset.MultiDataSet toMulti(DataSet d) {
        return new org.nd4j.linalg.dataset.MultiDataSet(new INDArray[] {d.getFeatures()},
                new INDArray[] {d.getLabels()},
                d.getFeaturesMaskArray() == null ? null : new INDArray[] {d.getFeaturesMaskArray()},
                d.getLabelsMaskArray() == null ? null : new INDArray[] {d.getLabelsMaskArray()});
    }

    @Test
    void dropoutOnTheLayer_namesItAsSlow() {
        Case c = single("LSTM with dropout", DataType.DOUBLE, 3, RNNFormat.NCW,
                new LSTM.Builder().nIn(3).nOut(4).dropOut(0.8));
        assertThat(PerExampleGradients.slowLayers(c.net())).singleElement().asString()
                .contains("layer 0").contains("LSTM").contains("no fast path");
    }
}
