package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.dl4jclipping.rnn.GruTestData;
import org.dl4jclipping.rnn.conf.GRU;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Stateful inference (rnnTimeStep) and truncated BPTT, for both variants ({@code resetAfter} true and false). */
@ExtendWith(DoublePrecision.class)
class GruStatefulAndTbpttTest {

    private static final int MB = 2;
    private static final int N_IN = 3;
    private static final int N_OUT = 5;
    private static final int T = 6;


    private static MultiLayerNetwork net(boolean tbptt, int segment, WorkspaceMode mode, boolean resetAfter) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).trainingWorkspaceMode(mode).inferenceWorkspaceMode(mode).list()
                .layer(new GRU.Builder().nIn(N_IN).nOut(N_OUT).resetAfter(resetAfter).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX)
                        .nIn(N_OUT).nOut(3).build());
        if (tbptt) {
            b.backpropType(BackpropType.TruncatedBPTT).tBPTTForwardLength(segment).tBPTTBackwardLength(segment);
        }
        MultiLayerNetwork net = new MultiLayerNetwork(b.build());
        net.init();
        GruTestData.deterministicParams(net, 1.3);
        return net;
    }

    private static INDArray steps(INDArray x, int from, int to) {
        return x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(from, to)).dup();
    }

    @ParameterizedTest(name = "resetAfter={0}")
    @ValueSource(booleans = {true, false})
    void rnnTimeStepOneStepAtATimeEqualsFullSequenceOutput(boolean resetAfter) {
        MultiLayerNetwork net = net(false, 0, WorkspaceMode.ENABLED, resetAfter);
        INDArray x = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.5);
        INDArray full = net.output(x);
        for (int t = 0; t < T; t++) {
            INDArray out = net.rnnTimeStep(steps(x, t, t + 1));
            INDArray expected = steps(full, t, t + 1);
            assertThat(out.reshape(expected.shape()).equalsWithEps(expected, 1e-12)).as("step %d", t).isTrue();
        }
        net.rnnClearPreviousState();
        INDArray restarted = net.rnnTimeStep(steps(x, 0, 2));
        assertThat(restarted.equalsWithEps(steps(full, 0, 2), 1e-12)).isTrue();
    }

    @ParameterizedTest(name = "resetAfter={0}")
    @ValueSource(booleans = {true, false})
    void storedTbpttStateCarriesHiddenStateAcrossSegments(boolean resetAfter) {
        MultiLayerNetwork net = net(true, 3, WorkspaceMode.NONE, resetAfter);
        INDArray x = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.2);
        INDArray full = net.output(x);
        net.rnnClearPreviousState();
        List<INDArray> first = net.rnnActivateUsingStoredState(steps(x, 0, 3), false, true);
        List<INDArray> second = net.rnnActivateUsingStoredState(steps(x, 3, T), false, true);
        assertThat(first.get(2).equalsWithEps(steps(full, 0, 3), 1e-12)).isTrue();
        assertThat(second.get(2).equalsWithEps(steps(full, 3, T), 1e-12)).isTrue();
    }

    @ParameterizedTest(name = "resetAfter={0}")
    @ValueSource(booleans = {true, false})
    void tbpttWithSegmentEqualToSequenceLengthEqualsFullBptt(boolean resetAfter) {
        INDArray x = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.9);
        DataSet ds = new DataSet(x, GruTestData.sequenceLabels(DataType.DOUBLE, MB, 3, T));
        MultiLayerNetwork full = net(false, 0, WorkspaceMode.ENABLED, resetAfter);
        MultiLayerNetwork truncated = net(true, T, WorkspaceMode.ENABLED, resetAfter);
        for (int i = 0; i < 3; i++) {
            full.fit(ds);
            truncated.fit(ds);
        }
        assertThat(truncated.params().equalsWithEps(full.params(), 1e-12)).isTrue();
        assertThat(truncated.params().equalsWithEps(net(false, 0, WorkspaceMode.NONE, resetAfter).params(), 1e-3))
                .isFalse();
    }

    @ParameterizedTest(name = "resetAfter={0}")
    @ValueSource(booleans = {true, false})
    void segmentGradientStartsFromCarriedStateAndMatchesFiniteDifferences(boolean resetAfter) {
        MultiLayerNetwork net = net(false, 0, WorkspaceMode.NONE, resetAfter);
        net.initGradientsView();
        GRULayer layer = (GRULayer) net.getLayer(0);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        INDArray h0 = Nd4j.createFromArray(new double[][] {{0.3, -0.2, 0.5, 0.1, -0.4}, {-0.1, 0.6, 0.2, -0.3, 0.2}});
        INDArray x = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.1);
        INDArray c = GruTestData.input(DataType.DOUBLE, MB, N_OUT, T, 2.0);

        layer.rnnSetTBPTTState(Map.of(GRULayer.STATE_KEY_PREV_ACTIVATION, h0));
        layer.rnnActivateUsingStoredState(x, true, true, mgr);
        assertThat(layer.rnnGetTBPTTState().get(GRULayer.STATE_KEY_PREV_ACTIVATION).equalsWithEps(h0, 1e-3))
                .as("the stored state moved on to the segment's last hidden state").isFalse();
        Pair<Gradient, INDArray> analytic = layer.tbpttBackpropGradient(c, T, mgr);
        INDArray analyticParams = analytic.getFirst().gradient().dup();

        INDArray params = layer.params();
        double eps = 1e-6;
        for (long k = 0; k < params.length(); k++) {
            double orig = params.getDouble(k);
            params.putScalar(k, orig + eps);
            double plus = segmentLoss(layer, h0, x, c, mgr);
            params.putScalar(k, orig - eps);
            double minus = segmentLoss(layer, h0, x, c, mgr);
            params.putScalar(k, orig);
            assertThat(analyticParams.getDouble(k)).as("param %d", k)
                    .isCloseTo((plus - minus) / (2 * eps), within(1e-7));
        }
    }

    @ParameterizedTest(name = "resetAfter={0}")
    @ValueSource(booleans = {true, false})
    void truncatedBackwardLengthLeavesEarlierStepsWithoutInputGradient(boolean resetAfter) {
        MultiLayerNetwork net = net(false, 0, WorkspaceMode.NONE, resetAfter);
        net.initGradientsView();
        GRULayer layer = (GRULayer) net.getLayer(0);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        INDArray x = GruTestData.input(DataType.DOUBLE, MB, N_IN, T, 0.1);
        layer.rnnActivateUsingStoredState(x, true, false, mgr);
        INDArray dx = layer.tbpttBackpropGradient(Nd4j.ones(DataType.DOUBLE, MB, N_OUT, T), 2, mgr).getSecond();
        assertThat(steps(dx, 0, T - 2).amaxNumber().doubleValue()).isZero();
        assertThat(steps(dx, T - 2, T).amaxNumber().doubleValue()).isGreaterThan(1e-3);
    }

    private static double segmentLoss(GRULayer layer, INDArray h0, INDArray x, INDArray c, LayerWorkspaceMgr mgr) {
        layer.rnnSetTBPTTState(Map.of(GRULayer.STATE_KEY_PREV_ACTIVATION, h0));
        return layer.rnnActivateUsingStoredState(x, false, false, mgr).mul(c).sumNumber().doubleValue();
    }
}
