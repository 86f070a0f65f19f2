package org.dl4jclipping.privacy;

import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * One DP-SGD step (privacy.md, "One step") equals the same step in PyTorch: {@code src/test/python/dp_sgd_step.py},
 * run once with /usr/bin/python3, torch 1.13.0a0 (Debian's python3-torch), float64; per-example gradients there by
 * a loop, each example alone through autograd. Inputs (stated in the script and rebuilt here by the same formulas):
 * Linear(3, 4) - tanh - Linear(4, 2) - softmax with cross-entropy; parameters {@code 0.5 sin(0.7 k + 0.3)} in DL4J's
 * flattened order; batch {@code x[r][c] = 2 sin(3 r + c + 0.5)}, class {@code r % 2}; noise draws
 * {@code 1.5 cos(1.3 k + 0.2)}; sigma 1.3, q 0.25, N 20, SGD lr 0.1. Flat clipping at C = 1.6 clips 3 of the 5
 * examples; per-layer clipping at (0.5, 0.8). Expected: the parameters after the step, to 1e-12 in double (the
 * values are ~0.5) and 1e-6 in float.
 */
class DpSgdMatchesPyTorchTest {

    private static final Logger LOG = LoggerFactory.getLogger(DpSgdMatchesPyTorchTest.class);

    /** torch's per-example gradient norms (printed by the script). */
    static final double[] TORCH_NORMS = {1.9123672289994846, 1.546018475641566, 1.7666460983160202,
            1.3850437466725345, 1.6411218782174581};

    static final double[] TORCH_FLAT = {0.08351602171867253, 0.40304299858533527, 0.5433662062769842,
            0.3628286141526277, -0.0617976973923561, -0.3986623002798565, -0.4790083097107358, -0.37594814682538,
            -0.15939497352487672, 0.1104903077934592, 0.39159996253453105, 0.5310683792733765, 0.39601572807869173,
            0.01826500277436282, -0.3692344400168919, -0.5241352110069588, -0.355848147254515, -0.13397652997083384,
            0.1170202819503291, 0.4139384708960466, 0.41557666125571524, 0.38406219522540574, 0.10229983319271219,
            -0.3798607143557411, -0.5423806442751469, -0.46329240301801045};

    static final double[] TORCH_PER_LAYER = {0.10967389081393764, 0.4087872235646092, 0.5224272601895605,
            0.35199381752702247, -0.03190456303832727, -0.3643925297462456, -0.48296193009745686,
            -0.40243416085718997, -0.17019927113740482, 0.12918723949954342, 0.40679421316838993, 0.5175309239394702,
            0.36998367264571375, 0.015922775988980783, -0.3460812732246002, -0.5097329684565763,
            -0.38963824571315137, -0.15246156252431697, 0.13642414235507128, 0.4203483194687596, 0.44769709530891955,
            0.35984496554518763, 0.06172002693913203, -0.3548973821139166, -0.52306777995312, -0.44975898160425093};

    enum Clipping { FLAT, PER_LAYER }

    @ParameterizedTest
    @EnumSource(Clipping.class)
    void oneStep_double_equalsPyTorch(Clipping clipping) {
        check(DataType.DOUBLE, clipping, 1e-12);
    }

    @ParameterizedTest
    @EnumSource(Clipping.class)
    void oneStep_float_equalsPyTorch(Clipping clipping) {
        check(DataType.FLOAT, clipping, 1e-6);
    }

    private static void check(DataType type, Clipping clipping, double tolerance) {
        MultiLayerNetwork net = network(type);
        PrivateTraining.Builder b = PrivateTraining.builder().noiseMultiplier(1.3).sampleRate(0.25).delta(1e-5)
                .noise(NoiseSource.replay(formula(26, k -> 1.5 * Math.cos(1.3 * k + 0.2))));
        PrivateTraining dp = (clipping == Clipping.FLAT ? b.maxGradNorm(1.6) : b.perLayerMaxGradNorms(0.5, 0.8))
                .build();
        DpStepReport report = dp.step(net, batch(type), 20);
        double[] expected = clipping == Clipping.FLAT ? TORCH_FLAT : TORCH_PER_LAYER;
        double[] actual = net.params().toDoubleVector();
        double diff = 0;
        for (int k = 0; k < expected.length; k++) {
            diff = Math.max(diff, Math.abs(actual[k] - expected[k]));
        }
        LOG.info("{} {}: max |DL4J - torch| = {}; {}", clipping, type, diff, report);
        assertThat(diff).isLessThanOrEqualTo(tolerance);
        for (int i = 0; i < TORCH_NORMS.length; i++) {
            assertThat(report.norms()[i]).isCloseTo(TORCH_NORMS[i], within(tolerance * 10));
        }
        if (clipping == Clipping.FLAT) {
            assertThat(report.fractionClipped()).isEqualTo(0.6);
            assertThat(report.noiseStd()).isEqualTo(1.3 * 1.6);
        }
        assertThat(report.expectedBatchSize()).isEqualTo(5.0);
        assertThat(report.noiseSource()).contains("NOT private");
    }

    static MultiLayerNetwork network(DataType type) {
        MultiLayerNetwork net = PrivateNets.init(PrivateNets.list(type, new Sgd(0.1))
                .layer(new DenseLayer.Builder().nIn(3).nOut(4).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(4).nOut(2).activation(Activation.SOFTMAX)
                        .build())
                .build());
        net.setParams(Nd4j.createFromArray(formula(26, k -> 0.5 * Math.sin(0.7 * k + 0.3))).castTo(type)
                .reshape(1, 26));
        return net;
    }

    static DataSet batch(DataType type) {
        double[][] x = new double[5][3];
        double[][] y = new double[5][2];
        for (int r = 0; r < 5; r++) {
            for (int c = 0; c < 3; c++) {
                x[r][c] = 2 * Math.sin(3 * r + c + 0.5);
            }
            y[r][r % 2] = 1;
        }
        INDArray features = Nd4j.createFromArray(x).castTo(type);
        return new DataSet(features, Nd4j.createFromArray(y).castTo(type));
    }

    static double[] formula(int n, java.util.function.IntToDoubleFunction f) {
        double[] out = new double[n];
        for (int k = 0; k < n; k++) {
            out[k] = f.applyAsDouble(k);
        }
        return out;
    }
}
