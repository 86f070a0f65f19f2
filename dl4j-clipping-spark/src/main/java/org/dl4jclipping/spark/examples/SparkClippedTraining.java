package org.dl4jclipping.spark.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.spark.ClipSummary;
import org.dl4jclipping.spark.ClippedSpark;
import org.dl4jclipping.spark.SparkClipStats;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Trains a small MLP regressor (y = sum of sin(x_i), with rare outliers that make gradients spike) on Spark with
 * global-norm clipping under parameter averaging, and prints the clipping summary the executors sent back.
 *
 * <p>Local mode: {@code mvn -pl dl4j-clipping-spark -am exec:java} (runs on local[2]; see docs/spark.md for the
 * JVM flags). On a cluster: build the uber-jar with {@code -Puberjar} and {@code spark-submit --class
 * org.dl4jclipping.spark.examples.SparkClippedTraining ...} with the master given there.
 */
public final class SparkClippedTraining {

    private SparkClippedTraining() {
    }

    public static void main(String[] args) {
        SparkConf sparkConf = new SparkConf().setAppName("dl4j-clipping-spark-example");
        if (!sparkConf.contains("spark.master")) {
            sparkConf.setMaster("local[2]").set("spark.ui.enabled", "false");
        }
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        try (JavaSparkContext sc = new JavaSparkContext(sparkConf)) {
            MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1)
                    .weightInit(WeightInit.XAVIER)
                    .updater(new ClippingUpdater(new Adam(1e-2), Clip.chain(Clip.skipNonFinite(),
                            Clip.globalNorm(1.0))))
                    .list()
                    .layer(new DenseLayer.Builder().nIn(8).nOut(32).activation(Activation.TANH).build())
                    .layer(new DenseLayer.Builder().nIn(32).nOut(32).activation(Activation.TANH).build())
                    .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(32).nOut(1)
                            .activation(Activation.IDENTITY).build())
                    .build();
            int batch = 32;
            ParameterAveragingTrainingMaster tm = new ParameterAveragingTrainingMaster.Builder(batch)
                    .batchSizePerWorker(batch).averagingFrequency(5).workerPrefetchNumBatches(0)
                    .rddTrainingApproach(RDDTrainingApproach.Direct).build();

            SparkClipStats stats = SparkClipStats.register(sc, "clipping", 0);
            SparkDl4jMultiLayer sparkNet = ClippedSpark.multiLayer(sc, conf, tm, stats);

            List<DataSet> data = data(64, batch, 8);
            for (int epoch = 0; epoch < epochs; epoch++) {
                stats.reset();
                sparkNet.fit(sc.parallelize(data));
                ClipSummary s = stats.value();
                System.out.printf("epoch %d: score %.4f, %s%n", epoch, sparkNet.getScore(), s);
            }
        }
    }

    private static List<DataSet> data(int batches, int batch, int features) {
        Random r = new Random(7);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            INDArray x = Nd4j.zeros(batch, features);
            INDArray y = Nd4j.zeros(batch, 1);
            for (int i = 0; i < batch; i++) {
                double t = 0;
                for (int j = 0; j < features; j++) {
                    double v = r.nextGaussian();
                    x.putScalar(i, j, v);
                    t += Math.sin(v);
                }
                y.putScalar(i, 0, r.nextDouble() < 0.01 ? t * 50 : t);   // rare outliers: gradient spikes
            }
            out.add(new DataSet(x, y));
        }
        return out;
    }
}
