package org.dl4jclipping.rnn.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.dl4jclipping.rnn.activations.ActivationHardSigmoid6;
import org.dl4jclipping.rnn.conf.GRU;
import org.dl4jclipping.rnn.params.GRUParamInitializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Output and gradients of the reset-before GRU ({@code resetAfter(false)}) against a GRU cell written with torch ops
 * and differentiated by PyTorch's autograd ({@code src/test/python/gru_reset_before_fixture.py}, PyTorch 1.13,
 * float64; PyTorch's {@code nn.GRU} has no reset-before variant). Weights, inputs and loss weights are the closed
 * formulas of {@link GruMatchesPyTorchTest} (one bias, "b"); loss {@code sum(output ⊙ c)}. Two cases, each on the
 * CPU kernel and the op path: sigmoid gates and tanh without a mask; {@link ActivationHardSigmoid6} gates (in the
 * script {@code relu6(x + 3)/6}: PyTorch's own {@code hardsigmoid} backward multiplies by 1/6 rounded to float even
 * in float64, 3e-8 relative off) and relu with inputs times 10 (24 of 80 gate pre-activations beyond ±3, none
 * within 0.02 of it) and the mask [[1,1,1,0,0],[1,0,1,1,1]]. Tolerance 1e-12 absolute (double on both sides).
 */
@ExtendWith(DoublePrecision.class)
class GruResetBeforeMatchesPyTorchTest {

    private static final int N_IN = 3;
    private static final int N_OUT = 4;
    private static final double TOL = 1e-12;

