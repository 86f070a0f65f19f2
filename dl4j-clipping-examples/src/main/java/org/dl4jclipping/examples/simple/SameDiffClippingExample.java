package org.dl4jclipping.examples.simple;

import java.util.Random;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.dl4j.SameDiffClipping;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.weightinit.impl.XavierInitScheme;

/**
 * Gradient clipping in SameDiff: an MLP written as a SameDiff graph, trained by {@code sd.fit} with its gradient's
 * global L2 norm capped at 0.1, and what the clipping did, step by step.
 *
 * <p>Two things turn clipping on, as in the layer API: a {@link ClippingUpdater} around the optimiser in the
 * {@code TrainingConfig} (saved with the model) and a {@link SameDiffClipping} listener on the SameDiff (it clips
 * the whole step's gradient before Adam sees it). Name variables in name scopes ({@code dense0/W}): the scope is the
 * "layer" of per-layer strategies and of the reports.
 *
 * <p>Run: {@code mvn -B -q -pl dl4j-clipping-examples -am package -DskipTests exec:java
 * -Dexec.mainClass=org.dl4jclipping.examples.simple.SameDiffClippingExample}
 */
public class SameDiffClippingExample {

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 200;

        // 1. Data: 512 points in the plane, class 1 inside the ring 0.5 < r < 1 (not linearly separable).
        Random random = new Random(42);
        INDArray features = Nd4j.create(DataType.FLOAT, 512, 2);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 512, 2);
        for (int i = 0; i < 512; i++) {
            double x = 3 * random.nextDouble() - 1.5;
            double y = 3 * random.nextDouble() - 1.5;
            double r = Math.hypot(x, y);
            features.putRow(i, Nd4j.createFromArray((float) x, (float) y));
            labels.putScalar(i, r > 0.5 && r < 1.0 ? 1 : 0, 1.0);
        }
        DataSet data = new DataSet(features, labels);

        // 2. The graph: two tanh layers and a softmax output, each layer's variables in its own name scope.
        Nd4j.getRandom().setSeed(42);
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", DataType.FLOAT, -1, 2);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, 2);
        SDVariable h = in;
        int[] sizes = {2, 32, 32, 2};
        for (int l = 0; l < 3; l++) {
            SDVariable w = sd.var("dense" + l + "/W", new XavierInitScheme('c', sizes[l], sizes[l + 1]),
                    DataType.FLOAT, sizes[l], sizes[l + 1]);
            SDVariable b = sd.var("dense" + l + "/b", DataType.FLOAT, 1, sizes[l + 1]);
            h = h.mmul(w).add(b);
            h = l < 2 ? sd.math.tanh(h) : sd.nn.softmax("out", h, 1);
        }
        sd.loss.logLoss("loss", label, h);

        // 3. The optimiser (Adam) goes inside a ClippingUpdater with the clipping strategy; the listener clips.
        sd.setTrainingConfig(TrainingConfig.builder()
                .updater(new ClippingUpdater(new Adam(0.02), Clip.globalNorm(0.1)))
                .dataSetFeatureMapping("in").dataSetLabelMapping("label").build());
        ClipHistory history = new ClipHistory(steps);
        sd.addListeners(new SameDiffClipping(history));

        // 4. Train: one step per epoch (the whole dataset is one minibatch).
        sd.fit(new SingletonDataSetIterator(data), steps);

        // 5. What happened: the gradient norm before and after clipping, every 20 steps.
        System.out.println("step  norm before  norm after  scale");
        for (ClipHistory.Step s : history.steps()) {
            if (s.iteration() % 20 == 0) {
                System.out.printf("%4d  %11.4f  %10.4f  %5.3f%n", s.iteration(), s.normBefore(), s.normAfter(),
                        s.minScale());
            }
        }
        System.out.printf("%d of %d steps clipped (norm above 0.1 scaled down to 0.1)%n", history.clippedSteps(),
                history.recorded());

        INDArray predicted = sd.outputSingle(java.util.Map.of("in", features), "out").argMax(1);
        double accuracy = predicted.eq(labels.argMax(1)).castTo(DataType.FLOAT).meanNumber().doubleValue();
        System.out.printf("training accuracy: %.1f%%%n", 100 * accuracy);
    }
}
