package org.dl4jclipping.benchmarks;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.rnn.conf.GRU;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
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

import java.util.Random;

/**
 * One training step of a recurrent network, the same configurations as {@code pytorch_rnn_step.py} (the PyTorch
 * half, run side by side by {@code compare-pytorch-rnn.sh}): forward, backward, global-norm clipping at 1.0
 * ({@code ClippingUpdater} + {@code ClippingListener}) and Adam(1e-3), float.
 *
 * <p>Network: 1 or 2 recurrent layers of {@code cell} ({@code native_lstm}: this library's NativeLSTM; {@code gru}:
 * its GRU; {@code dl4j_lstm}: DL4J's own LSTM), then an RnnOutputLayer (softmax, MCXENT) on every step. Configs
 * (layers x width, T x batch, nIn, classes): {@code uci-w10} 1x10, 60x10, 1, 6 (DL4J's UCI sequence example);
 * {@code uci-w64} 1x64, 60x10, 1, 6; {@code classify-w32} 1x32, 100x32, 65, 65 (the classify example's width);
 * {@code char-w256} 1x256, 100x32, 65, 65; {@code charlm-2x256} 2x256, 100x32, 65, 65 (the char-LM example);
 * {@code gru-bench-2x256} 2x256, 64x32, 65, 65. Inputs: N(0, 1) values for nIn 1, random one-hot vectors
 * otherwise; random one-hot labels (seed 11).
 *
 * <p>Average time per step over 5 two-second iterations after 3 of warm-up (the small configurations need many
 * steps before the JIT has compiled the kernels' loops). Run: {@code java -jar
 * dl4j-clipping-benchmarks/target/benchmarks.jar RecurrentStepBenchmark}, with {@code OMP_NUM_THREADS} and
 * {@code OPENBLAS_NUM_THREADS} set to the thread count.
 */
@BenchmarkMode(Mode.AverageTime)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RecurrentStepBenchmark extends Harness.Step {

    @State(Scope.Thread)
    public static class Net {
        @Param({"uci-w10", "uci-w64", "classify-w32", "char-w256", "charlm-2x256", "gru-bench-2x256"})
        public String config;

        @Param({"native_lstm", "gru", "dl4j_lstm"})
        public String cell;

        MultiLayerNetwork net;
        DataSet batch;

        @Setup(Level.Trial)
        public void setUp() {
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            Config c = Config.of(config);
            NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder().seed(7)
                    .dataType(DataType.FLOAT).updater(new ClippingUpdater(new Adam(1e-3), Clip.globalNorm(1.0)))
                    .weightInit(WeightInit.XAVIER).list();
            for (int l = 0; l < c.layers; l++) {
                list.layer(recurrent(cell, l == 0 ? c.nIn : c.width, c.width));
            }
            net = new MultiLayerNetwork(list.layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .activation(Activation.SOFTMAX).nIn(c.width).nOut(c.classes).build()).build());
            net.init();
            net.addListeners(new ClippingListener());
            batch = c.data();
        }

        private static Layer recurrent(String cell, int nIn, int width) {
            return switch (cell) {
                case "native_lstm" -> new NativeLSTM.Builder().nIn(nIn).nOut(width).build();
                case "gru" -> new GRU.Builder().nIn(nIn).nOut(width).build();
                case "dl4j_lstm" -> new LSTM.Builder().nIn(nIn).nOut(width).activation(Activation.TANH).build();
                default -> throw new IllegalArgumentException("unknown cell " + cell);
            };
        }
    }

    /** A configuration; the data are fixed random inputs and one-hot labels. */
    record Config(int layers, int width, int steps, int batch, int nIn, int classes) {
        static Config of(String name) {
            return switch (name) {
                case "uci-w10" -> new Config(1, 10, 60, 10, 1, 6);
                case "uci-w64" -> new Config(1, 64, 60, 10, 1, 6);
                case "classify-w32" -> new Config(1, 32, 100, 32, 65, 65);
                case "char-w256" -> new Config(1, 256, 100, 32, 65, 65);
                case "charlm-2x256" -> new Config(2, 256, 100, 32, 65, 65);
                case "gru-bench-2x256" -> new Config(2, 256, 64, 32, 65, 65);
                default -> throw new IllegalArgumentException("unknown config " + name);
            };
        }

        DataSet data() {
            Random r = new Random(11);
            INDArray x = Nd4j.zeros(DataType.FLOAT, batch, nIn, steps);
            INDArray y = Nd4j.zeros(DataType.FLOAT, batch, classes, steps);
            for (int i = 0; i < batch; i++) {
                for (int t = 0; t < steps; t++) {
                    if (nIn == 1) {
                        x.putScalar(new int[] {i, 0, t}, r.nextGaussian());
                    } else {
                        x.putScalar(new int[] {i, r.nextInt(nIn), t}, 1.0);
                    }
                    y.putScalar(new int[] {i, r.nextInt(classes), t}, 1.0);
                }
            }
            return new DataSet(x, y);
        }
    }

    @Benchmark
    public MultiLayerNetwork step(Net s) {
        s.net.fit(s.batch);
        return s.net;
    }
}
