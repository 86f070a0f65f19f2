package org.dl4jclipping.examples;

import java.util.Locale;
import java.util.Random;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.weights.WeightInitNormal;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipStrategy;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A recurrent network whose gradients explode, trained twice from the same initial weights: once without
 * clipping, once with {@code Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1.0))}. Prints both losses.
 *
 * <p>The task is the adding problem's easy cousin: read a sequence of 50 numbers and output their mean. The
 * recurrent weights start large (N(0, 0.15^2) on 32 units), so backpropagation through
 * 50 steps multiplies the gradient by large Jacobians: the plain run's first updates are huge and its loss blows
 * up, while the clipped run takes bounded steps and learns.
 *
 * <p>Run: {@code mvn -B -q -pl dl4j-clipping-examples -am compile exec:java}
 */
public final class ExplodingGradientsDemo {

    private static final int STEPS = 300;
    private static final int BATCH = 32;
    private static final int LENGTH = 50;
    private static final long SEED = 42;

    private ExplodingGradientsDemo() {
    }

    public static void main(String[] args) {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        ClipStrategy clip = Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1.0));
        System.out.println("Exploding gradients: a 32-unit RNN reads 50 numbers and predicts their mean.");
        System.out.println("Same data, same initial weights, SGD(0.5); the second run clips the global norm to 1.");
        System.out.println();
        Result plain = train(new Sgd(0.5), null);
        Result clipped = train(new ClippingUpdater(new Sgd(0.5), clip), clip);
        System.out.println();
        System.out.printf(Locale.ROOT, "%-22s %14s %14s %16s%n", "run", "first loss", "final loss",
                "largest |grad|");
        print("without clipping", plain);
        print("with " + "global-norm 1.0", clipped);
        System.out.println();
        System.out.printf(Locale.ROOT, "Clipping scaled %d of %d steps; %d skipped (non-finite).%n",
                clipped.clippedSteps, STEPS, clipped.skippedSteps);
    }

    private static void print(String name, Result r) {
        System.out.printf(Locale.ROOT, "%-22s %14.6g %14s %16.6g%n", name, r.firstLoss,
                Double.isFinite(r.finalLoss) ? String.format(Locale.ROOT, "%.6g", r.finalLoss) : "diverged (" + r.finalLoss + ")",
                r.maxGradNorm);
    }

    private record Result(double firstLoss, double finalLoss, double maxGradNorm, long clippedSteps,
                          long skippedSteps) {
    }

    private static Result train(IUpdater updater, ClipStrategy clip) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(SEED)
                .updater(updater)
                .list()
                .layer(new LastTimeStep(new SimpleRnn.Builder().nIn(1).nOut(32).activation(Activation.TANH)
                        .weightInitRecurrent(new WeightInitNormal()).build()))
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(32).nOut(1)
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        // recurrent weights N(0, 0.15^2): spectral radius near 0.85, long products of Jacobians
        Nd4j.getRandom().setSeed(SEED);
        net.getLayer(0).setParam("RW", Nd4j.randn(DataType.FLOAT, 32, 32).muli(0.15));
        ClipHistory history = new ClipHistory(STEPS);
        if (clip != null) {
            net.addListeners(new ClippingListener(history));
        }
        Random random = new Random(SEED);
        double first = Double.NaN;
        double last = Double.NaN;
        double maxGrad = 0;
        for (int step = 0; step < STEPS; step++) {
            DataSet batch = batch(random);
            net.fit(batch);
            double loss = net.score();
            if (step == 0) {
                first = loss;
            }
            last = loss;
            if (clip == null) {
                net.computeGradientAndScore();
                maxGrad = Math.max(maxGrad, net.gradient().gradient().norm2Number().doubleValue() / BATCH);
            }
            if (!Double.isFinite(loss)) {
                break;
            }
        }
        if (clip != null) {
            maxGrad = history.steps().stream().mapToDouble(ClipHistory.Step::normBefore)
                    .filter(Double::isFinite).max().orElse(0);
        }
        return new Result(first, last, maxGrad, history.clippedSteps(), history.skippedSteps());
    }

    private static DataSet batch(Random random) {
        INDArray x = Nd4j.create(DataType.FLOAT, BATCH, 1, LENGTH);
        INDArray y = Nd4j.create(DataType.FLOAT, BATCH, 1);
        for (int i = 0; i < BATCH; i++) {
            double sum = 0;
            for (int t = 0; t < LENGTH; t++) {
                double v = random.nextDouble() * 2 - 1;
                x.putScalar(new int[] {i, 0, t}, v);
                sum += v;
            }
            y.putScalar(i, 0, 5 * sum / LENGTH);
        }
        return new DataSet(x, y);
    }

    @SuppressWarnings("unused")
    private static final Class<?>[] UNUSED = {LSTM.class, RnnOutputLayer.class, WeightInit.class};
}