    // case default, torch 1.13.0a0
    private static final double[] DEFAULT_OUTPUT = {0.11692829867627656, 0.15018001724614832, 0.1270311280556477, 0.06659500240936052, -0.014611040544892134, 0.19389651609973438, 0.2888856000037084, 0.3101607167213436, 0.27074824729723856, 0.18199931495636223, 0.24219523156086029, 0.384741896853223, 0.453004079876057, 0.4562170692085018, 0.397805826703164, 0.23393145100546361, 0.38841400345918403, 0.4831152159521968, 0.5225607042864727, 0.5055239704230208, -0.10414866265772878, -0.16598505169919425, -0.22409322658896752, -0.278173479257644, -0.32164218394366834, 0.04029442226507052, -0.003525159685167742, -0.09536518281085309, -0.20479073826775515, -0.30860884754465906, 0.20687775348694154, 0.21970539931596034, 0.12969630508674382, -0.013558500305512228, -0.16872486580570947, 0.2979746518246357, 0.3694859152791304, 0.3154887588403587, 0.18081560511696068, 0.006828726842882896};
    private static final double[] DEFAULT_DX = {-0.24167360636489713, -0.30586071708123347, -0.15001989300808133, 0.05058192118012253, 0.12645877970651145, -0.020656478853107386, -0.37917595261554216, -0.4561982478180064, -0.27319389542450784, -0.016814716703419805, 0.21007571342968426, -0.27415881284706806, -0.5478194383848687, -0.46848235423862317, -0.15217998911053668, -0.35121318945793195, -0.2978923289491812, -0.0769237169411112, 0.12269930291776188, 0.14635746539590355, -0.2700698792594988, -0.5699616687550202, -0.4625956862855169, -0.11520109238935636, 0.10196133613284702, -0.061908484887053444, -0.5739691298486321, -0.6307016761128562, -0.2989206138790373, 0.009611197296687725};
    private static final double[] DEFAULT_DW = {-0.0023565644518500255, -0.02035779036310962, -0.10680436296901695, -0.19049580770809088, -0.11054786207892398, -0.17070755852593048, 0.06341003242205698, 0.3307422872319298, -2.0228863559135344, -3.126196691738402, -2.96367818137418, -1.8204624894074333, 0.00046529351157514626, -0.02586535160009802, -0.08757228223202972, -0.13358556860375945, -0.07370945894531467, -0.05110085939782347, 0.20180762392077345, 0.42974561837963904, -0.11966048361362835, -1.8097636038852118, -2.427555171210944, -2.3351568307345656, 0.0029277082818379672, -0.011391708844077964, -0.0006898690168686974, 0.026520657860884065, 0.020070127829310086, 0.10798168802465138, 0.18430711036956562, 0.19676680605195893, 1.876004129514254, 0.9047272528101984, -0.01612515458642229, -1.045922669098774};
    private static final double[] DEFAULT_DRW = {0.0002721319567056584, -0.005014640195362206, -0.004554942148089046, 0.0014147534725659318, 0.01291721227216198, 0.0349578362598825, 0.031634057549797825, 0.004695877677162761, 0.07627382808571068, 0.04102201082958799, 0.020462839541845856, -0.05133335011031051, 0.00016750578379606253, -0.00918973022052125, -0.025252802360009072, -0.0346400536834806, -0.016071033192605447, 0.003766166264489259, 0.03383413218062281, 0.03556664663481865, -0.198356117171252, -0.2860417696703106, -0.23447819614221815, -0.16568522512001388, 0.00025035558549071544, -0.011604265281622225, -0.044930659728973844, -0.07216726372922794, -0.051191514315934224, -0.040984039569367976, 0.025999347993604448, 0.0676908472264483, -0.4759463646803552, -0.5858391846017594, -0.4548593122544164, -0.2267132218179229, 0.0004881433389865644, -0.011130268450325038, -0.05272712052216024, -0.08997990350293386, -0.07228408641810302, -0.07290677308456689, 0.013424946914805376, 0.0826677172277624, -0.6052086513309243, -0.7005164360032872, -0.5253073175419245, -0.20970250342352964};
    private static final double[] DEFAULT_DB = {0.005159853357350995, -0.019346594800228944, -0.12741243919212644, -0.22982292876711938, -0.2044596078488324, -0.2517982455201847, 0.15987529882990503, 0.610084423209526, -1.7878512712524564, -3.603333710335321, -3.7424664641461036, -2.4807194421726075};
    // case hard, torch 1.13.0a0
    private static final double[] HARD_OUTPUT = {2.6154712568039287, 2.676928319522683, 2.155955224821237, 0.0, 0.0, 4.273041341575523, 4.5168488001629115, 4.233053613436337, 0.0, 0.0, 4.092200780374633, 4.870334093090071, 5.243934093822029, 0.0, 0.0, 1.9305902345935826, 2.546299988167158, 3.4553000665905564, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.4671168799927574, 0.0, 0.0, 0.0, 0.0, 3.6494231964371577, 0.0, 0.0, 0.0, 0.0, 4.937848149122885, 0.0, 1.5385299981190572, 0.2189123985949034, 0.05556987956647539};
    private static final double[] HARD_DX = {-0.41259744989347596, -0.4399736713850552, -0.29201624047205355, 0.0, 0.0, 0.19586886949549034, -0.2694177509571285, -0.39008201038261653, 0.0, 0.0, 0.7122149990252177, 0.027849547514419856, -0.30468611561068815, 0.0, 0.0, -0.09645132484083001, 0.0, -0.1966190194485991, -0.007553758371279433, -0.006643732927676047, 0.024245039421386755, 0.0, -0.23394759060147927, -0.00273731653409668, -0.002407543251607861, 0.13353858280453418, 0.0, -0.1612469543625437, 0.0033665280408224346, 0.0029609516345925164};
    private static final double[] HARD_DW = {0.1978306870437498, 0.0038440947510933188, -0.9264675725096403, -0.8822081222985614, -0.13255574343008303, -0.2515504548995332, 1.280147455032013, 5.994927081906016, 1.5035182178471758, 2.2560623465496352, -4.7561414565079065, -14.354002709797268, 0.5241063270170119, 0.37174370611417396, -1.0863144950999282, -1.223373962139856, -0.2273176082506543, -0.37675095154061705, 0.613471251597681, 17.92477081679347, 15.453110603736675, 8.364836816519075, -7.641790990300494, -14.66587755147129, 0.4455053739300185, 0.45246814430249127, -0.40697423544169, -0.6194730162986842, -0.1464746882655207, -0.21090813534830458, -0.5271167088286965, 16.00757671683015, 17.46504368100056, 8.011703736062572, -4.6240920210497425, -3.6482373096804994};
    private static final double[] HARD_DRW = {0.14308583924782153, 0.10353215496903022, -0.2888441946936981, -0.32769949313722335, -0.06136003160499104, -0.10121989593651064, 0.7228665647720136, 3.145976669255772, 1.3355649910097134, -1.5494828823362317, -2.8186108744818243, -1.5222957329198579, 0.23376732009936438, 0.16257906457441965, -0.4967512104527855, -0.5556120333420893, -0.10249700349815696, -0.1706300790638401, 1.1942213964497919, 5.203618515774254, 1.3472448937473613, -2.167732774894227, -3.5931480250207097, -1.9089514592238186, 0.22387398886807566, 0.13075609081456835, -0.5701104424581604, -0.6089361503166135, -0.10670361839979867, -0.18339209642892623, 1.1939434086660623, 5.225940460562643, 0.516083384355021, -1.3891061002244405, -2.0692830785703866, -1.0762102371084221, 0.10561772500533353, 0.0503020277833771, -0.3120444008197202, -0.32235319571869864, -0.05424006852688422, -0.09564100305333466, 0.5862133427427769, 2.627563773875215, 0.014544887988207217, -0.3048780621420147, -0.38784910610492107, -0.19439255821450574};
    private static final double[] HARD_DB = {0.05470747914953978, 0.040660600253232336, -0.10636484211714045, -0.12197768830594842, -0.02309178060308296, -0.037838305920281846, 0.01463420783495889, 2.073688308408738, 1.847332914983103, 1.2014746919745072, -0.7067489405491175, -2.305245285181125};

