package org.dl4jclipping.examples.simple;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
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
 * A character-level LSTM language model on tiny Shakespeare (bundled), trained with global-norm clipping; prints
 * the loss and a generated sample as it learns.
 *
 * <p>Each step reads 32 random windows of 64 characters (one-hot inputs, the next character as label). Two
 * {@link NativeLSTM} layers of 128 units; Adam(2e-3) with the gradient's global norm capped at 1.0 (the setting of
 * Karpathy's char-rnn). The full-length version with checkpoints is the {@code char-lm} command of this module.
 *
 * <p>Run: {@code mvn -B -q -pl dl4j-clipping-examples -am package -DskipTests exec:java
 * -Dexec.mainClass=org.dl4jclipping.examples.simple.CharLstmExample -Dexec.args=1000}
 */
public class CharLstmExample {

    public static void main(String[] args) throws IOException {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        String text;
        try (InputStream in = CharLstmExample.class.getResourceAsStream("/data/tinyshakespeare.txt")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        char[] vocab = text.chars().distinct().sorted().collect(StringBuilder::new, StringBuilder::appendCodePoint,
                StringBuilder::append).toString().toCharArray();
        int[] index = new int[Character.MAX_VALUE + 1];
        for (int i = 0; i < vocab.length; i++) {
            index[vocab[i]] = i;
        }

        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .weightInit(WeightInit.XAVIER)
                .updater(new ClippingUpdater(new Adam(2e-3), Clip.globalNorm(1.0)))
                .list()
                .layer(new NativeLSTM.Builder().nIn(vocab.length).nOut(128).build())
                .layer(new NativeLSTM.Builder().nIn(128).nOut(128).build())
                .layer(new RnnOutputLayer.Builder(LossFunction.MCXENT).nIn(128).nOut(vocab.length)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        ClipHistory history = new ClipHistory(steps);
        net.addListeners(new ClippingListener(history));

        Random random = new Random(42);
        int batch = 32;
        int length = 64;
        for (int step = 1; step <= steps; step++) {
            INDArray x = Nd4j.zeros(DataType.FLOAT, batch, vocab.length, length);
            INDArray y = Nd4j.zeros(DataType.FLOAT, batch, vocab.length, length);
            for (int b = 0; b < batch; b++) {
                int start = random.nextInt(text.length() - length - 1);
                for (int t = 0; t < length; t++) {
                    x.putScalar(new int[] {b, index[text.charAt(start + t)], t}, 1.0);
                    y.putScalar(new int[] {b, index[text.charAt(start + t + 1)], t}, 1.0);
                }
            }
            net.fit(new DataSet(x, y));
            if (step % 100 == 0 || step == steps) {
                // DL4J's score is the mean over examples of the summed loss of their steps: per character in bits
                double bits = net.score() / length / Math.log(2);
                System.out.printf("%nstep %d: %.3f bits/char, %d of %d steps clipped%n%s%n", step, bits,
                        history.clippedSteps(), history.recorded(), sample(net, vocab, index, "ROMEO:", 200, random));
            }
        }
    }

    /** {@code n} characters generated after {@code prime}, sampling each from the softmax. */
    static String sample(MultiLayerNetwork net, char[] vocab, int[] index, String prime, int n, Random random) {
        net.rnnClearPreviousState();
        StringBuilder out = new StringBuilder(prime);
        INDArray probs = null;
        for (char c : prime.toCharArray()) {
            probs = net.rnnTimeStep(Nd4j.zeros(DataType.FLOAT, 1, vocab.length, 1).putScalar(index[c], 1.0));
        }
        for (int i = 0; i < n; i++) {
            double u = random.nextDouble();
            int next = 0;
            for (double sum = probs.getDouble(0, 0, 0); sum < u && next < vocab.length - 1; ) {
                sum += probs.getDouble(0, ++next, 0);
            }
            out.append(vocab[next]);
            probs = net.rnnTimeStep(Nd4j.zeros(DataType.FLOAT, 1, vocab.length, 1).putScalar(next, 1.0));
        }
        net.rnnClearPreviousState();
        return out.toString();
    }
}
