package org.dl4jclipping.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Spark local[2] for the tests, with everything Spark, Hadoop and Aeron write kept under {@code spark.test.dir}
 * (the module's target/spark-test, set by Surefire), and small double-precision networks and data.
 */
final class SparkTesting {

    static final int IN = 4;
    static final int HIDDEN = 6;
    static final int CLASSES = 3;
    static final int BATCH = 8;

    private SparkTesting() {
    }

    /** The directory the tests may write into (created). */
    static Path testDir() {
        Path dir = Path.of(System.getProperty("spark.test.dir", "target/spark-test")).toAbsolutePath();
        try {
            Files.createDirectories(dir.resolve("tmp"));
            Files.createDirectories(dir.resolve("local"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static SparkConf conf(String app) {
        Path dir = testDir();
        return new SparkConf().setMaster("local[2]").setAppName(app)
                .set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.local.dir", dir.resolve("local").toString())
                .set("spark.hadoop.hadoop.tmp.dir", dir.resolve("hadoop").toString());
    }

    static JavaSparkContext start(String app) {
        return new JavaSparkContext(conf(app));
    }

    static JavaSparkContext startKryo(String app) {
        return new JavaSparkContext(conf(app)
                .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .set("spark.kryo.registrator", "org.nd4j.kryo.Nd4jRegistrator"));
    }

    /** Stops {@code sc} and deletes what it wrote under the test directory. */
    static void stop(JavaSparkContext sc) {
        if (sc != null) {
            sc.stop();
        }
        deleteContents(testDir().resolve("local"));
        deleteContents(testDir().resolve("hadoop"));
    }

    static void deleteContents(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(s.sorted(Comparator.reverseOrder()).toList());
            all.remove(dir);
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static NeuralNetConfiguration.Builder base(IUpdater updater) {
        return base(updater, DataType.DOUBLE);
    }

    static NeuralNetConfiguration.Builder base(IUpdater updater, DataType dataType) {
        return new NeuralNetConfiguration.Builder().seed(42).dataType(dataType)
                .weightInit(WeightInit.XAVIER).updater(updater);
    }

    /** Dense(4 -> 6, tanh) -> softmax output (3 classes), double. */
    static MultiLayerConfiguration mlp(IUpdater updater) {
        return mlp(updater, DataType.DOUBLE);
    }

    /** Dense(4 -> 6, tanh) -> softmax output (3 classes) in {@code dataType}. */
    static MultiLayerConfiguration mlp(IUpdater updater, DataType dataType) {
        return base(updater, dataType).list()
                .layer(new DenseLayer.Builder().nIn(IN).nOut(HIDDEN).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(HIDDEN).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    /** The same MLP as a ComputationGraph. */
    static ComputationGraphConfiguration graph(IUpdater updater) {
        return graph(updater, DataType.DOUBLE);
    }

    /** The same MLP as a ComputationGraph in {@code dataType}. */
    static ComputationGraphConfiguration graph(IUpdater updater, DataType dataType) {
        return base(updater, dataType).graphBuilder().addInputs("in")
                .addLayer("dense", new DenseLayer.Builder().nIn(IN).nOut(HIDDEN).activation(Activation.TANH)
                        .build(), "in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(HIDDEN)
                        .nOut(CLASSES).activation(Activation.SOFTMAX).build(), "dense")
                .setOutputs("out").build();
    }

    /** {@code n} minibatches of {@link #BATCH} examples; features scaled by {@code scale} (large: big gradients). */
    static List<DataSet> data(long seed, int n, double scale) {
        return data(seed, n, scale, DataType.DOUBLE);
    }

    /** {@code n} minibatches as {@link #data(long, int, double)}, in {@code dataType}. */
    static List<DataSet> data(long seed, int n, double scale, DataType dataType) {
        java.util.Random r = new java.util.Random(seed);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < n; b++) {
            INDArray f = Nd4j.zeros(DataType.DOUBLE, BATCH, IN);
            INDArray l = Nd4j.zeros(DataType.DOUBLE, BATCH, CLASSES);
            for (int i = 0; i < BATCH; i++) {
                for (int j = 0; j < IN; j++) {
                    f.putScalar(i, j, r.nextGaussian() * scale);
                }
                l.putScalar(i, r.nextInt(CLASSES), 1.0);
            }
            out.add(new DataSet(f.castTo(dataType), l.castTo(dataType)));
        }
        return out;
    }

    /** The largest absolute element-wise difference. */
    static double maxAbsDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    /** Whether {@code t} or one of its causes (or their messages, as Spark relays task failures) says {@code s}. */
    static boolean mentions(Throwable t, String s) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.toString().contains(s)) {
                return true;
            }
        }
        return false;
    }
}
