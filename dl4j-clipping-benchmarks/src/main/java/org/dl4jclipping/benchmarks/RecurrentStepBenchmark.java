package org.dl4jclipping.benchmarks;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.Random;

/**
 * One training step of an LSTM network: this library's {@code NativeLSTM} against DL4J's {@code LSTM} (same
 * equations, same parameters), and the two native ops alone, over widths and two shapes.
 *
 * <p>Network: LSTM(nIn -> width) then RnnOutputLayer softmax, MCXENT, Adam(1e-3), float, no clipping. Shapes:
 * {@code 60x10} = T 60, batch 10, nIn 1, 6 classes (DL4J's UCI sequence-classification example); {@code 100x32} =
 * T 100, batch 32, nIn 65, 65 classes (the char-LM). Methods: {@code step}, one {@code fit} with {@code cell} =
 * {@code native} or {@code dl4j}; {@code nativeOps}, the two {@code lstmLayer} calls the native layer makes in that
 * step (forward pass, and again at the start of its backward pass), on the same shapes (their time over the native
 * step is the fraction of the step spent in the native op).
 *
 * <p>Run: {@code java -jar dl4j-clipping-benchmarks/target/benchmarks.jar RecurrentStepBenchmark}
 */
public class RecurrentStepBenchmark extends Harness.Step {

    @State(Scope.Thread)
    public static class Net {
        @Param({"10", "32", "64", "128", "256", "512"})
        public int width;

        @Param({"60x10", "100x32"})
        public String shape;

        @Param({"native", "dl4j"})
        public String cell;

        MultiLayerNetwork net;
        DataSet batch;

        @Setup(Level.Trial)
        public void setUp() {
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            Shape s = Shape.of(shape);
            net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT)
                    .updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER).list()
                    .layer(cell.equals("native") ? new NativeLSTM.Builder().nIn(s.nIn).nOut(width).build()
                            : new LSTM.Builder().nIn(s.nIn).nOut(width).activation(Activation.TANH).build())
                    .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX)
                            .nIn(width).nOut(s.classes).build())
                    .build());
            net.init();
            batch = s.data();
        }
    }

    @State(Scope.Thread)
    public static class Ops {
        @Param({"10", "32", "64", "128", "256", "512"})
        public int width;

        @Param({"60x10", "100x32"})
        public String shape;

        INDArray x;
        INDArray wx;
        INDArray wr;
        INDArray b;
        INDArray out;

        @Setup(Level.Trial)
        public void setUp() {
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            Shape s = Shape.of(shape);
            Nd4j.getRandom().setSeed(7);
            x = s.data().getFeatures();
            wx = Nd4j.randn(DataType.FLOAT, s.nIn, 4L * width).muli(1.0 / Math.sqrt(s.nIn + width));
            wr = Nd4j.randn(DataType.FLOAT, width, 4L * width).muli(1.0 / Math.sqrt(2.0 * width));
            b = Nd4j.zeros(DataType.FLOAT, 4L * width);
            out = Nd4j.create(DataType.FLOAT, s.batch, width, s.steps);
        }
    }

    /** A step's shape; the data are fixed random one-hot inputs (nIn &gt; 1) or N(0, 1) values, one-hot labels. */
    record Shape(int steps, int batch, int nIn, int classes) {
        static Shape of(String name) {
            return name.equals("60x10") ? new Shape(60, 10, 1, 6) : new Shape(100, 32, 65, 65);
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

    @Benchmark
    public INDArray nativeOps(Ops s) {
        for (int pass = 0; pass < 2; pass++) {   // the forward pass, and again at the start of the backward pass
            Nd4j.exec(DynamicCustomOp.builder("lstmLayer").addInputs(s.x, s.wx, s.wr, s.b).addOutputs(s.out)
                    .addIntegerArguments(2, 0, 2, 0, 0).addFloatingPointArguments(0.0)
                    .addBooleanArguments(true, false, false, false, false, true, false, false).build());
        }
        return s.out;
    }
}
