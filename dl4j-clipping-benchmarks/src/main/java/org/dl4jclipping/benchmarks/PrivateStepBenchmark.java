package org.dl4jclipping.benchmarks;

import java.util.Random;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.privacy.NoiseSource;
import org.dl4jclipping.privacy.PerExampleGradients;
import org.dl4jclipping.privacy.PrivateTraining;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of private training (issue 26, item 5): one DP-SGD step ({@code PrivateTraining.step}: per-example
 * gradients, clipping, noise from {@code SecureRandom}, Adam, accountant) beside one ordinary step
 * ({@code net.fit(batch)}, Adam) of the same network on the same batch, float, in one run.
 *
 * <p>Configurations: {@code uci}: DL4J's UCI sequence classification example, DL4J's {@code LSTM(10)} on 1 input,
 * batch 10, T 60, {@code RnnOutputLayer} with 6 classes, the label at the last step only (label mask);
 * {@code uci-native}: the same with this library's {@code NativeLSTM(10)} (the private step runs the recurrent layer
 * on NativeLSTM's kernel whatever the layer, so this is the like-for-like ratio);
 * {@code classify}: the classify example's network, {@code LastTimeStep(NativeLSTM(32))} on 1 input, batch 32,
 * T 60, {@code OutputLayer} with 6 classes. Inputs N(0, 1), labels random (seed 11).
 *
 * <p>Benchmarks: {@code plainStep} (the non-private step), {@code privateStep} (the DP step, fast paths),
 * {@code perExampleFast} and {@code perExampleGeneric} (the per-example gradients alone, by the fast path and by
 * the generic path: one backpropagation per example), {@code noise} (the step's standard normals from
 * {@code NoiseSource.secure()}, one per parameter). The generic path's step costs about {@code privateStep - perExampleFast +
 * perExampleGeneric}. Run: {@code java -jar dl4j-clipping-benchmarks/target/benchmarks.jar PrivateStepBenchmark}
 * with {@code OMP_NUM_THREADS=1}.
 */
@BenchmarkMode(Mode.AverageTime)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PrivateStepBenchmark extends Harness.Step {

    @State(Scope.Thread)
    public static class Net {
        @Param({"uci", "uci-native", "classify"})
        public String config;

        MultiLayerNetwork net;
        DataSet batch;
        PrivateTraining dp;
        NoiseSource secure;
        int params;

        @Setup(Level.Trial)
        public void setUp() {
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            boolean uci = config.startsWith("uci");
            int b = uci ? 10 : 32;
            int t = 60;
            int classes = 6;
            NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder().seed(7)
                    .dataType(DataType.FLOAT).updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER).list();
            if (uci) {
                list.layer(config.equals("uci") ? new LSTM.Builder().nIn(1).nOut(10).activation(Activation.TANH).build()
                                : new NativeLSTM.Builder().nIn(1).nOut(10).build())
                        .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX)
                                .nIn(10).nOut(classes).build());
            } else {
                list.layer(new LastTimeStep(new NativeLSTM.Builder().nIn(1).nOut(32).build()))
                        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX)
                                .nIn(32).nOut(classes).build());
            }
            net = new MultiLayerNetwork(list.build());
            net.init();
            Random r = new Random(11);
            INDArray x = Nd4j.zeros(DataType.FLOAT, b, 1, t);
            INDArray y = uci ? Nd4j.zeros(DataType.FLOAT, b, classes, t) : Nd4j.zeros(DataType.FLOAT, b, classes);
            INDArray labelMask = uci ? Nd4j.zeros(DataType.FLOAT, b, t) : null;
            for (int i = 0; i < b; i++) {
                for (int s = 0; s < t; s++) {
                    x.putScalar(new int[] {i, 0, s}, r.nextGaussian());
                }
                int c = r.nextInt(classes);
                if (uci) {
                    y.putScalar(new int[] {i, c, t - 1}, 1.0);
                    labelMask.putScalar(i, t - 1, 1.0);
                } else {
                    y.putScalar(i, c, 1.0);
                }
            }
            batch = new DataSet(x, y, null, labelMask);
            dp = PrivateTraining.builder().noiseMultiplier(1.0).maxGradNorm(1.0).sampleRate(b / 600.0).delta(1e-5)
                    .build();
            if (!PerExampleGradients.slowLayers(net).isEmpty()) {
                throw new IllegalStateException("not on the fast path: " + PerExampleGradients.slowLayers(net));
            }
            secure = NoiseSource.secure();
            params = (int) net.numParams();
        }
    }

    @Benchmark
    public MultiLayerNetwork plainStep(Net s) {
        s.net.fit(s.batch);
        return s.net;
    }

    @Benchmark
    public MultiLayerNetwork privateStep(Net s) {
        s.dp.step(s.net, s.batch, 600);
        return s.net;
    }

    @Benchmark
    public PerExampleGradients perExampleFast(Net s) {
        return PerExampleGradients.of(s.net, s.batch);
    }

    @Benchmark
    public PerExampleGradients perExampleGeneric(Net s) {
        return PerExampleGradients.generic(s.net, s.batch);
    }

    @Benchmark
    public double noise(Net s) {
        double sum = 0;
        for (int k = 0; k < s.params; k++) {
            sum += s.secure.nextGaussian();
        }
        return sum;
    }
}
