package org.dl4jclipping.examples;

import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipStrategy;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * One gradient spike in a training run, and what skipping and AdaGC do with it. A regression MLP 3-16-1 (float32,
 * Sgd 0.05, batches of 16) learns y = sin(x0) + x1 x2 for 260 steps; minibatch 200 has its targets multiplied by
 * 1000. Five runs: without the spike (no clipping, and AdaGC), and with it under no clipping,
 * {@code Clip.skipSpikes()} and {@code Clip.adaGC()}. Prints the held-out loss at the end and writes the curves to a PNG.
 *
 * <pre>
 * mvn -q -pl dl4j-clipping-examples exec:java -Dexec.mainClass=org.dl4jclipping.examples.SpikeExample \
 *     -Dexec.args="docs/images/spike-injection.png"
 * </pre>
 */
public final class SpikeExample {

    static final int STEPS = 260;
    static final int SPIKE = 200;

    public static void main(String[] args) throws Exception {
        Path png = Path.of(args.length > 0 ? args[0] : "target/spike-injection.png");
        XYChart chart = new XYChartBuilder().width(800).height(450).title("One 1000x target spike at step " + SPIKE)
                .xAxisTitle("step").yAxisTitle("held-out MSE").build();
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        run(chart, "no spike", null, false);
        run(chart, "spike, no clipping", null, true);
        run(chart, "spike, skipSpikes()", Clip.chain(Clip.skipNonFinite(), Clip.skipSpikes()), true);
        run(chart, "no spike, adaGC()", Clip.adaGC(), false);
        run(chart, "spike, adaGC()", Clip.adaGC(), true);
        Files.createDirectories(png.toAbsolutePath().getParent());
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        System.out.println("wrote " + png);
    }

    /** Trains one run, adds its held-out loss curve to the chart and prints where it ended. */
    static void run(XYChart chart, String name, ClipStrategy clip, boolean spike) {
        IUpdater sgd = new Sgd(0.05);
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3)
                .dataType(DataType.FLOAT).weightInit(WeightInit.XAVIER)
                .updater(clip == null ? sgd : new ClippingUpdater(sgd, clip)).list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(16).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(16).nOut(1)
                        .activation(Activation.IDENTITY).build())
                .build());
        net.init();
        ClipHistory history = new ClipHistory(STEPS);
        if (clip != null) {
            net.addListeners(new ClippingListener(history));
        }
        DataSet test = batch(99_999, 1.0);
        List<Double> steps = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        for (int s = 0; s < STEPS; s++) {
            net.fit(batch(s, spike && s == SPIKE ? 1e3 : 1.0));
            steps.add((double) s);
            losses.add(net.score(test));
        }
        chart.addSeries(name, steps, losses).setMarker(SeriesMarkers.NONE);
        System.out.printf(Locale.ROOT, "%-22s held-out MSE after %d steps: %.5f (loss at step %d: %.5f, skipped %d)%n",
                name, STEPS, losses.get(STEPS - 1), SPIKE, losses.get(SPIKE), history.skippedSteps());
    }

    /** Minibatch {@code seed}: x uniform in [-2, 2]^3, y = sin(x0) + x1 x2, times {@code targetScale}. */
    static DataSet batch(long seed, double targetScale) {
        java.util.Random r = new java.util.Random(seed);
        double[][] x = new double[16][3];
        double[][] y = new double[16][1];
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 3; j++) {
                x[i][j] = 4 * r.nextDouble() - 2;
            }
            y[i][0] = (Math.sin(x[i][0]) + x[i][1] * x[i][2]) * targetScale;
        }
        return new DataSet(Nd4j.createFromArray(x).castTo(DataType.FLOAT),
                Nd4j.createFromArray(y).castTo(DataType.FLOAT));
    }
}
