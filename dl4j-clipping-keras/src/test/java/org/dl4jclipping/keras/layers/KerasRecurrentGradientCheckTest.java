package org.dl4jclipping.keras.layers;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.rnn.conf.GRU;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The backward pass of {@link KerasRecurrentLayer} (time reversal, last-step selection, repeat of the last valid
 * output after the padding) is the adjoint of its forward pass: DL4J's finite-difference gradient check in double
 * (epsilon 1e-6, max relative error 1e-5, absolute errors below 1e-9 ignored) on a GRU(3 -> 4) inside it,
 * followed by an MSE output layer, for every combination of go_backwards, return_sequences, a Masking value and
 * reset_after. Inputs: 3 seeded sequences of 6 steps, the second padded with 2 mask-value steps after, the third
 * with 2 before (with a mask value; without, all steps are data).
 */
class KerasRecurrentGradientCheckTest {

    private static DataType defaultType;
    private static DataType defaultFloatType;

    /** DL4J's gradient check requires ND4J's default data type to be double. */
    @BeforeAll
    static void doubleDefault() {
        defaultType = Nd4j.dataType();
        defaultFloatType = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @AfterAll
    static void restoreDefault() {
        Nd4j.setDefaultDataTypes(defaultType, defaultFloatType);
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (boolean backwards : new boolean[] {false, true}) {
            for (boolean sequences : new boolean[] {false, true}) {
                for (Double mask : new Double[] {null, 0.0}) {
                    for (boolean resetAfter : new boolean[] {true, false}) {
                        out.add(Arguments.of(backwards, sequences, mask, resetAfter));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "goBackwards={0} returnSequences={1} maskValue={2} resetAfter={3}")
    @MethodSource("cases")
    void gradients_matchFiniteDifferences(boolean goBackwards, boolean returnSequences, Double maskValue,
                                          boolean resetAfter) {
        Nd4j.getRandom().setSeed(42);
        GRU gru = new GRU.Builder().nIn(3).nOut(4).resetAfter(resetAfter).dataFormat(RNNFormat.NWC)
                .activation(Activation.TANH).build();
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(7)
                .weightInit(WeightInit.XAVIER).biasInit(0.1).updater(new NoOp()).list()
                .layer(new KerasRecurrent(gru, goBackwards, returnSequences, maskValue))
                .layer(returnSequences
                        ? new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
                        .dataFormat(RNNFormat.NWC).activation(Activation.IDENTITY).build()
                        : new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 6, 3).subi(0.5).muli(2);
        if (maskValue != null) {
            x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(4, 6),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(maskValue);
            x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(2),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(maskValue);
        }
        INDArray y = returnSequences ? Nd4j.rand(DataType.DOUBLE, 3, 6, 2) : Nd4j.rand(DataType.DOUBLE, 3, 2);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net).input(x).labels(y)
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9));
        assertThat(ok).isTrue();
    }

    /**
     * Inside DL4J's Bidirectional (as KerasBidirectionalGru builds it), with a Masking value and each merge mode,
     * returning sequences: the gradients of both directions match finite differences.
     */
    @ParameterizedTest(name = "mode={0}")
    @org.junit.jupiter.params.provider.EnumSource(org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional.Mode.class)
    void bidirectional_gradients_matchFiniteDifferences(
            org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional.Mode mode) {
        Nd4j.getRandom().setSeed(43);
        // DL4J configures a Bidirectional's direct children only: the GRU inside KerasRecurrent gets its own
        GRU gru = new GRU.Builder().nIn(3).nOut(4).dataFormat(RNNFormat.NWC).activation(Activation.TANH)
                .weightInit(WeightInit.XAVIER).biasInit(0.1).updater(new NoOp()).build();
        int merged = mode == org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional.Mode.CONCAT ? 8 : 4;
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(8)
                .weightInit(WeightInit.XAVIER).biasInit(0.1).updater(new NoOp()).list()
                .layer(new KerasBidirectional(mode, new KerasRecurrent(gru, false, true, 0.0)))
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(merged).nOut(2)
                        .dataFormat(RNNFormat.NWC).activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 6, 3).subi(0.5).muli(2);
        x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1), org.nd4j.linalg.indexing.NDArrayIndex.interval(4, 6),
                org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(0.0);
        x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(2), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2),
                org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(0.0);
        INDArray y = Nd4j.rand(DataType.DOUBLE, 3, 6, 2);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net).input(x).labels(y)
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9));
        assertThat(ok).isTrue();
    }
}
