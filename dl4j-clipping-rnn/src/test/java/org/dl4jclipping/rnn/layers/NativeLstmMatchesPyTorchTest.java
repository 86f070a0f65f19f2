package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Outputs and gradients of {@link NativeLSTM} against PyTorch's {@code nn.LSTM} for the same weights and inputs, from
 * a zero state and from a given (h0, c0). The expected numbers come from {@code src/test/python/lstm_fixture.py}
 * (Debian's python3-torch 1.13.1, float64); every input and weight is the closed formula stated there and rebuilt
 * below. PyTorch's gate blocks (i, f, g, o) map to DL4J's (g, f, o, i); its two biases add into DL4J's one, and the
 * gradient of that one bias equals each of PyTorch's two bias gradients. Tolerance 1e-6 absolute (the issue's
 * bound; the differences seen are about 1e-16).
 */
@ExtendWith(DoublePrecision.class)
class NativeLstmMatchesPyTorchTest {

    private static final int N_IN = 3;
    private static final int N_OUT = 4;
    private static final int MB = 2;
    private static final int T = 5;
    private static final double TOL = 1e-6;
    /** For each DL4J gate block (g, f, o, i), the PyTorch block (i=0, f=1, g=2, o=3) it holds. */
    private static final int[] PT_BLOCK_OF_DL4J = {2, 1, 3, 0};

