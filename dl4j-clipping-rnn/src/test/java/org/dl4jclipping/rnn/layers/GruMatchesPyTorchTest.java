package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.dl4jclipping.rnn.conf.GRU;
import org.dl4jclipping.rnn.params.GRUParamInitializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Outputs and gradients of the GRU against PyTorch's {@code nn.GRU} for the same weights and inputs.
 * The expected numbers come from {@code src/test/python/gru_fixture.py} (PyTorch 1.13, float64); every input and
 * weight is the closed formula stated there and rebuilt below.
 */
@ExtendWith(DoublePrecision.class)
class GruMatchesPyTorchTest {

    private static final int N_IN = 3;
    private static final int N_OUT = 4;
    private static final int MB = 2;
    private static final int T = 5;
    private static final double TOL = 1e-6;

    // torch 1.13.0a0
    private static final double[] EXPECTED_OUTPUT = {0.1525549143578669, 0.2124505985692604, 0.20759114185122984, 0.15637900256320802, 0.07476929677137609, 0.22490139360093903, 0.33499543444594043, 0.365852608608357, 0.33306955208464895, 0.24704760017644872, 0.250745945944876, 0.395015430719986, 0.4630841443494698, 0.4655782708218153, 0.40603633163062736, 0.22064075808966901, 0.36941657206066336, 0.46139793787572947, 0.4984445951580324, 0.4777903742411051, -0.07037435165674716, -0.11164207400192856, -0.16633257060349974, -0.22517811337394494, -0.27453848810673326, 0.07371428476131078, 0.04536565176272966, -0.04466452231567601, -0.1599272061225106, -0.27171858128915904, 0.2148840956078424, 0.22788497463826507, 0.13555205320132283, -0.011139361227836514, -0.16961286619944152, 0.28151956769094433, 0.3428949308939823, 0.28165181101656334, 0.1427509569412144, -0.031518756579040685};
    private static final double[] EXPECTED_DX = {-0.23510821876786814, -0.31663732130403033, -0.18155232897429477, 0.0179819413815725, 0.11225934342794053, -0.015321340671288486, -0.3871575232124689, -0.48167557000260863, -0.3047480174230352, -0.033585200952413276, 0.21167140334555, -0.27559149245090914, -0.5552592640703009, -0.4841502218144637, -0.1636341005416062, -0.35877607773272957, -0.31908412192526664, -0.09727297101331304, 0.11274122399058953, 0.14127187519578252, -0.271100827736458, -0.5949654425809128, -0.4964728799536877, -0.13635451995813097, 0.09329996624621135, -0.05592262238844607, -0.5910252189992711, -0.6621738358491025, -0.3213206025723961, 0.0014476253188599325};
    private static final double[] EXPECTED_DW = {-0.16972473254351728, -0.1790684172585641, -0.070165188888903, 0.021183200879253298, -0.11210053816301431, -0.151152392366767, 0.061047117092274415, 0.32936000111209024, -2.0430076784801185, -3.1217466700840197, -3.00834160725615, -1.925671685401353, -0.0908715696151261, -0.12448841079105716, -0.052950372027745087, 0.03172093411812208, -0.08290475136589512, -0.04250621897352344, 0.19797501120986222, 0.4350415141363408, -0.07908456445078704, -1.7034785726863886, -2.45221925101323, -2.4533624080687555, 0.05818065334219664, 0.026259951291307208, 0.005169057357143377, 0.017753976090370775, 0.010335660636524505, 0.09897636992308557, 0.18196552617783104, 0.2046497591926214, 1.9459320479164284, 1.0307412034209422, -0.0017366769918642916, -1.0858098144143145};
    private static final double[] EXPECTED_DRW = {-0.016052184232001724, -0.014023777574518646, -0.0033618372499232005, 0.0025842131565344804, 0.002962300908525464, 0.024168093810560544, 0.0337059166168372, 0.02004177994700832, -0.040993141627888016, -0.07010889140121693, -0.05358114246624615, -0.07092266160268389, -0.04819329094884913, -0.04549887966934277, -0.01506331478925578, 0.0044983631619488, -0.021369745954115667, -0.001336214353336012, 0.034739433004770344, 0.04824294980343735, -0.315884085425544, -0.40036672983199373, -0.2925397634221674, -0.16598893435854406, -0.07572509693309283, -0.0721899249548574, -0.025175074998339368, 0.005525739450716764, -0.047099763035892944, -0.0342638507833847, 0.025876564490706435, 0.07053258266217893, -0.581613282132853, -0.7023604123145134, -0.5018260903387461, -0.2248405465544963, -0.08612635790401196, -0.08170297397603976, -0.028871984940236625, 0.005220069008568683, -0.06183815448799886, -0.0580220376923693, 0.012346693431596757, 0.07650778695358532, -0.7128502424258035, -0.8324388766416342, -0.5807387475156404, -0.21964465342262462};
    private static final double[] EXPECTED_DB = {-0.17969003618298848, -0.21282386941447573, -0.08640618080895388, 0.03638162833920405, -0.22091407607734728, -0.2380682230383656, 0.1545091870326172, 0.6147179242709804, -1.8375061160980461, -3.5728774160496606, -3.790606964831453, -2.649033373305494};
    private static final double[] EXPECTED_DRB = {-0.1796900361829885, -0.2128238694144757, -0.08640618080895388, 0.03638162833920405, -0.22091407607734725, -0.2380682230383656, 0.1545091870326172, 0.6147179242709804, -1.0732218356906693, -2.133761389355709, -1.9843543284701304, -1.089873222475855};


