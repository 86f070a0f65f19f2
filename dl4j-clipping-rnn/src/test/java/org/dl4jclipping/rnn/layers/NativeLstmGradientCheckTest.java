package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.rnn.GruTestData;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Finite-difference gradient checks (double precision) of {@link NativeLSTM} in the network shapes DL4J users build:
 * these check libnd4j's {@code lstmLayer_bp} itself, not only its agreement with DL4J's LSTM.
 */
@ExtendWith(DoublePrecision.class)
class NativeLstmGradientCheckTest {

    private static final int MB = 3;
    private static final int N_IN = 3;
    private static final int N_OUT = 4;
    private static final int T = 5;
    private static final int CLASSES = 3;


    private static NeuralNetConfiguration.Builder base(WorkspaceMode mode) {
        return new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(42).updater(new NoOp())
                .weightInit(WeightInit.XAVIER).trainingWorkspaceMode(mode).inferenceWorkspaceMode(mode);
    }

    private static RnnOutputLayer rnnOut(int nIn) {
        return new RnnOutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX)
                .nIn(nIn).nOut(CLASSES).build();
    }

    private static boolean check(MultiLayerNetwork net, INDArray in, INDArray labels, INDArray fMask, INDArray lMask) {
        return check(net, in, labels, fMask, lMask, 1e-9);
    }

    private static boolean check(MultiLayerNetwork net, INDArray in, INDArray labels, INDArray fMask, INDArray lMask,
                                 double minAbsoluteError) {
        GruTestData.deterministicParams(net, 0.3);
        return GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net).input(in).labels(labels)
                .inputMask(fMask).labelMask(lMask).epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(minAbsoluteError)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
    }

    private static INDArray mask() {
        // sequence 0 full, sequence 1 ends after 3 steps, sequence 2 after 1 (the op takes sequence lengths)
        return Nd4j.createFromArray(new double[][] {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}, {1, 0, 0, 0, 0}});
    }

    @ParameterizedTest
    @EnumSource(value = WorkspaceMode.class, names = {"NONE", "ENABLED"})
    void nativeLstmWithRnnOutputLayerPassesGradientCheck(WorkspaceMode mode) {
        MultiLayerNetwork net = new MultiLayerNetwork(base(mode).list()
                .layer(new NativeLSTM.Builder().nIn(N_IN).nOut(N_OUT).build())
                .layer(rnnOut(N_OUT)).build());
        net.init();
        INDArray in = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.0);
        // 2e-9 absolute, not 1e-9: the score here is 5.9, so one ulp of it (8.9e-16) moves a central difference with
        // epsilon 1e-6 by 4.4e-10; parameter 65 (gradient 2.36e-5) was 1.2e-9 = 2.7 such steps off with the CPU kernel
        // (its analytic gradient equals the op path's to 5e-20), 1.5e-10 with the op path's different rounding.
        assertThat(check(net, in, GruTestData.sequenceLabels(DataType.DOUBLE, MB, CLASSES, T), null, null, 2e-9))
                .isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = WorkspaceMode.class, names = {"NONE", "ENABLED"})
    void maskedSequencesPassGradientCheck(WorkspaceMode mode) {
        MultiLayerNetwork net = new MultiLayerNetwork(base(mode).list()
                .layer(new NativeLSTM.Builder().nIn(N_IN).nOut(N_OUT).build())
                .layer(new NativeLSTM.Builder().nIn(N_OUT).nOut(N_OUT).activation(Activation.SOFTSIGN).build())
                .layer(rnnOut(N_OUT)).build());
        net.init();
        INDArray in = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.4);
        INDArray labels = GruTestData.sequenceLabels(DataType.DOUBLE, MB, CLASSES, T);
        assertThat(check(net, in, labels, mask(), mask())).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = WorkspaceMode.class, names = {"NONE", "ENABLED"})
    void nwcDataFormatPassesGradientCheck(WorkspaceMode mode) {
        MultiLayerNetwork net = new MultiLayerNetwork(base(mode).list()
                .layer(new NativeLSTM.Builder().nIn(N_IN).nOut(N_OUT).dataFormat(RNNFormat.NWC).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX)
                        .dataFormat(RNNFormat.NWC).nIn(N_OUT).nOut(CLASSES).build()).build());
        net.init();
        INDArray in = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.1).permute(0, 2, 1).dup();
        INDArray labels = GruTestData.sequenceLabels(DataType.DOUBLE, MB, CLASSES, T).permute(0, 2, 1).dup();
        assertThat(check(net, in, labels, mask(), mask())).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = WorkspaceMode.class, names = {"NONE", "ENABLED"})
    void bidirectionalNativeLstmPassesGradientCheck(WorkspaceMode mode) {
        MultiLayerNetwork net = new MultiLayerNetwork(base(mode).list()
                .layer(new Bidirectional(Bidirectional.Mode.CONCAT, new NativeLSTM.Builder().nIn(N_IN).nOut(N_OUT).build()))
                .layer(rnnOut(2 * N_OUT))
                .setInputType(InputType.recurrent(N_IN)).build());
        net.init();
        INDArray in = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.7);
        INDArray labels = GruTestData.sequenceLabels(DataType.DOUBLE, MB, CLASSES, T);
        assertThat(check(net, in, labels, mask(), mask())).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = WorkspaceMode.class, names = {"NONE", "ENABLED"})
    void lastTimeStepOfNativeLstmPassesGradientCheck(WorkspaceMode mode) {
        MultiLayerNetwork net = new MultiLayerNetwork(base(mode).list()
                .layer(new LastTimeStep(new NativeLSTM.Builder().nIn(N_IN).nOut(N_OUT).build()))
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX)
                        .nIn(N_OUT).nOut(CLASSES).build()).build());
        net.init();
        INDArray in = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 1.1);
        INDArray labels = GruTestData.labels(DataType.DOUBLE, MB, CLASSES);
        assertThat(check(net, in, labels, mask(), null)).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = WorkspaceMode.class, names = {"NONE", "ENABLED"})
    void nativeLstmInComputationGraphPassesGradientCheck(WorkspaceMode mode) {
        ComputationGraphConfiguration conf = base(mode).graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.recurrent(N_IN))
                .addLayer("lstm", new NativeLSTM.Builder().nOut(N_OUT).build(), "in")
                .addLayer("out", rnnOut(N_OUT), "lstm")
                .setOutputs("out").build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        GruTestData.deterministicParams(graph, 0.9);
        INDArray in = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.2);
        INDArray labels = GruTestData.sequenceLabels(DataType.DOUBLE, MB, CLASSES, T);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(graph)
                .inputs(new INDArray[] {in}).labels(new INDArray[] {labels})
                .inputMask(new INDArray[] {mask()}).labelMask(new INDArray[] {mask()})
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
        assertThat(ok).isTrue();
    }
}