    @AfterEach
    void restore() {
        System.clearProperty(RecurrentCpuKernel.PROPERTY);
    }

    @ParameterizedTest(name = "cpuKernel={0}")
    @ValueSource(booleans = {true, false})
    void sigmoidGatesTanh_outputAndGradientsEqualAutograd(boolean cpu) {
        check(cpu, Activation.SIGMOID.getActivationFunction(), Activation.TANH.getActivationFunction(), 1.0, null,
                DEFAULT_OUTPUT, DEFAULT_DX, DEFAULT_DW, DEFAULT_DRW, DEFAULT_DB);
    }

    @ParameterizedTest(name = "cpuKernel={0}")
    @ValueSource(booleans = {true, false})
    void hardSigmoid6GatesReluMasked_outputAndGradientsEqualAutograd(boolean cpu) {
        INDArray mask = Nd4j.createFromArray(new double[][] {{1, 1, 1, 0, 0}, {1, 0, 1, 1, 1}});
        check(cpu, new ActivationHardSigmoid6(), Activation.RELU.getActivationFunction(), 10.0, mask,
                HARD_OUTPUT, HARD_DX, HARD_DW, HARD_DRW, HARD_DB);
    }

    private static void check(boolean cpu, IActivation gate, IActivation act, double inputScale, INDArray mask,
                              double[] output, double[] dx, double[] dW, double[] dRW, double[] db) {
        System.setProperty(RecurrentCpuKernel.PROPERTY, Boolean.toString(cpu));
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .dataType(DataType.DOUBLE).updater(new NoOp()).list()
                .layer(new GRU.Builder().nIn(N_IN).nOut(N_OUT).resetAfter(false).gateActivationFunction(gate)
                        .activation(act).build())
                .build());
        net.init();
        net.initGradientsView();
        GRULayer layer = (GRULayer) net.getLayer(0);
        assertThat(layer.usesCpuKernel()).isEqualTo(cpu);
        assertThat(layer.paramTable()).doesNotContainKey(GRUParamInitializer.RECURRENT_BIAS_KEY);
        INDArray w = layer.getParam(GRUParamInitializer.INPUT_WEIGHT_KEY);
        INDArray rw = layer.getParam(GRUParamInitializer.RECURRENT_WEIGHT_KEY);
        INDArray b = layer.getParam(GRUParamInitializer.BIAS_KEY);
        for (int k = 0; k < 3 * N_OUT; k++) {
            for (int i = 0; i < N_IN; i++) {
                w.putScalar(i, k, 0.3 * Math.cos(0.5 * k + 0.7 * i + 0.2));
            }
            for (int j = 0; j < N_OUT; j++) {
                rw.putScalar(j, k, 0.25 * Math.sin(0.3 * k - 0.4 * j + 0.5));
            }
            b.putScalar(0, k, 0.1 * Math.cos(1.1 * k));
        }
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        layer.setInput(GruMatchesPyTorchTest.input(inputScale), mgr);
        layer.setMaskArray(mask);
        INDArray out = layer.activate(true, mgr);
        GruMatchesPyTorchTest.assertClose(out, output, TOL);

        Pair<Gradient, INDArray> g = layer.backpropGradient(GruMatchesPyTorchTest.lossWeights(), mgr);
        GruMatchesPyTorchTest.assertClose(g.getSecond(), dx, TOL);
        GruMatchesPyTorchTest.assertClose(g.getFirst().getGradientFor(GRUParamInitializer.INPUT_WEIGHT_KEY), dW, TOL);
        GruMatchesPyTorchTest.assertClose(g.getFirst().getGradientFor(GRUParamInitializer.RECURRENT_WEIGHT_KEY), dRW,
                TOL);
        GruMatchesPyTorchTest.assertClose(g.getFirst().getGradientFor(GRUParamInitializer.BIAS_KEY), db, TOL);
        assertThat(g.getFirst().gradientForVariable()).doesNotContainKey(GRUParamInitializer.RECURRENT_BIAS_KEY);
    }
}
