package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.recurrent.BaseRecurrentLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.rnn.GruTestData;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link NativeLSTM} computes what DL4J's {@code LSTM} computes: same initial parameters for the same seed, and with
 * the same parameters the same outputs, gradients and training steps, in FLOAT and DOUBLE, NCW and NWC, with
 * sequence-length masks, a truncated-BPTT segment (backward length equal to and shorter than the segment),
 * {@code rnnTimeStep}, {@code Bidirectional} and {@code LastTimeStep}.
 *
 * <p>Tolerance: 1e-10 relative to the largest value in double (the two compute the same sums in different orders),
 * 2e-5 in float (a few float ulps of values of order 1, accumulated over the sequence).
 */
class NativeLstmMatchesDl4jLstmTest {

    private static final int MB = 3;
    private static final int N_IN = 3;
    private static final int N_OUT = 5;
    private static final int T = 7;
    private static final int CLASSES = 3;

    static Stream<Arguments> cases() {
        return Stream.of(DataType.DOUBLE, DataType.FLOAT).flatMap(dt -> Stream.of(RNNFormat.NCW, RNNFormat.NWC)
                .flatMap(f -> Stream.of(Activation.TANH, Activation.SOFTSIGN)
                        .map(a -> Arguments.of(dt, f, a))));
    }

    private static double tol(DataType dt) {
        return dt == DataType.DOUBLE ? 1e-10 : 2e-5;
    }