    // torch 1.13.0a0 (the version string of Debian's python3-torch 1.13.1+dfsg)
    private static final double[] EXPECTED_OUTPUT = {0.08682922278599645, 0.11949141524404651, 0.11230872915929944, 0.07567381952137593, 0.021878747906646737, 0.10020099184265445, 0.15354719684855506, 0.17332351961533313, 0.1625495895905185, 0.12094674753944928, 0.08532580185904046, 0.13755592076914594, 0.16883576827789024, 0.18164654855134163, 0.170951792981625, 0.06284066429033576, 0.10461816779137777, 0.13467859708700722, 0.15614408782896305, 0.16557376119227402, -0.03088227772837346, -0.061568086597177545, -0.09488124364654853, -0.12172350398391221, -0.136275352927752, 0.051693713703676196, 0.03371409794615439, -0.02328444025970492, -0.09407698328513063, -0.15646135617965842, 0.09582530911437295, 0.1080482647318101, 0.06445717470862815, -0.019637733836942065, -0.11837775355138686, 0.09437692696075241, 0.12757405501701827, 0.11355855820081127, 0.05087926187806356, -0.0501350269825438};
    private static final double[] EXPECTED_DX = {-0.03579388165906112, -0.07615369931681364, -0.058356628807643356, 0.009666564681369722, 0.06224402509581432, 0.0378436829042142, -0.05733515291178962, -0.12147217554433476, -0.1238286680604113, -0.04399672299237633, 0.09368277207378072, -0.011550988205873861, -0.12745746006742523, -0.19908534333706934, -0.12954512478949204, -0.14006800591843427, -0.1361435350366509, -0.03067023288556264, 0.10038024333004572, 0.11809709629706239, -0.04978052229519844, -0.23418848464072323, -0.26786484112480446, -0.08789808222168163, 0.0839379276541756, 0.06391951880558668, -0.2220909306222501, -0.3790784290794522, -0.23483656625913124, 0.010301440069231258};
    private static final double[] EXPECTED_DW_IH = {0.03988536980122344, -0.005671767004638863, -0.0468474155835994, -0.051250088399504054, -0.11607805951227852, -0.09123474286963644, -0.20020675417538183, -0.23874089310380703, -0.09284566256786675, -0.2300405168185447, -0.2487538568401325, -0.0753027277906146, -0.015955747145830562, -0.0670155474920673, -0.0663052677000132, -0.12351227909428072, -0.13541813100924902, -0.042712325527010486, -0.1570789172439975, -0.13432770000336877, -0.007807192587354123, -0.07536630543800371, -0.08229976462666586, -0.02565595600908791, -1.1560274882386947, -0.1257274206838852, 1.0016981481608416, -1.7140086684622473, -0.8594314770476915, 0.6590638364324234, -1.4221167875551006, -0.9866669963902374, 0.21099143716429863, -0.7165294573973966, -0.9087917485364274, -0.3990046882720776, 0.028248527145237557, -0.027553376602375654, -0.06207006269278257, -0.08798772913998365, -0.12893935990420277, -0.07028423902604143, -0.24584816339572732, -0.24119556484789104, -0.050217342046164945, -0.24667329085646428, -0.24367532815241522, -0.05243610296120802};
    private static final double[] EXPECTED_DW_HH = {-0.011706639700892233, -0.005798544845771713, 0.002659382106568229, 0.008053653363783792, -0.022097055337565622, -0.02339850394147823, -0.016126820826152688, -0.00831389127471266, -0.018438091845641214, -0.02910916130718115, -0.02909592873791541, -0.023594565049122, -0.006774648801872212, -0.017476663955507496, -0.02159367160638912, -0.020089081575073286, -0.013126719540173873, -0.012994860443374594, -0.007595671320072601, -0.002273836293294352, -0.01478243917751242, -0.0233835236574521, -0.023020730752772584, -0.018176758305274585, -0.008063516139753504, -0.020079433752853697, -0.02418186780956257, -0.021832690866957456, -0.004268498229899606, -0.009737386816541887, -0.0109737122421315, -0.009035254196335017, -0.020281631229282657, -0.15328930398155974, -0.22833728544632695, -0.23507714445380082, -0.017931976485027763, -0.1700894482775141, -0.2533795672127267, -0.25547762615949005, -0.011570215048433986, -0.11969947592106447, -0.17487212525110235, -0.1699359502816144, -0.04106843359041431, -0.08010336803966445, -0.0806435015161518, -0.056481246323003956, -0.01506449412519853, -0.010527051124542074, -0.0005604221835791906, 0.007404535216148226, -0.026289507449223534, -0.031608384971415035, -0.024636378811221354, -0.014954519331726554, -0.02238325933387053, -0.039197375721560554, -0.041387701800799655, -0.03489685725421745, -0.011046036432170338, -0.026185610395156572, -0.03130408544524953, -0.028299723758086058};
    private static final double[] EXPECTED_DB = {0.12064532074821088, -0.03332318563156166, -0.28426770442723204, -0.35744806624692704, 0.004641336989355611, -0.14581571953472017, -0.20098933405811306, -0.09641867568572905, -1.1251868712332804, -2.0034799482706567, -1.7108707410795398, -0.8498436747606226, 0.14128313620933283, -0.03840790877760975, -0.30857036365983503, -0.34844616994187816};
    private static final double[] EXPECTED_OUTPUT_FROM_STATE = {0.08465051268289958, 0.10161809095986146, 0.09549071128734762, 0.0634235673866606, 0.013719727366854449, 0.03342603442147816, 0.12026525595952389, 0.15512485519750094, 0.15180403889797484, 0.11418390475709639, -0.015902826313891442, 0.09181544323283457, 0.14735162065345397, 0.17067730810989268, 0.16479279672307434, -0.032552532911016396, 0.05821323973686446, 0.11199097753514566, 0.14455012558617011, 0.15939775796802594, -0.009950843484712297, -0.07313452683940763, -0.1093737726881872, -0.13291912339010706, -0.1437991228509017, -0.0004983268735413403, -0.003664826281812809, -0.0480237365637388, -0.10951335144340708, -0.1655024328113157, -0.0021839240278852287, 0.057784426239472324, 0.03577205207790582, -0.03645916547390428, -0.12770576178094634, -0.013870967317691352, 0.07617071055051962, 0.0869991796926361, 0.03670756497496572, -0.057211597896196335};
    private static final double[] EXPECTED_DX_FROM_STATE = {-0.05822789873520763, -0.10021075390896836, -0.06653398122369865, 0.009788810245790966, 0.06369541747361686, 0.030402690134180513, -0.08201280873965605, -0.13804367059865602, -0.12960582379540478, -0.043950873681106443, 0.10473441877832591, -0.025242958134597492, -0.14462926469921228, -0.20804481375876172, -0.1309263821922603, -0.1824542190830886, -0.16117994789287476, -0.03737055241910888, 0.10131730660916032, 0.1192405113868496, -0.08483004819045722, -0.2630839261253036, -0.27865210396020085, -0.08829960611700459, 0.08503705699465366, 0.05269101987221285, -0.24125542310126113, -0.38887921694958044, -0.23638783436693744, 0.010839345957203633};
    private static final double[] EXPECTED_DW_IH_FROM_STATE = {0.04094377594950268, -0.010902600060546459, -0.05432662484057635, -0.039438404524651395, -0.11032203586570127, -0.09598095665040138, -0.18877163745585682, -0.23374916587796554, -0.09815347655245618, -0.2284016954012403, -0.24803774679733354, -0.0760625302180507, 0.02723657938733338, -0.03521165064713208, -0.07045858122165792, -0.08321741896910868, -0.12831996097227102, -0.07429424227349439, -0.04201952885735546, -0.028366196933094764, 0.0072002632636564996, 0.08027997334685633, 0.09669794668787658, 0.038415934181103575, -1.1385357323326586, -0.11820788063501331, 0.9934365637410175, -1.7052149415518632, -0.8615064846951576, 0.6477230552744613, -1.4598285384056748, -1.0270331012565208, 0.1991541374446712, -0.7664834034239938, -0.9620194779665143, -0.4143873276307931, 0.04702688015460899, -0.021207385779024562, -0.07305876591390054, -0.07187090894160245, -0.14745066158384273, -0.10912352467119088, -0.1873157249624283, -0.21009247895807714, -0.07057100695774651, -0.1433995968183151, -0.13662061630196837, -0.024301048277434695};
    private static final double[] EXPECTED_DW_HH_FROM_STATE = {-0.007721017499151097, -0.0029370172668784092, 0.0021416716505905657, 0.0035419144418127875, -0.014602247315292707, -0.015988268301960658, -0.011961493737698932, -0.00865325176258386, -0.02323996239169547, -0.020925877476449993, -0.010166940591912853, -0.0013037076272006901, -0.02587767951997861, -0.013450760882605287, 0.005426613694190223, 0.01809212283160686, -0.008007850844858982, -0.011571745367418515, -0.010247500404627196, -0.00698555467459128, -0.018453283243766362, -0.02053048761415648, -0.013204076513463264, -0.004407827230818872, 0.003118576271256274, -0.006600966043996136, -0.013741172238323286, -0.016058193956382097, 0.021679195459952363, 0.0077974045664315796, -0.010804675275665514, -0.02297995710424822, 0.13992889819476356, -0.055936793243067696, -0.23320923979746574, -0.31850447825645967, 0.04140446195262239, -0.07960130936785559, -0.16488936171328947, -0.19018892172083451, -0.039307014157405055, -0.06765401173420611, -0.06014613707680791, -0.03435943921039513, -0.11402937468451498, -0.07156032646720974, 0.009393709979549903, 0.07563786508045463, -0.010008655377772162, -0.008436393542823786, -0.0035113580960988797, 0.00014352442628757806, -0.02199688418838411, -0.026106172490347905, -0.01941523240621377, -0.011349593622510534, -0.0185048661624645, -0.024962331133690174, -0.02098298524176582, -0.014325234041182652, -0.00501929807835809, -0.007791242096513874, -0.00756478450293299, -0.00634470245369145};
    private static final double[] EXPECTED_DB_FROM_STATE = {0.12043913356107733, -0.019647429031148828, -0.2728575185639007, -0.355494743436659, 0.05348647440307687, -0.11747641666233775, -0.048984380383931936, 0.13370367372648911, -1.097615150380402, -1.9876432605521126, -1.7637605259459463, -0.924537686147583, 0.16265318168266174, -0.04421965034300375, -0.25414887063439423, -0.2065323641686806};

