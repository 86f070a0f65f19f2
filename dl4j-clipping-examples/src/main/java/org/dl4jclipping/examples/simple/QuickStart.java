package org.dl4jclipping.examples.simple;

import java.util.Random;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Quick start: a small MLP trained with global-norm gradient clipping, and what the clipping did, step by step.
 *
 * <p>Two things turn clipping on: a {@link ClippingUpdater} around the optimiser (it says what to clip and how) and
 * a {@link ClippingListener} on the network (it applies the clipping at each step and reports it). Here the
 * gradient's global L2 norm is capped at 0.1, as PyTorch's {@code clip_grad_norm_(params, 0.1)}: this network's
 * gradient norms run from about 0.7 at the start down to 0.01 (printed below), so the large early steps are clipped
 * and the rest pass unchanged. Pick the threshold from the norms you see (or let {@code ThresholdAdvisor} do it).
 *
 * <p>Run: {@code mvn -B -q -pl dl4j-clipping-examples -am package -DskipTests exec:java
 * -Dexec.mainClass=org.dl4jclipping.examples.simple.QuickStart}
 */
public class QuickStart {

    public static void main(String[] args) {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 200;

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

        // 2. The network. The optimiser (Adam) goes inside a ClippingUpdater with the clipping strategy.
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .weightInit(WeightInit.XAVIER)
                .updater(new ClippingUpdater(new Adam(0.02), Clip.globalNorm(0.1)))
                .list()
                .layer(new DenseLayer.Builder().nIn(2).nOut(32).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(32).nOut(32).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(32).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();

        // 3. The listener applies the clipping; the ClipHistory keeps a record of every step.
        ClipHistory history = new ClipHistory(epochs);
        net.addListeners(new ClippingListener(history));

        // 4. Train: one step per epoch (the whole dataset is one minibatch).
        for (int epoch = 0; epoch < epochs; epoch++) {
            net.fit(data);
        }

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

        Evaluation eval = net.evaluate(new org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator(data));
        System.out.printf("training accuracy: %.1f%%%n", 100 * eval.accuracy());
    }
}
