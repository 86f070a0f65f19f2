package org.dl4jclipping.examples.simple;

import java.util.Random;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Forecasting with an LSTM, gradient clipping, truncated BPTT and masks: predict the next value of noisy sine waves
 * of different frequencies and lengths.
 *
 * <p>Sequences are 40 to 120 steps long, padded at the end to 120; the feature and label masks mark the real steps
 * (padding adds nothing to the loss or the gradient). Truncated BPTT cuts each minibatch into segments of 30 steps:
 * every segment is one update, and each one is clipped (global norm 0.5). The layer is this library's
 * {@link NativeLSTM} (DL4J's LSTM equations, a native forward pass).
 *
 * <p>Run: {@code mvn -B -q -pl dl4j-clipping-examples -am package -DskipTests exec:java
 * -Dexec.mainClass=org.dl4jclipping.examples.simple.LstmTimeSeriesExample}
 */
public class LstmTimeSeriesExample {

    static final int MAX_LENGTH = 120;

    public static void main(String[] args) {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        Random random = new Random(7);
        DataSet train = waves(64, random);
        DataSet test = waves(64, random);

        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(7)
                .weightInit(WeightInit.XAVIER)
                .updater(new ClippingUpdater(new Adam(5e-3), Clip.globalNorm(0.5)))
                .list()
                .layer(new NativeLSTM.Builder().nIn(1).nOut(32).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MSE).nIn(32).nOut(1)
                        .activation(Activation.IDENTITY).build())
                .backpropType(BackpropType.TruncatedBPTT).tBPTTForwardLength(30).tBPTTBackwardLength(30)
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        ClipHistory history = new ClipHistory(10_000);
        net.addListeners(new ClippingListener(history));

        System.out.printf("test MSE before training: %.4f%n", mse(net, test));
        for (int epoch = 1; epoch <= epochs; epoch++) {
            net.fit(train);
            if (epoch % 10 == 0) {
                System.out.printf("epoch %d: test MSE %.4f%n", epoch, mse(net, test));
            }
        }
        System.out.printf("naive forecast (next = current): MSE %.4f%n", naiveMse(test));
        System.out.printf("%d updates (segments of 30 steps), %d clipped%n", history.recorded(),
                history.clippedSteps());
    }

    /** {@code n} waves x_t = sin(w t + phase) + noise, labels x_{t+1}; masks mark each wave's real steps. */
    static DataSet waves(int n, Random random) {
        INDArray x = Nd4j.zeros(DataType.FLOAT, n, 1, MAX_LENGTH);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 1, MAX_LENGTH);
        INDArray mask = Nd4j.zeros(DataType.FLOAT, n, MAX_LENGTH);
        for (int i = 0; i < n; i++) {
            int length = 40 + random.nextInt(MAX_LENGTH - 40 + 1);
            double w = 0.1 + 0.3 * random.nextDouble();
            double phase = 2 * Math.PI * random.nextDouble();
            double next = Math.sin(phase) + 0.05 * random.nextGaussian();
            for (int t = 0; t < length; t++) {
                double current = next;
                next = Math.sin(w * (t + 1) + phase) + 0.05 * random.nextGaussian();
                x.putScalar(new int[] {i, 0, t}, current);
                y.putScalar(new int[] {i, 0, t}, next);
                mask.putScalar(i, t, 1.0);
            }
        }
        return new DataSet(x, y, mask, mask);
    }

    /** Mean squared error over the real (unmasked) steps. */
    static double mse(MultiLayerNetwork net, DataSet data) {
        INDArray out = net.output(data.getFeatures(), false, data.getFeaturesMaskArray(), null);
        return maskedMse(out, data);
    }

    static double naiveMse(DataSet data) {
        return maskedMse(data.getFeatures(), data);
    }

    static double maskedMse(INDArray prediction, DataSet data) {
        INDArray mask = data.getLabelsMaskArray();
        INDArray err = prediction.sub(data.getLabels()).reshape(mask.shape()).mul(mask);
        return err.mul(err).sumNumber().doubleValue() / mask.sumNumber().doubleValue();
    }
}