    @Test
    void fromZeroState_outputAndEveryGradientEqualPyTorch() {
        check(false, EXPECTED_OUTPUT, EXPECTED_DX, EXPECTED_DW_IH, EXPECTED_DW_HH, EXPECTED_DB);
    }

    @Test
    void fromAGivenState_outputAndEveryGradientEqualPyTorch() {
        check(true, EXPECTED_OUTPUT_FROM_STATE, EXPECTED_DX_FROM_STATE, EXPECTED_DW_IH_FROM_STATE,
                EXPECTED_DW_HH_FROM_STATE, EXPECTED_DB_FROM_STATE);
    }

    private static void check(boolean withState, double[] output, double[] dx, double[] dwIh, double[] dwHh,
                              double[] db) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .updater(new NoOp()).list()
                .layer(new NativeLSTM.Builder().nIn(N_IN).nOut(N_OUT).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MSE).activation(Activation.IDENTITY).nIn(N_OUT).nOut(1)
                        .build())
                .build());
        net.init();
        net.initGradientsView();
        NativeLSTMLayer layer = (NativeLSTMLayer) net.getLayer(0);
        setPyTorchWeights(layer);
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        INDArray out;
        if (withState) {
            INDArray h0 = Nd4j.create(DataType.DOUBLE, MB, N_OUT);
            INDArray c0 = Nd4j.create(DataType.DOUBLE, MB, N_OUT);
            for (int b = 0; b < MB; b++) {
                for (int j = 0; j < N_OUT; j++) {
                    h0.putScalar(b, j, 0.2 * Math.cos(0.6 * b + 0.8 * j));
                    c0.putScalar(b, j, 0.5 * Math.sin(0.4 * b - 0.7 * j));
                }
            }
            layer.rnnSetTBPTTState(new java.util.HashMap<>(Map.of(NativeLSTMLayer.STATE_KEY_PREV_ACTIVATION, h0,
                    NativeLSTMLayer.STATE_KEY_PREV_MEMCELL, c0)));
            out = layer.rnnActivateUsingStoredState(input(), true, false, ws).dup();
        } else {
            layer.setInput(input(), ws);
            out = layer.activate(true, ws).dup();
        }
        assertClose(out, output);
        Pair<Gradient, INDArray> g = layer.backpropGradient(lossWeights(), ws);
        assertClose(g.getSecond(), dx);
        assertClose(g.getFirst().getGradientFor("W"), toDl4jWeights(dwIh, N_IN));
        assertClose(g.getFirst().getGradientFor("RW"), toDl4jWeights(dwHh, N_OUT));
        assertClose(g.getFirst().getGradientFor("b"), toDl4jBias(db));
    }

    /** x[b, i, t] = sin(0.37 t + 0.91 i + 1.3 b), NCW. */
    private static INDArray input() {
        INDArray x = Nd4j.create(DataType.DOUBLE, MB, N_IN, T);
        for (int b = 0; b < MB; b++) {
            for (int i = 0; i < N_IN; i++) {
                for (int t = 0; t < T; t++) {
                    x.putScalar(new int[] {b, i, t}, Math.sin(0.37 * t + 0.91 * i + 1.3 * b));
                }
            }
        }
        return x;
    }

    /** dL/dout for L = sum(out * c), c[b, j, t] = cos(0.29 (b + 2 j + 3 t)). */
    private static INDArray lossWeights() {
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

    private static void setPyTorchWeights(NativeLSTMLayer layer) {
        double[] wIh = new double[4 * N_OUT * N_IN];
        double[] wHh = new double[4 * N_OUT * N_OUT];
        double[] bias = new double[4 * N_OUT];
        for (int k = 0; k < 4 * N_OUT; k++) {
            for (int i = 0; i < N_IN; i++) {
                wIh[k * N_IN + i] = 0.3 * Math.cos(0.5 * k + 0.7 * i + 0.2);
            }
            for (int j = 0; j < N_OUT; j++) {
                wHh[k * N_OUT + j] = 0.25 * Math.sin(0.3 * k - 0.4 * j + 0.5);
            }
            bias[k] = 0.1 * Math.cos(1.1 * k) + 0.1 * Math.sin(0.9 * k + 0.3);
        }
        layer.getParam("W").assign(toDl4jWeights(wIh, N_IN));
        layer.getParam("RW").assign(toDl4jWeights(wHh, N_OUT));
        layer.getParam("b").assign(toDl4jBias(bias));
    }

    /** PyTorch [4n, cols] row-major (blocks i, f, g, o) to DL4J [cols, 4n] (blocks g, f, o, i). */
    private static INDArray toDl4jWeights(double[] pt, int cols) {
        INDArray w = Nd4j.create(DataType.DOUBLE, cols, 4 * N_OUT);
        for (int d = 0; d < 4; d++) {
            for (int j = 0; j < N_OUT; j++) {
                int ptRow = PT_BLOCK_OF_DL4J[d] * N_OUT + j;
                for (int c = 0; c < cols; c++) {
                    w.putScalar(c, d * N_OUT + j, pt[ptRow * cols + c]);
                }
            }
        }
        return w;
    }

    private static INDArray toDl4jBias(double[] pt) {
        INDArray b = Nd4j.create(DataType.DOUBLE, 4 * N_OUT);
        for (int d = 0; d < 4; d++) {
            for (int j = 0; j < N_OUT; j++) {
                b.putScalar(d * N_OUT + j, pt[PT_BLOCK_OF_DL4J[d] * N_OUT + j]);
            }
        }
        return b;
    }

    private static void assertClose(INDArray actual, double[] expected) {
        assertClose(actual, Nd4j.createFromArray(expected).reshape(actual.shape()));
    }

    private static void assertClose(INDArray actual, INDArray expected) {
        assertThat(actual.length()).isEqualTo(expected.length());
        INDArray a = actual.reshape('c', new long[] {actual.length()});
        INDArray e = expected.reshape('c', new long[] {expected.length()});
        for (long k = 0; k < a.length(); k++) {
            assertThat(a.getDouble(k)).as("element %d", k).isCloseTo(e.getDouble(k), within(TOL));
        }
    }
}
