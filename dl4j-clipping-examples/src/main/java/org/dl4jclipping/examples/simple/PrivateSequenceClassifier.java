package org.dl4jclipping.examples.simple;

import java.util.Random;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.privacy.PrivacyAccountant;
import org.dl4jclipping.privacy.PrivateTraining;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Differentially private training (DP-SGD) of an LSTM sequence classifier: rising, falling and oscillating series,
 * trained so that the whole run is (epsilon 3, delta 1e-4)-differentially private for each training series.
 *
 * <p>Steps: make the data; build the network with a plain updater (DP-SGD clips each example's gradient itself:
 * no ClippingUpdater, and no BatchNormalization); pick the noise multiplier for the target epsilon; train on
 * Poisson-sampled batches with {@link PrivateTraining}; report held-out accuracy and the epsilon spent.
 *
 * <p>Run: {@code mvn -B -q -pl dl4j-clipping-examples -am package -DskipTests exec:java
 * -Dexec.mainClass=org.dl4jclipping.examples.simple.PrivateSequenceClassifier}. Arguments (optional): epochs
 * (default 10), and a seed that makes the noise reproducible, for tests only: then the run is NOT private.
 */
public class PrivateSequenceClassifier {

    static final int LENGTH = 20;

    public static void main(String[] args) {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Random random = new Random(5);
        DataSet train = series(900, random);   // N = 900 training series, 300 per class
        DataSet test = series(300, random);

        // 1. The network: one NativeLSTM read at its last step, softmax over 3 classes, plain Adam.
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(5)
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.XAVIER)
                .updater(new Adam(2e-2))
                .list()
                .layer(new LastTimeStep(new NativeLSTM.Builder().nIn(1).nOut(16).build()))
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX)
                        .nIn(16).nOut(3).build())
                .setInputType(InputType.recurrent(1))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();

        // 2. The privacy parameters: expected batch 30 of N (q = 30 / 900), delta below 1 / N, target epsilon 3.
        double q = 30.0 / train.numExamples();
        long steps = epochs * (long) Math.floor(1 / q);
        double delta = 1e-4;
        double sigma = PrivacyAccountant.noiseMultiplier(3.0, delta, q, steps);
        System.out.printf("noise multiplier %.4f for epsilon 3 at delta %.0e (q %.4f, %d steps)%n", sigma, delta, q,
                steps);

        // 3. DP-SGD: each example's gradient clipped to norm 1, Gaussian noise of std sigma, Poisson batches.
        PrivateTraining.Builder dp = PrivateTraining.builder()
                .noiseMultiplier(sigma).maxGradNorm(1.0).sampleRate(q).delta(delta)
                .epsilonBudget(3.0);   // refuses any step past epsilon 3
        if (args.length > 1) {
            dp.seed(Long.parseLong(args[1]));   // reproducible noise and sampling: NOT private
        }
        PrivateTraining training = dp.build();
        for (int epoch = 1; epoch <= epochs; epoch++) {
            training.fit(net, train, 1);
            System.out.printf("epoch %d: held-out accuracy %.1f%%, epsilon %.3f%n", epoch, 100 * accuracy(net, test),
                    training.spent().epsilon());
        }

        // 4. What the run spent, and where its noise came from.
        System.out.printf("held-out accuracy: %.1f%% (chance 33.3%%)%n", 100 * accuracy(net, test));
        System.out.printf("epsilon spent %.4f at delta %.0e%n", training.spent().epsilon(), delta);
        System.out.println("noise: " + training.noiseSource().description());
    }

    /** {@code n} series of 20 steps: class 0 rising, 1 falling, 2 oscillating, each with noise and a random level. */
    static DataSet series(int n, Random random) {
        INDArray x = Nd4j.zeros(DataType.FLOAT, n, 1, LENGTH);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            int label = i % 3;
            double level = random.nextGaussian();
            double slope = 0.05 + 0.1 * random.nextDouble();
            double period = 4 + 4 * random.nextDouble();
            for (int t = 0; t < LENGTH; t++) {
                double signal = label == 0 ? slope * t : label == 1 ? -slope * t : Math.sin(2 * Math.PI * t / period);
                x.putScalar(new int[] {i, 0, t}, level + signal + 0.3 * random.nextGaussian());
            }
            y.putScalar(i, label, 1.0);
        }
        return new DataSet(x, y);
    }

    static double accuracy(MultiLayerNetwork net, DataSet data) {
        INDArray predicted = net.output(data.getFeatures(), false).argMax(1);
        INDArray truth = data.getLabels().argMax(1);
        return predicted.eq(truth).castTo(DataType.FLOAT).meanNumber().doubleValue();
    }
}
