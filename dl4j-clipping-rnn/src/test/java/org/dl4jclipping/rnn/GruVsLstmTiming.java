package org.dl4jclipping.rnn;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.rnn.conf.GRU;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import java.util.Arrays;

/**
 * Not a test: times one training step ({@code fit}) of GRU vs DL4J's LSTM of equal width and sequence length.
 * Usage: {@code java -cp <test classpath> org.dl4jclipping.rnn.GruVsLstmTiming [nIn width T batch reps]}.
 */
public final class GruVsLstmTiming {

    private GruVsLstmTiming() {
    }

    public static void main(String[] args) {
        int nIn = args.length > 0 ? Integer.parseInt(args[0]) : 65;
        int width = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int batch = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        int reps = args.length > 4 ? Integer.parseInt(args[4]) : 15;
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, nIn, steps);
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, nIn, steps);
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < steps; t++) {
                y.putScalar(new int[] {b, (b * 7 + t) % nIn, t}, 1.0);
            }
        }
        DataSet ds = new DataSet(x, y);
        MultiLayerNetwork gru = net(new GRU.Builder().nIn(nIn).nOut(width).build(), width, nIn);
        MultiLayerNetwork lstm = net(new LSTM.Builder().nIn(nIn).nOut(width).activation(Activation.TANH).build(),
                width, nIn);
        // interleave rounds so that drift (thermal, other load) affects both alike
        double[] g = new double[reps];
        double[] l = new double[reps];
        for (int i = 0; i < 3; i++) {
            gru.fit(ds);
            lstm.fit(ds);
        }
        for (int i = 0; i < reps; i++) {
            g[i] = time(gru, ds);
            l[i] = time(lstm, ds);
        }
        double mg = median(g);
        double ml = median(l);
        System.out.printf("nIn=%d width=%d T=%d batch=%d float, median of %d fit() calls after 3 warm-ups%n",
                nIn, width, steps, batch, reps);
        System.out.printf("GRU  %.1f ms%nLSTM %.1f ms%nratio GRU/LSTM = %.3f%n", mg, ml, mg / ml);
    }

    private static MultiLayerNetwork net(Layer recurrent, int width, int nOut) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
                .dataType(DataType.FLOAT).updater(new Adam(1e-3)).weightInit(WeightInit.XAVIER).list()
                .layer(recurrent)
                .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX)
                        .nIn(width).nOut(nOut).build())
                .build());
        net.init();
        return net;
    }

    private static double time(MultiLayerNetwork net, DataSet ds) {
        long t0 = System.nanoTime();
        net.fit(ds);
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
