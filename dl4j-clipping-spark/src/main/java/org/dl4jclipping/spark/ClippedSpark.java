package org.dl4jclipping.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.SparkListenable;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.engine.ClipReport;

/**
 * Spark networks whose every worker clips: the one line that replaces {@code new SparkDl4jMultiLayer(...)} or
 * {@code new SparkComputationGraph(...)} when the configuration uses a {@code ClippingUpdater}.
 *
 * <pre>{@code
 * SparkClipStats stats = SparkClipStats.register(sc, "clipping");          // optional: reports to the driver
 * SparkDl4jMultiLayer sparkNet = ClippedSpark.multiLayer(sc, conf, trainingMaster, stats);
 * sparkNet.fit(trainingData);
 * }</pre>
 *
 * <p>Why: dl4j-spark builds each worker's network from the configuration and the broadcast parameters, so a
 * {@code ClippingListener} added to the driver's {@code MultiLayerNetwork} never reaches the workers (and the
 * first minibatch on an executor fails with the {@code ClippingUpdater}'s "no ClippingListener" error). Listeners
 * reach the workers only through {@code sparkNet.setListeners(...)}, which hands them to the
 * {@link TrainingMaster}: {@code ParameterAveragingTrainingWorker} sets them on every network copy it builds, and
 * {@code SharedTrainingWrapper} on the executor's model (ParallelWrapper passes them to its threads). Each task
 * gets a deserialised copy, so the consumers must be {@link Serializable}; use a {@link SparkClipStats} to see
 * the reports on the driver.
 *
 * <p>{@link #clipOnWorkers} does the same on a Spark network built elsewhere. Both replace the network's
 * listeners (dl4j-spark's {@code setListeners} has no "add"): pass any other listeners along.
 */
public final class ClippedSpark {

    private ClippedSpark() {
    }

    /** A Spark MultiLayerNetwork from {@code conf} whose every worker clips, reporting to {@code consumers}. */
    @SafeVarargs
    public static SparkDl4jMultiLayer multiLayer(JavaSparkContext sc, MultiLayerConfiguration conf,
                                                 TrainingMaster<?, ?> trainingMaster,
                                                 Consumer<ClipReport>... consumers) {
        return clipOnWorkers(new SparkDl4jMultiLayer(sc, conf, trainingMaster), List.of(), consumers);
    }

    /** A Spark MultiLayerNetwork around {@code net} (initialised) whose every worker clips. */
    @SafeVarargs
    public static SparkDl4jMultiLayer multiLayer(JavaSparkContext sc, MultiLayerNetwork net,
                                                 TrainingMaster<?, ?> trainingMaster,
                                                 Consumer<ClipReport>... consumers) {
        return clipOnWorkers(new SparkDl4jMultiLayer(sc, net, trainingMaster), List.of(), consumers);
    }

    /** A Spark ComputationGraph from {@code conf} whose every worker clips, reporting to {@code consumers}. */
    @SafeVarargs
    public static SparkComputationGraph graph(JavaSparkContext sc, ComputationGraphConfiguration conf,
                                              TrainingMaster<?, ?> trainingMaster,
                                              Consumer<ClipReport>... consumers) {
        return clipOnWorkers(new SparkComputationGraph(sc, conf, trainingMaster), List.of(), consumers);
    }

    /** A Spark ComputationGraph around {@code graph} (initialised) whose every worker clips. */
    @SafeVarargs
    public static SparkComputationGraph graph(JavaSparkContext sc, ComputationGraph graph,
                                              TrainingMaster<?, ?> trainingMaster,
                                              Consumer<ClipReport>... consumers) {
        return clipOnWorkers(new SparkComputationGraph(sc, graph, trainingMaster), List.of(), consumers);
    }

    /**
     * Sets a {@link ClippingListener} reporting to {@code consumers}, followed by {@code otherListeners}, as the
     * listeners of every worker's network copy of {@code sparkNet}; returns {@code sparkNet}.
     *
     * @throws IllegalArgumentException if a consumer or listener is not {@link Serializable} (Spark ships them
     *                                  to the executors), or if {@code otherListeners} holds a ClippingListener
     */
    @SafeVarargs
    public static <T extends SparkListenable> T clipOnWorkers(T sparkNet,
                                                              Collection<? extends TrainingListener> otherListeners,
                                                              Consumer<ClipReport>... consumers) {
        for (Consumer<ClipReport> c : consumers) {
            if (c == null) {
                throw new IllegalArgumentException("consumers must not contain null");
            }
            if (!(c instanceof Serializable)) {
                throw new IllegalArgumentException("consumer " + c.getClass().getName() + " is not Serializable: "
                        + "Spark ships the listener and its consumers to every executor. To see the reports on "
                        + "the driver use a SparkClipStats accumulator (a ClipHistory would fill an executor's "
                        + "copy only).");
            }
        }
        List<TrainingListener> listeners = new ArrayList<>();
        listeners.add(new ClippingListener(consumers));
        for (TrainingListener l : otherListeners) {
            if (l instanceof ClippingListener) {
                throw new IllegalArgumentException("otherListeners holds a ClippingListener: one clips already; a "
                        + "second would clip every step twice");
            }
            if (!(l instanceof Serializable)) {
                throw new IllegalArgumentException("listener " + l.getClass().getName() + " is not Serializable");
            }
            listeners.add(l);
        }
        sparkNet.setListeners(listeners);
        return sparkNet;
    }
}
