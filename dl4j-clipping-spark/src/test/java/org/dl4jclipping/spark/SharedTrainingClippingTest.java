package org.dl4jclipping.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dl4jclipping.spark.SparkTesting.*;

import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;

/**
 * Clipped training under SharedTrainingMaster (gradient sharing) on Spark local[2], with Kryo: the listener runs
 * on the executor's network and clips the local gradient before the updater, whose update is then threshold
 * encoded and shared. The updates are quantised, so the parameters cannot be compared with one machine; the
 * reports can.
 */
class SharedTrainingClippingTest {

    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = SparkTesting.startKryo("shared-clipping");
    }

    @AfterAll
    static void stop() {
        SparkTesting.stop(sc);
    }

    private static SharedTrainingMaster master() {
        VoidConfiguration voidConf = VoidConfiguration.builder().unicastPort(40123).controllerAddress("127.0.0.1")
                .build();
        return new SharedTrainingMaster.Builder(voidConf, BATCH).batchSizePerWorker(BATCH).workersPerNode(1)
                .rddTrainingApproach(RDDTrainingApproach.Direct).rngSeed(7).build();
    }

    /**
     * All steps reach the driver, although an executor keeps training the network (and listener) of its first
     * task in later tasks: SparkClipStats routes reports to a running task's copy.
     */
    @Test
    void everyStepOfEveryWorkerIsClippedAndReported() {
        double maxNorm = 0.05;
        MultiLayerConfiguration conf = mlp(new ClippingUpdater(new Sgd(0.1), Clip.globalNorm(maxNorm)));
        SparkClipStats stats = SparkClipStats.register(sc, "shared");
        SparkDl4jMultiLayer sparkNet = ClippedSpark.multiLayer(sc, conf, master(), stats);
        INDArray before = sparkNet.getNetwork().params().dup();
        List<DataSet> data = data(11, 6, 5.0);
        sparkNet.fit(sc.parallelize(data, 2));

        ClipSummary s = stats.value();
        assertThat(s.steps()).isEqualTo(data.size());
        assertThat(s.clippedSteps()).isEqualTo(data.size());
        assertThat(s.maxNormAfter()).isLessThanOrEqualTo(maxNorm * (1 + 1e-9));
        assertThat(s.minNormBefore()).isGreaterThan(maxNorm);
        assertThat(sparkNet.getNetwork().params()).isNotEqualTo(before);
    }

    @Test
    void graphUnderSharedTrainingIsClippedToo() {
        double maxNorm = 0.05;
        SparkClipStats stats = SparkClipStats.register(sc, "shared-graph");
        SparkComputationGraph sparkNet = ClippedSpark.graph(sc,
                graph(new ClippingUpdater(new Sgd(0.1), Clip.globalNorm(maxNorm))), master(), stats);
        List<DataSet> data = data(12, 4, 5.0);
        sparkNet.fit(sc.parallelize(data, 2));
        ClipSummary s = stats.value();
        assertThat(s.steps()).isEqualTo(data.size());
        assertThat(s.maxNormAfter()).isLessThanOrEqualTo(maxNorm * (1 + 1e-9));
    }
}
