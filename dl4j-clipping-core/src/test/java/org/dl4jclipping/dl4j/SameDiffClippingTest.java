package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Scope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * SameDiff clipping ({@link SameDiffClipping}) equals the layer API's ({@link ClippingListener}) on the same
 * network: a dense tanh layer (4 -> 6) and an identity output layer (6 -> 3) with mean squared error, written as a
 * MultiLayerNetwork and as SameDiff variables {@code layer0/W, layer0/b, layer1/W, layer1/b} with the network's
 * initial values, Adam(0.01), the same 10 batches of 8 (seed 20261204, batch 4 with NaN features), every strategy
 * and scope, every variable clipped and only layer 0 clipped, float and double.
 *
 * <p>Why not bit-identical: the two compute the same mean-squared-error gradient in different orders (DL4J sums the
 * examples' gradients and divides by the batch size afterwards; SameDiff differentiates the mean), so the
 * gradients differ in the last bits before any clipping. Measured worst relative difference of the parameters after
 * 10 steps: 6.4e-15 in double, 2.4e-6 in float ({@link #TOLERANCE_DOUBLE} / {@link #TOLERANCE_FLOAT} are about 10x
 * that). A skipped step is compared bit for bit against the state before it.
 */
class SameDiffClippingTest {

    /** Worst measured over all cases: see the class comment (set from the measured figures). */
    static final double TOLERANCE_DOUBLE = 1e-13; // worst measured 6.4e-15 (global L2 norm, every variable)
    static final double TOLERANCE_FLOAT = 2e-5;   // worst measured 2.4e-6 (global L1 norm, every variable)

    static final int N_IN = 4;
    static final int HIDDEN = 6;
    static final int N_OUT = 3;
    static final int BATCH = 8;
    static final int STEPS = 10;
    static final int NAN_STEP = 4;

    static Stream<Arguments> strategies() {
        List<Arguments> cases = new ArrayList<>();
        List<Supplier<ClipStrategy>> all = List.of(
                () -> Clip.value(0.02),
                () -> Clip.zeroOut(0.05),
                () -> Clip.norm(0.05, 1, Scope.PARAMETER), () -> Clip.norm(0.05, 2, Scope.PARAMETER),
                () -> Clip.norm(0.02, Double.POSITIVE_INFINITY, Scope.PARAMETER),
                () -> Clip.norm(0.1, 1, Scope.LAYER), () -> Clip.norm(0.05, 2, Scope.LAYER),
                () -> Clip.norm(0.02, Double.POSITIVE_INFINITY, Scope.LAYER),
                () -> Clip.norm(0.1, 1, Scope.GLOBAL), () -> Clip.norm(0.05, 2, Scope.GLOBAL),
                () -> Clip.norm(0.02, Double.POSITIVE_INFINITY, Scope.GLOBAL),
                () -> Clip.agc(0.01), () -> Clip.autoClip(10), () -> Clip.zClip(), () -> Clip.adaGC(),
                () -> Clip.chain(Clip.skipSpikes(), Clip.globalNorm(0.05)),
                () -> Clip.chain(Clip.zeroNonFinite(), Clip.value(0.02), Clip.globalNorm(0.05)));
        for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            for (boolean partial : new boolean[] {false, true}) {
                for (Supplier<ClipStrategy> s : all) {
                    cases.add(Arguments.of(dt, partial, s));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} partial={1} {index}")
    @MethodSource("strategies")
    void sameDiffEqualsLayerApi(DataType dt, boolean partial, Supplier<ClipStrategy> strategy) {
        MultiLayerNetwork net = network(dt, partial ? null : strategy.get(), partial ? strategy.get() : null);
        List<ClipReport> netReports = new ArrayList<>();
        net.addListeners(new ClippingListener(r -> netReports.add(r.copy())));
        IUpdater sdUpdater = partial
                ? VariableClipping.rules().pattern("layer0/.*", strategy.get()).around(new Adam(0.01))
                : new ClippingUpdater(new Adam(0.01), strategy.get());
        SameDiff sd = sameDiff(net, sdUpdater, null);
        List<ClipReport> sdReports = new ArrayList<>();
        sd.addListeners(new SameDiffClipping(r -> sdReports.add(r.copy())));

        List<DataSet> data = batches(dt, false);
        for (DataSet d : data) {
            net.fit(d);
            sd.fit(d);
        }
        double worst = worstRelative(net, sd);
        System.out.printf("SameDiff vs layer API %s partial=%s %s: worst relative %.3e%n", dt, partial,
                strategy.get(), worst);
        assertThat(worst).isLessThanOrEqualTo(dt == DataType.DOUBLE ? TOLERANCE_DOUBLE : TOLERANCE_FLOAT);
        assertThat(sdReports).hasSameSizeAs(netReports);
        for (int i = 0; i < sdReports.size(); i++) {
            assertThat(sdReports.get(i).totalNormBefore()).isCloseTo(netReports.get(i).totalNormBefore(),
                    org.assertj.core.data.Percentage.withPercentage(dt == DataType.DOUBLE ? 1e-6 : 1e-2));
            assertThat(sdReports.get(i).skipped()).isEqualTo(netReports.get(i).skipped());
        }
    }

    /**
     * Three steps of SGD (lr 0.5) with a global L2 norm clip at 0.05 (active at every step: the norms before are 1.13,
     * 1.07, 1.02) equal PyTorch's {@code clip_grad_norm_} + {@code optim.SGD} on the same network in float64.
     * Fixture: {@code src/test/python/samediff_clip_step.py}, PyTorch 1.13.1 (Debian python3-torch), inputs and
     * initial weights in closed form (the same formulas here); the values below are its printed output.
     */
    @Test
    void stepEqualsPyTorch() {
        int b = 8;
        INDArray x = Nd4j.create(DataType.DOUBLE, b, N_IN);
        INDArray y = Nd4j.create(DataType.DOUBLE, b, N_OUT);
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < N_IN; j++) {
                x.putScalar(i, j, 2 * Math.sin(0.3 * i + 0.7 * j + 0.1));
            }
            for (int k = 0; k < N_OUT; k++) {
                y.putScalar(i, k, Math.cos(0.5 * i - 0.2 * k));
            }
        }
        INDArray w0 = Nd4j.create(DataType.DOUBLE, N_IN, HIDDEN);
        INDArray b0 = Nd4j.create(DataType.DOUBLE, 1, HIDDEN);
        INDArray w1 = Nd4j.create(DataType.DOUBLE, HIDDEN, N_OUT);
        INDArray b1 = Nd4j.create(DataType.DOUBLE, 1, N_OUT);
        for (int h = 0; h < HIDDEN; h++) {
            for (int a = 0; a < N_IN; a++) {
                w0.putScalar(a, h, 0.3 * Math.sin(1.1 * a + 0.37 * h + 0.5));
            }
            b0.putScalar(0, h, 0.05 * h - 0.1);
            for (int c = 0; c < N_OUT; c++) {
                w1.putScalar(h, c, 0.4 * Math.cos(0.9 * h - 0.61 * c));
            }
        }
        for (int c = 0; c < N_OUT; c++) {
            b1.putScalar(0, c, 0.02 * c);
        }
        MultiLayerNetwork net = network(DataType.DOUBLE, null, null);
        net.setParam("0_W", w0);
        net.setParam("0_b", b0);
        net.setParam("1_W", w1);
        net.setParam("1_b", b1);
        SameDiff sd = sameDiff(net, new ClippingUpdater(new org.nd4j.linalg.learning.config.Sgd(0.5),
                Clip.globalNorm(0.05)), null);
        List<ClipReport> reports = new ArrayList<>();
        sd.addListeners(new SameDiffClipping(r -> reports.add(r.copy())));
        for (int step = 0; step < 3; step++) {
            sd.fit(new DataSet(x, y));
        }
        assertThat(reports.get(0).totalNormBefore()).isCloseTo(1.1290040669981127,
                org.assertj.core.data.Offset.offset(1e-13));
        assertThat(reports.get(2).totalNormBefore()).isCloseTo(1.0159497359834915,
                org.assertj.core.data.Offset.offset(1e-13));
        double[][] expected = {
            {0.13014408728326313, 0.21818374620486014, 0.2798659358579971, 0.3034359491012516, 0.2874290647292632,
                0.22852656110767453, 0.29596324173563393, 0.2754310954522249, 0.21551373281497008,
                0.12558941493437323, 0.022656918720988416, -0.08373004342534247, 0.1359182481566658,
                0.0310750736042295, -0.0843695504464455, -0.1894436714529813, -0.26426614161931883,
                -0.299921439224186, -0.1678634051216129, -0.24125438177777228, -0.28966902495720387,
                -0.29964404635492664, -0.2659995189369226, -0.19076433460843778},
            {-0.10529743541318755, -0.05298093854699982, -0.0007883949064178167, 0.05062253309780606,
                0.10411839696284661, 0.15640050369937272},
            {0.39440438881830936, 0.3188687898369301, 0.12786757021678846, 0.24010322714482535, 0.3708054713845457,
                0.36546073279493363, -0.10139405042638353, 0.13422473262061668, 0.31752039032163504,
                -0.37326180345775856, -0.21364079575656753, 0.017803001736098945, -0.3703468238373019,
                -0.40993620267264397, -0.3077078838143096, -0.09445365529043916, -0.30519016565927415,
                -0.41192286766406555},
            {-0.007895423078810176, 0.006279709251100781, 0.025334946251164375}};
        String[] names = {"layer0/W", "layer0/b", "layer1/W", "layer1/b"};
        double worst = 0;
        for (int v = 0; v < names.length; v++) {
            double[] actual = sd.getVariable(names[v]).getArr().dup('c').reshape(-1).toDoubleVector();
            assertThat(actual).hasSize(expected[v].length);
            for (int i = 0; i < actual.length; i++) {
                worst = Math.max(worst, Math.abs(actual[i] - expected[v][i]));
            }
        }
        System.out.printf("SameDiff clipped SGD vs PyTorch: max abs difference %.3e%n", worst);
        assertThat(worst).isLessThanOrEqualTo(1e-14);
    }

    /** A NaN batch with a skip policy: every variable and every updater state bit-identical, in both APIs. */
    @Test
    void skippedStepLeavesVariablesAndStateBitIdentical() {
        for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            MultiLayerNetwork net = network(dt, null, null);
            SameDiff sd = sameDiff(net, new ClippingUpdater(new Adam(0.01),
                    Clip.chain(Clip.skipNonFinite(), Clip.adaGC())), new WeightDecay(1e-2, true));
            List<ClipReport> reports = new ArrayList<>();
            sd.addListeners(new SameDiffClipping(r -> reports.add(r.copy())));
            List<DataSet> data = batches(dt, true);
            for (int i = 0; i < NAN_STEP; i++) {
                sd.fit(data.get(i));
            }
            List<INDArray> before = snapshot(sd);
            sd.fit(data.get(NAN_STEP));
            assertThat(reports.get(NAN_STEP).skipped()).isTrue();
            List<INDArray> after = snapshot(sd);
            for (int k = 0; k < before.size(); k++) {
                NetworkTestSupport.assertBitIdentical(after.get(k), before.get(k), "array " + k + " " + dt);
            }
            sd.fit(data.get(NAN_STEP + 1));
            assertThat(reports.get(NAN_STEP + 1).skipped()).isFalse();
            assertThat(sd.getVariable("layer0/W").getArr().equalsWithEps(before.get(0), 0)).isFalse();
        }
    }

    /**
     * The deferred step is SameDiff's own step when the clipping does nothing: a global norm of 1e9 never clips, so
     * the variables equal a plain-Adam SameDiff's bit for bit, with and without decoupled weight decay (which the
     * listener takes out of SameDiff's immediate update and adds to the deferred one). The weight decay case is
     * compared here, against SameDiff itself, because DL4J 1.0.0-M2.1's MultiLayerNetwork and SameDiff apply
     * {@code WeightDecay} differently even without clipping (measured while writing this test: 6.4e-3 relative
     * after 10 plain-Adam steps of this network).
     */
    @Test
    void inactiveClippingIsSameDiffsOwnStepBitForBit() {
        for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            for (WeightDecay decay : new WeightDecay[] {null, new WeightDecay(1e-2, true)}) {
                MultiLayerNetwork net = network(dt, null, null);
                SameDiff plain = sameDiff(net, new Adam(0.01), decay);
                SameDiff clipped = sameDiff(net, new ClippingUpdater(new Adam(0.01), Clip.globalNorm(1e9)), decay);
                List<ClipReport> reports = new ArrayList<>();
                clipped.addListeners(new SameDiffClipping(r -> reports.add(r.copy())));
                for (DataSet d : batches(dt, false)) {
                    plain.fit(d);
                    clipped.fit(d);
                }
                assertThat(reports).hasSize(STEPS).allMatch(r -> !r.changed());
                for (String v : List.of("layer0/W", "layer0/b", "layer1/W", "layer1/b")) {
                    NetworkTestSupport.assertBitIdentical(clipped.getVariable(v).getArr(),
                            plain.getVariable(v).getArr(), v + " " + dt + " decay=" + decay);
                }
            }
        }
    }

    /**
     * Saved with its updater state (an adaptive strategy's state inside it) and loaded, then trained on: bit for bit
     * the uninterrupted run.
     */
    @Test
    void saveLoadContinuesBitForBit(@TempDir Path dir) throws Exception {
        for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            IUpdater updater = VariableClipping.rules()
                    .pattern("layer0/.*", Clip.chain(Clip.zClip(), Clip.adaGC()))
                    .otherwise(Clip.autoClip(25)).around(new Adam(0.01));
            MultiLayerNetwork net = network(dt, null, null);
            SameDiff straight = sameDiff(net, updater, null);
            straight.addListeners(new SameDiffClipping());
            SameDiff first = sameDiff(net, updater, null);
            first.addListeners(new SameDiffClipping());
            List<DataSet> data = batches(dt, false);
            for (int i = 0; i < STEPS; i++) {
                straight.fit(data.get(i));
            }
            for (int i = 0; i < STEPS / 2; i++) {
                first.fit(data.get(i));
            }
            File file = dir.resolve("model-" + dt + ".fb").toFile();
            first.save(file, true);
            SameDiff loaded = SameDiff.load(file, true);
            assertThat(loaded.getTrainingConfig().getUpdater()).isEqualTo(updater);
            loaded.addListeners(new SameDiffClipping());
            for (int i = STEPS / 2; i < STEPS; i++) {
                loaded.fit(data.get(i));
            }
            for (String v : List.of("layer0/W", "layer0/b", "layer1/W", "layer1/b")) {
                NetworkTestSupport.assertBitIdentical(loaded.getVariable(v).getArr(), straight.getVariable(v).getArr(),
                        v + " " + dt);
            }
        }
    }

    /** Loaded without the listener (listeners are not saved): the first step fails, saying what to add. */
    @Test
    void loadedWithoutListenerFailsAtFirstStep(@TempDir Path dir) throws Exception {
        MultiLayerNetwork net = network(DataType.DOUBLE, null, null);
        SameDiff sd = sameDiff(net, new ClippingUpdater(new Adam(0.01), Clip.globalNorm(1)), null);
        sd.addListeners(new SameDiffClipping());
        List<DataSet> data = batches(DataType.DOUBLE, false);
        sd.fit(data.get(0));
        File file = dir.resolve("model.fb").toFile();
        sd.save(file, true);
        SameDiff loaded = SameDiff.load(file, true);
        INDArray w = loaded.getVariable("layer0/W").getArr().dup();
        assertThatThrownBy(() -> loaded.fit(data.get(1)))
                .hasStackTraceContaining("sd.addListeners(new SameDiffClipping())");
        assertThat(loaded.getVariable("layer0/W").getArr()).isEqualTo(w);
    }

    /** The listener on a SameDiff whose updater does not clip: the first step fails rather than clipping nothing. */
    @Test
    void listenerWithoutClippingUpdaterFails() {
        MultiLayerNetwork net = network(DataType.DOUBLE, null, null);
        SameDiff sd = sameDiff(net, new Adam(0.01), null);
        sd.addListeners(new SameDiffClipping());
        assertThatThrownBy(() -> sd.fit(batches(DataType.DOUBLE, false).get(0)))
                .hasStackTraceContaining("not a ClippingUpdater or VariableClipping");
    }

    @Test
    void badPatternFailsWhenBuilt() {
        assertThatThrownBy(() -> VariableClipping.rules().pattern("layer0/[", Clip.value(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pattern")
                .hasMessageContaining("layer0/[");
    }

    // ---------------------------------------------------------------------------------------------------------

    static MultiLayerNetwork network(DataType dt, ClipStrategy everyLayer, ClipStrategy layer0Only) {
        MultiLayerNetwork net = new MultiLayerNetwork(configuration(dt, everyLayer, layer0Only, null));
        net.init();
        return net;
    }

    static MultiLayerConfiguration configuration(DataType dt, ClipStrategy everyLayer, ClipStrategy layer0Only,
                                                 WeightDecay decay) {
        IUpdater adam = new Adam(0.01);
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder().seed(7).dataType(dt)
                .weightInit(WeightInit.XAVIER).biasInit(0.1)
                .updater(everyLayer != null ? new ClippingUpdater(adam, everyLayer) : adam);
        if (decay != null) {
            b.regularization(List.of(decay)).regularizationBias(List.of(decay));
        }
        DenseLayer.Builder dense = new DenseLayer.Builder().nIn(N_IN).nOut(HIDDEN).activation(Activation.TANH);
        if (layer0Only != null) {
            dense.updater(new ClippingUpdater(adam, layer0Only));
        }
        return b.list()
                .layer(dense.build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(HIDDEN).nOut(N_OUT)
                        .activation(Activation.IDENTITY).build())
                .build();
    }

    /** The network as SameDiff, with the network's current values (copied). */
    static SameDiff sameDiff(MultiLayerNetwork net, IUpdater updater, WeightDecay decay) {
        DataType dt = net.params().dataType();
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", dt, -1, N_IN);
        SDVariable label = sd.placeHolder("label", dt, -1, N_OUT);
        SDVariable w0 = sd.var("layer0/W", net.getParam("0_W").dup());
        SDVariable b0 = sd.var("layer0/b", net.getParam("0_b").dup());
        SDVariable w1 = sd.var("layer1/W", net.getParam("1_W").dup());
        SDVariable b1 = sd.var("layer1/b", net.getParam("1_b").dup());
        SDVariable hidden = sd.math.tanh(in.mmul(w0).add(b0));
        SDVariable out = hidden.mmul(w1).add(b1);
        sd.loss.meanSquaredError("loss", label, out, null);
        TrainingConfig.Builder tc = TrainingConfig.builder().updater(updater)
                .dataSetFeatureMapping("in").dataSetLabelMapping("label");
        if (decay != null) {
            tc.regularization(decay);
        }
        sd.setTrainingConfig(tc.build());
        return sd;
    }

    static List<DataSet> batches(DataType dt, boolean withNan) {
        Nd4j.getRandom().setSeed(20261204);
        List<DataSet> out = new ArrayList<>();
        for (int i = 0; i < STEPS; i++) {
            INDArray x = Nd4j.randn(DataType.DOUBLE, BATCH, N_IN).muli(2).castTo(dt);
            INDArray y = Nd4j.randn(DataType.DOUBLE, BATCH, N_OUT).castTo(dt);
            if (withNan && i == NAN_STEP) {
                x.putScalar(1, 2, Double.NaN);
            }
            out.add(new DataSet(x, y));
        }
        return out;
    }

    static double worstRelative(MultiLayerNetwork net, SameDiff sd) {
        double worst = 0;
        for (int l = 0; l < 2; l++) {
            for (String p : List.of("W", "b")) {
                INDArray a = net.getParam(l + "_" + p).castTo(DataType.DOUBLE).reshape(-1);
                INDArray b = sd.getVariable("layer" + l + "/" + p).getArr().castTo(DataType.DOUBLE).reshape(-1);
                for (long i = 0; i < a.length(); i++) {
                    double x = a.getDouble(i);
                    double y = b.getDouble(i);
                    worst = Math.max(worst, Math.abs(x - y) / Math.max(1e-3, Math.abs(x)));
                }
            }
        }
        return worst;
    }

    static List<INDArray> snapshot(SameDiff sd) {
        List<INDArray> out = new ArrayList<>();
        for (String v : List.of("layer0/W", "layer0/b", "layer1/W", "layer1/b")) {
            out.add(sd.getVariable(v).getArr().dup());
        }
        for (String v : List.of("layer0/W", "layer0/b", "layer1/W", "layer1/b")) {
            sd.getUpdaterMap().get(v).getState().values().forEach(a -> out.add(((INDArray) a).dup()));
        }
        return out;
    }
}
