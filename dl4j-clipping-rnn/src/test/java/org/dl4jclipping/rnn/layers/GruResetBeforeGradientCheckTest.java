package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.rnn.GruTestData;
import org.dl4jclipping.rnn.activations.ActivationHardSigmoid6;
import org.dl4jclipping.rnn.conf.GRU;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Finite-difference gradient checks (double precision, DL4J's {@link GradientCheckUtil}: epsilon 1e-6, max relative
 * error 1e-5, errors below 1e-9 absolute ignored) of the reset-before GRU ({@code resetAfter(false)}) and of the
 * activations Keras files bring ({@link ActivationHardSigmoid6}, DL4J's HARDSIGMOID, relu), on the CPU kernel and on
 * the ND4J op path ({@code -Dorg.dl4jclipping.rnn.cpuKernel=false}); each test asserts which path its GRU layers
 * run (the two inside a {@code Bidirectional} are not reachable from outside; they follow the same property).
 * Masks: sequence 0 full, sequence 1 ends after 3 steps, sequence 2 has a gap at steps 1-2.
 */
@ExtendWith(DoublePrecision.class)
class GruResetBeforeGradientCheckTest {

    private static final int MB = 3;
    private static final int N_IN = 3;
    private static final int N_OUT = 4;
    private static final int T = 5;
    private static final int CLASSES = 3;

    @AfterEach
    void restore() {
        System.clearProperty(RecurrentCpuKernel.PROPERTY);
    }

    private static NeuralNetConfiguration.Builder base(boolean cpu) {
        System.setProperty(RecurrentCpuKernel.PROPERTY, Boolean.toString(cpu));
        return new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(42).updater(new NoOp())
                .weightInit(WeightInit.XAVIER);
    }

    private static INDArray mask() {
        return Nd4j.createFromArray(new double[][] {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}, {1, 0, 0, 1, 1}});
    }

    private static boolean check(MultiLayerNetwork net, INDArray in, INDArray labels, INDArray mask, boolean cpu) {
        for (Layer l : net.getLayers()) {
            if (l instanceof GRULayer gru) {
                assertThat(gru.usesCpuKernel()).as("layer %d runs the %s", l.getIndex(), cpu ? "CPU kernel" : "op path")
                        .isEqualTo(cpu);
            }
        }
        GruTestData.deterministicParams(net, 0.3);
        return GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net).input(in).labels(labels)
                .inputMask(mask).labelMask(mask).epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
    }

    private static RnnOutputLayer rnnOut(int nIn) {
        return new RnnOutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nIn(nIn).nOut(CLASSES)
                .build();
    }

    @ParameterizedTest(name = "cpuKernel={0}")
    @ValueSource(booleans = {true, false})
    void resetBefore_twoLayersWithHardSigmoid6Gates_maskedSequences(boolean cpu) {
        MultiLayerNetwork net = new MultiLayerNetwork(base(cpu).list()
                .layer(new GRU.Builder().nIn(N_IN).nOut(N_OUT).resetAfter(false)
                        .gateActivationFunction(new ActivationHardSigmoid6()).build())
                .layer(new GRU.Builder().nIn(N_OUT).nOut(N_OUT).resetAfter(false)
                        .gateActivationFunction(Activation.HARDSIGMOID).activation(Activation.RELU).build())
                .layer(rnnOut(N_OUT)).build());
        net.init();
        INDArray in = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.4);
        assertThat(check(net, in, GruTestData.sequenceLabels(DataType.DOUBLE, MB, CLASSES, T), mask(), cpu)).isTrue();
    }

    @ParameterizedTest(name = "cpuKernel={0}")
    @ValueSource(booleans = {true, false})
    void resetBefore_defaultActivations_nwc_masked(boolean cpu) {
        MultiLayerNetwork net = new MultiLayerNetwork(base(cpu).list()
                .layer(new GRU.Builder().nIn(N_IN).nOut(N_OUT).resetAfter(false).dataFormat(RNNFormat.NWC).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX)
                        .dataFormat(RNNFormat.NWC).nIn(N_OUT).nOut(CLASSES).build()).build());
        net.init();
        INDArray in = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.1).permute(0, 2, 1).dup();
        INDArray labels = GruTestData.sequenceLabels(DataType.DOUBLE, MB, CLASSES, T).permute(0, 2, 1).dup();
        assertThat(check(net, in, labels, mask(), cpu)).isTrue();
    }

    @ParameterizedTest(name = "cpuKernel={0}")
    @ValueSource(booleans = {true, false})
    void resetBefore_bidirectional_masked(boolean cpu) {
        MultiLayerNetwork net = new MultiLayerNetwork(base(cpu).list()
                .layer(new Bidirectional(Bidirectional.Mode.CONCAT, new GRU.Builder().nIn(N_IN).nOut(N_OUT)
                        .resetAfter(false).activation(new ActivationHardSigmoid6()).build()))
                .layer(rnnOut(2 * N_OUT))
                .setInputType(InputType.recurrent(N_IN)).build());
        net.init();
        INDArray in = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.7);
        INDArray labels = GruTestData.sequenceLabels(DataType.DOUBLE, MB, CLASSES, T);
        assertThat(check(net, in, labels, mask(), cpu)).isTrue();
    }

    @ParameterizedTest(name = "cpuKernel={0}")
    @ValueSource(booleans = {true, false})
    void resetAfter_withHardSigmoid6GatesAndIdentityActivation_masked(boolean cpu) {
        MultiLayerNetwork net = new MultiLayerNetwork(base(cpu).list()
                .layer(new GRU.Builder().nIn(N_IN).nOut(N_OUT).gateActivationFunction(new ActivationHardSigmoid6())
                        .activation(Activation.IDENTITY).build())
                .layer(rnnOut(N_OUT)).build());
        net.init();
        INDArray in = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.9);
        assertThat(check(net, in, GruTestData.sequenceLabels(DataType.DOUBLE, MB, CLASSES, T), mask(), cpu)).isTrue();
    }
}