    private static MultiLayerNetwork net(DataType dt, Function<Long, Layer> rnn, Layer out, BackpropType bp,
                                         int fwd, int bwd) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder().dataType(dt).seed(12345)
                .updater(new Sgd(0.1)).weightInit(WeightInit.XAVIER).list()
                .layer(rnn.apply((long) N_IN)).layer(out);
        if (bp == BackpropType.TruncatedBPTT) {
            list.backpropType(bp).tBPTTForwardLength(fwd).tBPTTBackwardLength(bwd);
        }
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        return net;
    }

    private static org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer dl4j(long nIn, RNNFormat f, Activation a) {
        return new LSTM.Builder().nIn(nIn).nOut(N_OUT).activation(a).gateActivationFunction(Activation.SIGMOID)
                .dataFormat(f).build();
    }

    private static org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer ours(long nIn, RNNFormat f, Activation a) {
        return new NativeLSTM.Builder().nIn(nIn).nOut(N_OUT).activation(a).dataFormat(f).build();
    }

    private static RnnOutputLayer rnnOut(RNNFormat f) {
        return new RnnOutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).dataFormat(f)
                .nIn(N_OUT).nOut(CLASSES).build();
    }

    private static INDArray in(DataType dt, RNNFormat f, int steps) {
        INDArray x = GruTestData.input(dt, MB, N_IN, steps, 0.3);
        return f == RNNFormat.NWC ? x.permute(0, 2, 1).dup('c') : x;
    }

    private static INDArray labels(DataType dt, RNNFormat f, int steps) {
        INDArray y = GruTestData.sequenceLabels(dt, MB, CLASSES, steps);
        return f == RNNFormat.NWC ? y.permute(0, 2, 1).dup('c') : y;
    }

    /** Row 0 full, row 1 four steps, row 2 two steps. */
    private static INDArray prefixMask(DataType dt, int steps) {
        INDArray m = Nd4j.zeros(dt, MB, steps);
        int[] len = {steps, 4, 2};
        for (int i = 0; i < MB; i++) {
            for (int t = 0; t < len[i]; t++) {
                m.putScalar(i, t, 1.0);
            }
        }
        return m;
    }

    private static void assertClose(INDArray actual, INDArray expected, double tol) {
        assertThat(actual.shape()).containsExactly(expected.shape());
        double scale = Math.max(1.0, expected.amaxNumber().doubleValue());
        assertThat(actual.sub(expected).amaxNumber().doubleValue()).isLessThanOrEqualTo(tol * scale);
    }

    @Test
    void sameSeed_givesTheSameInitialParametersAsDl4jLstm() {
        MultiLayerNetwork a = net(DataType.FLOAT, n -> dl4j(n, RNNFormat.NCW, Activation.TANH), rnnOut(RNNFormat.NCW),
                BackpropType.Standard, 0, 0);
        MultiLayerNetwork b = net(DataType.FLOAT, n -> ours(n, RNNFormat.NCW, Activation.TANH), rnnOut(RNNFormat.NCW),
                BackpropType.Standard, 0, 0);
        assertThat(b.params()).isEqualTo(a.params());
        // DL4J's forget-gate block (the second) starts at 1.0, the rest of the bias at 0
        INDArray bias = b.getLayer(0).getParam("b");
        assertThat(bias.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(N_OUT, 2 * N_OUT)).minNumber().doubleValue())
                .isEqualTo(1.0);
        assertThat(bias.sumNumber().doubleValue()).isEqualTo(N_OUT);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void outputsGradientsAndMaskedGradients_equalDl4jLstm(DataType dt, RNNFormat f, Activation act) {
        MultiLayerNetwork a = net(dt, n -> dl4j(n, f, act), rnnOut(f), BackpropType.Standard, 0, 0);
        MultiLayerNetwork b = net(dt, n -> ours(n, f, act), rnnOut(f), BackpropType.Standard, 0, 0);
        GruTestData.deterministicParams(a, 0.4);
        b.setParams(a.params());
        INDArray x = in(dt, f, T);
        INDArray y = labels(dt, f, T);
        assertClose(b.output(x), a.output(x), tol(dt));
        for (INDArray mask : new INDArray[] {null, prefixMask(dt, T)}) {
            a.setLayerMaskArrays(mask, mask);
            b.setLayerMaskArrays(mask, mask);
            a.setInput(x);
            a.setLabels(y);
            b.setInput(x);
            b.setLabels(y);
            a.computeGradientAndScore();
            b.computeGradientAndScore();
            assertThat(b.score()).isCloseTo(a.score(), org.assertj.core.api.Assertions.within(tol(dt) * 10));
            assertClose(b.gradient().gradient(), a.gradient().gradient(), tol(dt));
            assertClose(b.feedForwardToLayer(0, x, false).get(1), a.feedForwardToLayer(0, x, false).get(1), tol(dt));
        }
    }

    /**
     * One truncated-BPTT segment from a stored state, at the layer (as {@code tbpttBackpropGradient} is specified),
     * with the backward length equal to the segment and shorter than it.
     *
     * <p>Note: in DL4J 1.0.0-M2.1, {@code MultiLayerNetwork} calls {@code backpropGradient}, not
     * {@code tbpttBackpropGradient}, during truncated BPTT, so DL4J's own LSTM then recomputes each segment from a
     * zero state in its backward pass (and ignores the backward length) while its forward pass started from the
     * carried state. NativeLSTM back-propagates from the state its forward pass used, so from the second segment
     * on the two networks train differently; the gradient NativeLSTM computes is the one this test checks.
     */
    @ParameterizedTest(name = "{0} backward {1} of 6")
    @MethodSource("tbpttCases")
    void truncatedBpttSegment_fromStoredState_equalsDl4jLstm(DataType dt, int backward) {
        MultiLayerNetwork a = net(dt, n -> dl4j(n, RNNFormat.NCW, Activation.TANH), rnnOut(RNNFormat.NCW),
                BackpropType.Standard, 0, 0);
        MultiLayerNetwork b = net(dt, n -> ours(n, RNNFormat.NCW, Activation.TANH), rnnOut(RNNFormat.NCW),
                BackpropType.Standard, 0, 0);
        GruTestData.deterministicParams(a, 0.7);
        b.setParams(a.params());
        a.initGradientsView();
        b.initGradientsView();
        INDArray x = in(dt, RNNFormat.NCW, 6);
        INDArray eps = GruTestData.input(dt, MB, N_OUT, 6, 2.1);
        Map<String, INDArray> state = Map.of(NativeLSTMLayer.STATE_KEY_PREV_ACTIVATION,
                GruTestData.input(dt, MB, N_OUT, 1, 0.5).reshape(MB, N_OUT).mul(0.5),
                NativeLSTMLayer.STATE_KEY_PREV_MEMCELL, GruTestData.input(dt, MB, N_OUT, 1, 1.5).reshape(MB, N_OUT));
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        List<Pair<INDArray, Pair<Gradient, INDArray>>> results = new ArrayList<>();
        for (MultiLayerNetwork net : List.of(a, b)) {
            BaseRecurrentLayer<?> layer = (BaseRecurrentLayer<?>) net.getLayer(0);
            layer.rnnSetPreviousState(new HashMap<>(state));
            layer.rnnSetTBPTTState(new HashMap<>(state));
            INDArray out = layer.rnnActivateUsingStoredState(x, true, true, ws).dup();
            Pair<Gradient, INDArray> g = layer.tbpttBackpropGradient(eps, backward, ws);
            results.add(new Pair<>(out, new Pair<>(g.getFirst(), g.getSecond().dup())));
        }
        assertClose(results.get(1).getFirst(), results.get(0).getFirst(), tol(dt));
        assertClose(results.get(1).getSecond().getSecond(), results.get(0).getSecond().getSecond(), tol(dt));
        for (String key : List.of("W", "RW", "b")) {
            assertClose(results.get(1).getSecond().getFirst().getGradientFor(key),
                    results.get(0).getSecond().getFirst().getGradientFor(key), tol(dt));
        }
    }

    static Stream<Arguments> tbpttCases() {
        return Stream.of(DataType.DOUBLE, DataType.FLOAT).flatMap(dt -> Stream.of(6, 2).map(k -> Arguments.of(dt, k)));
    }

    @Test
    void rnnTimeStep_carriesHiddenAndCellStateAsDl4jLstm() {
        DataType dt = DataType.DOUBLE;
        MultiLayerNetwork a = net(dt, n -> dl4j(n, RNNFormat.NCW, Activation.TANH), rnnOut(RNNFormat.NCW),
                BackpropType.Standard, 0, 0);
        MultiLayerNetwork b = net(dt, n -> ours(n, RNNFormat.NCW, Activation.TANH), rnnOut(RNNFormat.NCW),
                BackpropType.Standard, 0, 0);
        GruTestData.deterministicParams(a, 1.1);
        b.setParams(a.params());
        INDArray x = in(dt, RNNFormat.NCW, 6);
        for (int[] cut : new int[][] {{0, 1}, {1, 4}, {4, 6}}) {
            INDArray part = x.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(cut[0], cut[1])).dup();
            assertClose(b.rnnTimeStep(part), a.rnnTimeStep(part), 1e-10);
        }
        assertClose(b.rnnGetPreviousState(0).get(NativeLSTMLayer.STATE_KEY_PREV_MEMCELL),
                a.rnnGetPreviousState(0).get(NativeLSTMLayer.STATE_KEY_PREV_MEMCELL), 1e-10);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wrapperCases")
    void bidirectionalAndLastTimeStep_withMasks_equalDl4jLstm(String name, DataType dt) {
        boolean bidi = name.equals("bidirectional");
        Function<Long, Layer> dl4jLayer = n -> bidi ? new Bidirectional(Bidirectional.Mode.ADD,
                dl4j(n, RNNFormat.NCW, Activation.TANH)) : new LastTimeStep(dl4j(n, RNNFormat.NCW, Activation.TANH));
        Function<Long, Layer> ourLayer = n -> bidi ? new Bidirectional(Bidirectional.Mode.ADD,
                ours(n, RNNFormat.NCW, Activation.TANH)) : new LastTimeStep(ours(n, RNNFormat.NCW, Activation.TANH));
        Layer out = bidi ? rnnOut(RNNFormat.NCW) : new OutputLayer.Builder(LossFunction.MCXENT)
                .activation(Activation.SOFTMAX).nIn(N_OUT).nOut(CLASSES).build();
        MultiLayerNetwork a = net(dt, dl4jLayer, out, BackpropType.Standard, 0, 0);
        MultiLayerNetwork b = net(dt, ourLayer, out.clone(), BackpropType.Standard, 0, 0);
        GruTestData.deterministicParams(a, 0.2);
        b.setParams(a.params());
        INDArray x = in(dt, RNNFormat.NCW, T);
        INDArray y = bidi ? labels(dt, RNNFormat.NCW, T) : GruTestData.labels(dt, MB, CLASSES);
        INDArray mask = prefixMask(dt, T);
        DataSet batch = new DataSet(x, y, mask, bidi ? mask : null);
        for (int i = 0; i < 2; i++) {
            a.fit(batch);
            b.fit(batch);
        }
        assertClose(b.params(), a.params(), tol(dt));
        assertClose(b.output(x, false, mask, bidi ? mask : null), a.output(x, false, mask, bidi ? mask : null), tol(dt));
    }

    static Stream<Arguments> wrapperCases() {
        return Stream.of("bidirectional", "lastTimeStep").flatMap(n -> Stream.of(DataType.DOUBLE, DataType.FLOAT)
                .map(dt -> Arguments.of(n, dt)));
    }

    @Test
    void maskWithAGap_failsNamingTheLayerAndTheRow() {
        MultiLayerNetwork b = net(DataType.FLOAT, n -> new NativeLSTM.Builder().name("encoder").nIn(n).nOut(N_OUT)
                .build(), rnnOut(RNNFormat.NCW), BackpropType.Standard, 0, 0);
        INDArray mask = Nd4j.ones(DataType.FLOAT, MB, T);
        mask.putScalar(1, 2, 0.0);
        INDArray x = in(DataType.FLOAT, RNNFormat.NCW, T);
        b.getLayer(0).setMaskArray(mask);
        assertThatThrownBy(() -> b.getLayer(0).activate(x, false, LayerWorkspaceMgr.noWorkspaces()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("encoder").hasMessageContaining("mask row 1")
                .hasMessageContaining("ones followed by zeros");
    }

    @Test
    void unsupportedActivation_failsWhenBuilt() {
        assertThatThrownBy(() -> new NativeLSTM.Builder().name("enc").nIn(2).nOut(3).activation(Activation.RELU).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'enc'").hasMessageContaining("activation")
                .hasMessageContaining("tanh, sigmoid, softsign, softplus").hasMessageContaining("relu");
        assertThatThrownBy(() -> new NativeLSTM.Builder().nIn(2).nOut(0).build())
                .hasMessageContaining("nOut must be > 0");
    }
}
