package org.dl4jclipping.examples.simple;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.keras.KerasImport;
import org.dl4jclipping.keras.KerasTraining;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

/**
 * Fine-tuning a Keras GRU model in DL4J with the gradient clipping it was trained with. The file
 * ({@code resources/keras/results_model_0.h5}, MIT, Keras 2.0.9) is a speech model, 13 features per step ->
 * GRU(29) -> softmax, trained with SGD and {@code clipnorm=5} (one norm over all gradients in Keras 2.0.9). Its
 * GRU, imported with that clipping, gets a regression head and is fine-tuned to forecast a noisy two-tone series
 * from its last 13 values, with Adam(3e-3) (the file's SGD at 0.02 learns this far more slowly). The report shows
 * which steps were clipped: the first few, while the new head is still far off.
 *
 * <p>Run: {@code mvn -B -q -pl dl4j-clipping-examples -am package -DskipTests exec:java
 * -Dexec.mainClass=org.dl4jclipping.examples.simple.KerasGruFineTune}
 */
public class KerasGruFineTune {

    static final int WINDOW = 13;   // the GRU's 13 inputs: the last 13 values of the series
    static final int STEPS = 30;    // steps per training sequence

    public static void main(String[] args) throws Exception {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 150;
        Path h5 = Files.createTempFile("results_model_0", ".h5");   // the importer reads a file, not a resource
        h5.toFile().deleteOnExit();
        try (InputStream in = KerasGruFineTune.class.getResourceAsStream("/keras/results_model_0.h5")) {
            Files.write(h5, in.readAllBytes());
        }

        // 1. Import up to the GRU (the file's Lambda layers compute a CTC loss); a regression head replaces the
        //    softmax, its loss weighted 1 / STEPS: DL4J sums a sequence's loss over time, Keras averages it, and
        //    the file's clipnorm was chosen for gradients of Keras's size.
        ComputationGraph gru = KerasImport.functional(h5, "rnn");
        ComputationGraph net = new ComputationGraph(new ComputationGraphConfiguration.GraphBuilder(
                gru.getConfiguration().clone(), new NeuralNetConfiguration.Builder(gru.conf().clone()).seed(3))
                .addLayer("forecast", new RnnOutputLayer.Builder(new LossMSE(Nd4j.scalar(1.0 / STEPS).reshape(1, 1)))
                        .nIn(29).nOut(1).activation(Activation.IDENTITY).dataFormat(RNNFormat.NWC).build(), "rnn")
                .setOutputs("forecast")
                .build());
        net.init();
        gru.getLayer("rnn").paramTable().forEach(net.getLayer("rnn")::setParam);   // the Keras weights

        // 2. The file's clipping on every layer (the new head too), with Adam for fine-tuning in place of the file's
        //    SGD(0.02), and a history of each step. (training.applyTo(net) alone keeps the file's SGD as well.)
        KerasTraining training = KerasTraining.read(h5).orElseThrow().withUpdater(new Adam(3e-3));
        ClipHistory history = new ClipHistory(10_000);
        training.applyTo(net, new ClippingListener(history));
        System.out.println("From the Keras file: " + training.description());

        // 3. Data: s(t) = sin(2 pi t / 25) + 0.5 sin(2 pi t / 9) + noise; inputs [batch, time, 13] (NWC, as Keras).
        Random random = new Random(3);
        double[] series = new double[8_000];
        for (int t = 0; t < series.length; t++) {
            series[t] = Math.sin(2 * Math.PI * t / 25) + 0.5 * Math.sin(2 * Math.PI * t / 9)
                    + 0.05 * random.nextGaussian();
        }
        DataSet train = windows(series, 32, 0, random);         // training windows start in [0, 4000)
        DataSet test = windows(series, 16, 4_000, random);      // test windows in [4000, 8000)
        INDArray lastValue = test.getFeatures().get(all(), all(), interval(WINDOW - 1, WINDOW));
        System.out.printf("test MSE before fine-tuning: %.4f (naive forecast, the last value: %.4f)%n",
                mse(net.outputSingle(test.getFeatures()), test), mse(lastValue, test));

        // 4. Fine-tune: one full-batch step per epoch.
        for (int epoch = 1; epoch <= epochs; epoch++) {
            net.fit(train);
            if (epoch % 50 == 0 || epoch == epochs) {
                System.out.printf("epoch %d: test MSE %.4f%n", epoch, mse(net.outputSingle(test.getFeatures()), test));
            }
        }

        // 5. The clipping report.
        System.out.printf("%d of %d steps clipped (global norm capped at 5)%n", history.clippedSteps(),
                history.recorded());
        history.steps().stream().filter(s -> s.iteration() < 3 || s.iteration() % 50 == 0).forEach(s -> System.out
                .printf("step %3d: global norm %8.3f -> %6.3f%n", s.iteration(), s.normBefore(), s.normAfter()));
    }

    /** {@code count} sequences of STEPS steps of {@code s}, starting at random times in [offset, offset + 3900). */
    static DataSet windows(double[] s, int count, int offset, Random random) {
        INDArray x = Nd4j.create(DataType.FLOAT, count, STEPS, WINDOW);
        INDArray y = Nd4j.create(DataType.FLOAT, count, STEPS, 1);
        for (int i = 0; i < count; i++) {
            int start = offset + random.nextInt(3_900);
            for (int t = 0; t < STEPS; t++) {
                for (int k = 0; k < WINDOW; k++) {
                    x.putScalar(new int[] {i, t, k}, s[start + t + k]);
                }
                y.putScalar(new int[] {i, t, 0}, s[start + t + WINDOW]);
            }
        }
        return new DataSet(x, y);
    }

    static double mse(INDArray forecast, DataSet d) {
        INDArray diff = forecast.sub(d.getLabels());
        return diff.mul(diff).meanNumber().doubleValue();
    }
}
