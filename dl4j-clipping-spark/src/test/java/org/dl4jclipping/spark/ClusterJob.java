package org.dl4jclipping.spark;

import static org.dl4jclipping.spark.SparkTesting.BATCH;
import static org.dl4jclipping.spark.SparkTesting.data;
import static org.dl4jclipping.spark.SparkTesting.graph;
import static org.dl4jclipping.spark.SparkTesting.mlp;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.strategy.ZClip;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;
import org.nd4j.parameterserver.distributed.v2.transport.PortSupplier;

/**
 * The job {@link StandaloneClusterIT} submits to a standalone cluster (and once more to {@code local[2]}, the
 * reference), as a user submits one: a main class, the master from {@code spark-submit}. It trains, in float
 * (DL4J's default):
 *
 * <ol>
 *   <li>{@code mln}: a clipped MultiLayerNetwork (Adam, global norm 0.5) under parameter averaging, 2 workers,
 *       averaging every 2 minibatches, updater state averaged ({@code saveUpdater(true)}), 2 epochs of 16
 *       minibatches;</li>
 *   <li>{@code graph}: the same network as a ComputationGraph;</li>
 *   <li>{@code zclip}: the MultiLayerNetwork with ZClip (adaptive state in the updater state) and Sgd, averaging
 *       every minibatch, {@code saveUpdater(true)};</li>
 *   <li>{@code retry} (only with {@code --fail-once DIR}): {@code mln} again, with a listener that throws in the
 *       first task attempt that reaches it (once per cluster: a marker file in DIR); Spark retries the task;</li>
 *   <li>{@code shared}: a clipped MultiLayerNetwork (Sgd, global norm 0.05) under SharedTrainingMaster, one
 *       worker per executor, Aeron on a free port per JVM ({@link FreePortPerJvm}).</li>
 * </ol>
 *
 * <p>For each it writes, under OUT, {@code NAME.params} and {@code NAME.state} (the updater state; Nd4j binary)
 * and {@code NAME.properties} (the driver's {@link ClipSummary}). Deterministic for parameter averaging: fixed
 * seeds (network 42, data 1-3, training master 7), the RDD built with 2 partitions, {@code Direct} training
 * approach, the master's default balanced repartitioning; two workers, so the driver's sum of their results
 * does not depend on which task finishes first (float addition of two terms commutes).
 *
 * <p>Usage: {@code ClusterJob OUT [--fail-once DIR]}.
 */
public final class ClusterJob {

    static final double MAX_NORM = 0.5;
    static final double SHARED_MAX_NORM = 0.05;
    static final int MINIBATCHES = 16;
    static final int EPOCHS = 2;
    static final int SHARED_MINIBATCHES = 12;