    @Test
    void forwardOutputEqualsPyTorchNnGru() {
        GRULayer layer = layerWithPyTorchWeights();
        layer.setInput(input(), LayerWorkspaceMgr.noWorkspaces());
        INDArray out = layer.activate(false, LayerWorkspaceMgr.noWorkspaces());

        assertThat(out.shape()).containsExactly(MB, N_OUT, T);
        assertClose(out, EXPECTED_OUTPUT);
    }

    @Test
    void gradientsOfWeightedSumEqualPyTorchAutograd() {
        GRULayer layer = layerWithPyTorchWeights();
        layer.setInput(input(), LayerWorkspaceMgr.noWorkspaces());
        layer.activate(true, LayerWorkspaceMgr.noWorkspaces());
        Pair<Gradient, INDArray> g = layer.backpropGradient(lossWeights(), LayerWorkspaceMgr.noWorkspaces());

        assertClose(g.getSecond(), EXPECTED_DX);
        assertClose(g.getFirst().getGradientFor(GRUParamInitializer.INPUT_WEIGHT_KEY), EXPECTED_DW);
        assertClose(g.getFirst().getGradientFor(GRUParamInitializer.RECURRENT_WEIGHT_KEY), EXPECTED_DRW);
        assertClose(g.getFirst().getGradientFor(GRUParamInitializer.BIAS_KEY), EXPECTED_DB);
        assertClose(g.getFirst().getGradientFor(GRUParamInitializer.RECURRENT_BIAS_KEY), EXPECTED_DRB);
    }

    static void assertClose(INDArray actual, double[] expected) {
        assertClose(actual, expected, TOL);
    }

    /** Every element of {@code actual} (row-major) within {@code tol} of {@code expected}. */
    static void assertClose(INDArray actual, double[] expected, double tol) {
        assertThat(actual.length()).isEqualTo(expected.length);
        INDArray rowMajor = actual.dup('c');
        for (int k = 0; k < expected.length; k++) {
            assertThat(rowMajor.getDouble(k)).as("element %d", k).isCloseTo(expected[k], within(tol));
        }
    }

    static GRULayer layerWithPyTorchWeights() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .dataType(DataType.DOUBLE).updater(new NoOp()).list()
                .layer(new GRU.Builder().nIn(N_IN).nOut(N_OUT).build())
                .build());
        net.init();
        net.initGradientsView();
        GRULayer layer = (GRULayer) net.getLayer(0);
        INDArray w = layer.getParam(GRUParamInitializer.INPUT_WEIGHT_KEY);
        INDArray rw = layer.getParam(GRUParamInitializer.RECURRENT_WEIGHT_KEY);
        INDArray b = layer.getParam(GRUParamInitializer.BIAS_KEY);
        INDArray rb = layer.getParam(GRUParamInitializer.RECURRENT_BIAS_KEY);
        for (int k = 0; k < 3 * N_OUT; k++) {
            for (int i = 0; i < N_IN; i++) {
                w.putScalar(i, k, 0.3 * Math.cos(0.5 * k + 0.7 * i + 0.2));     // weight_ih[k, i], transposed
            }
            for (int j = 0; j < N_OUT; j++) {
                rw.putScalar(j, k, 0.25 * Math.sin(0.3 * k - 0.4 * j + 0.5));   // weight_hh[k, j], transposed
            }
            b.putScalar(0, k, 0.1 * Math.cos(1.1 * k));
            rb.putScalar(0, k, 0.1 * Math.sin(0.9 * k + 0.3));
        }
        return layer;
    }

    static INDArray input() {
        return input(1.0);
    }

    /** x[b, i, t] = scale · sin(0.37 t + 0.91 i + 1.3 b), [MB, N_IN, T]. */
    static INDArray input(double scale) {
        INDArray x = Nd4j.create(DataType.DOUBLE, MB, N_IN, T);
        for (int b = 0; b < MB; b++) {
            for (int i = 0; i < N_IN; i++) {
                for (int t = 0; t < T; t++) {
                    x.putScalar(new int[] {b, i, t}, scale * Math.sin(0.37 * t + 0.91 * i + 1.3 * b));
                }
            }
        }
        return x;
    }

    static INDArray lossWeights() {
        INDArray c = Nd4j.create(DataType.DOUBLE, MB, N_OUT, T);
        for (int b = 0; b < MB; b++) {
            for (int j = 0; j < N_OUT; j++) {
                for (int t = 0; t < T; t++) {
                    c.putScalar(new int[] {b, j, t}, Math.cos(0.29 * (b + 2 * j + 3 * t)));
                }
            }
        }
        return c;
    }
}