    private ClusterJob() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Path failOnce = args.length > 2 && args[1].equals("--fail-once") ? Path.of(args[2]) : null;
        Files.createDirectories(out);
        SparkConf conf = new SparkConf().setAppName("dl4j-clipping-cluster-job")
                .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .set("spark.kryo.registrator", "org.nd4j.kryo.Nd4jRegistrator");
        long start = System.nanoTime();
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            multiLayer(sc, out, "mln", new ClippingUpdater(new Adam(0.05), Clip.globalNorm(MAX_NORM)), 2, 1, null);
            computationGraph(sc, out);
            ZClip z = ZClip.builder().warmupSteps(2).zThreshold(0.1).maxGradNorm(Double.POSITIVE_INFINITY).build();
            multiLayer(sc, out, "zclip", new ClippingUpdater(new Sgd(0.05), z), 1, 3, null);
            if (failOnce != null) {
                multiLayer(sc, out, "retry", new ClippingUpdater(new Adam(0.05), Clip.globalNorm(MAX_NORM)), 2, 1,
                        new FailOnce(failOnce.toAbsolutePath().toString()));
            }
            shared(sc, out);
        }
        System.out.printf(Locale.ROOT, "cluster job: %.1f s%n", (System.nanoTime() - start) / 1e9);
    }

    static ParameterAveragingTrainingMaster averaging(int frequency) {
        return new ParameterAveragingTrainingMaster.Builder(2, BATCH).batchSizePerWorker(BATCH)
                .averagingFrequency(frequency).workerPrefetchNumBatches(0).saveUpdater(true)
                .rddTrainingApproach(RDDTrainingApproach.Direct).rngSeed(7).build();
    }

    /** A clipped MultiLayerNetwork under parameter averaging, 2 epochs; {@code fail}: an extra listener or null. */
    private static void multiLayer(JavaSparkContext sc, Path out, String name, IUpdater updater, int frequency,
                                   long dataSeed, FailOnce fail) {
        SparkClipStats stats = SparkClipStats.register(sc, name);
        SparkDl4jMultiLayer net = new SparkDl4jMultiLayer(sc, mlp(updater, DataType.FLOAT), averaging(frequency));
        ClippedSpark.clipOnWorkers(net, fail == null ? List.of() : List.of(fail), stats);
        JavaRDD<DataSet> rdd = sc.parallelize(data(dataSeed, MINIBATCHES, 5.0, DataType.FLOAT), 2);
        for (int e = 0; e < EPOCHS; e++) {
            net.fit(rdd);
        }
        write(out, name, net.getNetwork().params(), net.getNetwork().getUpdater().getStateViewArray(),
                stats.value());
    }

    private static void computationGraph(JavaSparkContext sc, Path out) {
        SparkClipStats stats = SparkClipStats.register(sc, "graph");
        SparkComputationGraph net = ClippedSpark.graph(sc,
                graph(new ClippingUpdater(new Adam(0.05), Clip.globalNorm(MAX_NORM)), DataType.FLOAT),
                averaging(2), stats);
        JavaRDD<DataSet> rdd = sc.parallelize(data(2, MINIBATCHES, 5.0, DataType.FLOAT), 2);
        for (int e = 0; e < EPOCHS; e++) {
            net.fit(rdd);
        }
        write(out, "graph", net.getNetwork().params(), net.getNetwork().getUpdater().getStateViewArray(),
                stats.value());
    }

    private static void shared(JavaSparkContext sc, Path out) {
        VoidConfiguration voidConf = VoidConfiguration.builder().controllerAddress("127.0.0.1")
                .portSupplier(new FreePortPerJvm()).build();
        TrainingMaster<?, ?> master = new SharedTrainingMaster.Builder(voidConf, BATCH).batchSizePerWorker(BATCH)
                .workersPerNode(1).rddTrainingApproach(RDDTrainingApproach.Direct).rngSeed(7).build();
        SparkClipStats stats = SparkClipStats.register(sc, "shared");
        SparkDl4jMultiLayer net = ClippedSpark.multiLayer(sc,
                mlp(new ClippingUpdater(new Sgd(0.1), Clip.globalNorm(SHARED_MAX_NORM)), DataType.FLOAT), master,
                stats);
        INDArray before = net.getNetwork().params().dup();
        net.fit(sc.parallelize(data(4, SHARED_MINIBATCHES, 5.0, DataType.FLOAT), 2));
        write(out, "shared", net.getNetwork().params(), before, stats.value());
    }

    /** NAME.params, NAME.state (for shared training: the parameters before training) and NAME.properties. */
    private static void write(Path out, String name, INDArray params, INDArray state, ClipSummary s) {
        try {
            Nd4j.saveBinary(params, out.resolve(name + ".params").toFile());
            Nd4j.saveBinary(state, out.resolve(name + ".state").toFile());
            Properties p = new Properties();
            p.setProperty("steps", Long.toString(s.steps()));
            p.setProperty("clippedSteps", Long.toString(s.clippedSteps()));
            p.setProperty("skippedSteps", Long.toString(s.skippedSteps()));
            p.setProperty("minNormBefore", Double.toString(s.minNormBefore()));
            p.setProperty("maxNormBefore", Double.toString(s.maxNormBefore()));
            p.setProperty("maxNormAfter", Double.toString(s.maxNormAfter()));
            p.setProperty("executors", Long.toString(s.keptSteps().stream().map(ClipSummary.Step::executor)
                    .distinct().count()));
            try (Writer w = Files.newBufferedWriter(out.resolve(name + ".properties"))) {
                p.store(w, name);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Throws in the first training iteration any task attempt reaches, once per marker directory (the first JVM
     * to create the marker file throws; every later call, in any JVM, passes): an executor failure Spark retries.
     */
    static final class FailOnce extends BaseTrainingListener implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String markerDir;

        FailOnce(String markerDir) {
            this.markerDir = markerDir;
        }

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            TaskContext task = TaskContext.get();
            if (task == null) {
                return;
            }
            try {
                Files.createFile(Path.of(markerDir, "failed-once"));
            } catch (FileAlreadyExistsException e) {
                return;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            throw new IllegalStateException("injected failure: partition " + task.partitionId() + ", attempt "
                    + task.attemptNumber() + ", stage " + task.stageId());
        }
    }

    /**
     * A free port chosen once per JVM: the driver's becomes the controller port, each executor binds its own.
     * With the static port of {@code VoidConfiguration.unicastPort}, the driver and two executors on one host
     * would all bind the same UDP port.
     */
    static final class FreePortPerJvm implements PortSupplier {
        private static final long serialVersionUID = 1L;
        private static int port;

        @Override
        public int getPort() {
            synchronized (FreePortPerJvm.class) {
                if (port == 0) {
                    try (java.net.DatagramSocket s = new java.net.DatagramSocket(0,
                            java.net.InetAddress.getLoopbackAddress())) {
                        port = s.getLocalPort();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                return port;
            }
        }
    }
}
