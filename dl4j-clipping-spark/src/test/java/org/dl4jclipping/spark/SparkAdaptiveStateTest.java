package org.dl4jclipping.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.dl4jclipping.spark.SparkTesting.*;

import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.StateDoubles;
import org.dl4jclipping.strategy.ZClip;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Adaptive clipping state (ZClip) under ParameterAveragingTrainingMaster on Spark local[2], Java serialisation.
 *
 * <p>The ZClip statistics live in the ClippingUpdater's slice of the network's updater state. On this one-block
 * MLP (one global updater, Sgd: no state of its own) the rule's slot is the last {@code stateSize()} elements of
 * the updater state view: [initialised flag, mean, var, warm-up count, warm-up buffer...], each value a pair of
 * elements read with {@link StateDoubles} (the pair is linear, so averaging the arrays averages the values).
 *
 * <p>What the tests show: with {@code saveUpdater(true)} the driver averages the workers' updater state arrays
 * element-wise after each round, ZClip's statistics included, and broadcasts the average as the next round's
 * starting state (one worker: exactly the one-machine run). With {@code saveUpdater(false)} every round's workers
 * start from fresh (zero) state, and the driver's updater state is left as it was (zeros): adaptive clipping
 * restarts its warm-up every round.
 */
class SparkAdaptiveStateTest {

    private static final int WARMUP = 2;
    private static final int INITIALISED = 0;
    private static final int MEAN = 1;
    private static final int VAR = 2;
    private static final int COUNT = 3;
    private static final int BUFFER = 4;

    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = SparkTesting.start("adaptive-state");
    }

    @AfterAll
    static void stop() {
        SparkTesting.stop(sc);
    }

    /** Warm-up of 2 steps, no cap, a small z threshold: after warm-up the adaptive threshold triggers. */
    private static ZClip zclip() {
        return ZClip.builder().warmupSteps(WARMUP).zThreshold(0.1).maxGradNorm(Double.POSITIVE_INFINITY).build();
    }

    private static MultiLayerConfiguration conf() {
        return mlp(new ClippingUpdater(new Sgd(0.05), zclip()));
    }

    private static ParameterAveragingTrainingMaster master(int workers, boolean saveUpdater) {
        return new ParameterAveragingTrainingMaster.Builder(workers, BATCH).batchSizePerWorker(BATCH)
                .averagingFrequency(1).workerPrefetchNumBatches(0).saveUpdater(saveUpdater)
                .rddTrainingApproach(RDDTrainingApproach.Direct).rngSeed(7).build();
    }

    /** The ZClip slot: the last stateSize() elements of the (one-block) updater state. */
    private static INDArray zstate(MultiLayerNetwork net) {
        return zslot(net.getUpdater().getStateViewArray());
    }

    private static INDArray zslot(INDArray all) {
        long n = all.length();
        return all.get(NDArrayIndex.interval(n - zclip().stateSize(), n)).dup();
    }

    private static INDArray state(MultiLayerNetwork net) {
        return net.getUpdater().getStateViewArray().dup();
    }

    /** What one worker does in one round: from (params, updater state), fit one minibatch with clipping. */
    private static MultiLayerNetwork workerStep(INDArray params, INDArray state, DataSet ds) {
        MultiLayerNetwork w = new MultiLayerNetwork(conf().clone());
        w.init(params.dup(), false);
        w.getUpdater().getStateViewArray().assign(state);
        w.addListeners(new ClippingListener());
        w.fit(ds);
        return w;
    }

    /** 1. One worker, averaging every step, saveUpdater(true): parameters and ZClip state equal one machine. */
    @Test
    void oneWorkerKeepsAdaptiveStateExactly() {
        List<DataSet> data = data(21, 6, 10.0);
        MultiLayerNetwork local = new MultiLayerNetwork(conf().clone());
        local.init();
        SparkClipStats localStats = new SparkClipStats(100);
        local.addListeners(new ClippingListener(localStats));

        MultiLayerNetwork start = new MultiLayerNetwork(conf().clone());
        start.init(local.params().dup(), false);
        SparkClipStats stats = SparkClipStats.register(sc, "adaptive-1");
        SparkDl4jMultiLayer sparkNet = ClippedSpark.multiLayer(sc, start, master(1, true), stats);

        for (DataSet ds : data) {
            local.fit(ds);
            sparkNet.fit(sc.parallelize(List.of(ds), 1));
            MultiLayerNetwork d = sparkNet.getNetwork();
            assertThat(maxAbsDiff(d.params(), local.params())).isLessThanOrEqualTo(1e-12);
            assertThat(maxAbsDiff(state(d), state(local))).isLessThanOrEqualTo(1e-12);
        }
        MultiLayerNetwork d = sparkNet.getNetwork();
        assertThat(d.params()).isEqualTo(local.params());
        assertThat(state(d)).isEqualTo(state(local));

        INDArray z = zstate(d);
        assertThat(StateDoubles.get(z, INITIALISED)).isEqualTo(1.0);
        assertThat(StateDoubles.get(z, COUNT)).isEqualTo(WARMUP);
        assertThat(StateDoubles.get(z, MEAN)).isPositive();
        assertThat(StateDoubles.get(z, VAR)).isPositive();
        // no cap and no clipping during warm-up: clipped steps are ZClip's adaptive threshold at work
        assertThat(stats.value().clippedSteps()).isEqualTo(localStats.value().clippedSteps()).isPositive();
    }

    /**
     * 2. Two workers, saveUpdater(true): after every round the driver's updater state (ZClip's included) is the
     * element-wise average of the two workers' states, each worker having started from the previous average.
     * Each worker gets one minibatch per round; the average does not depend on which one, so the expectation is
     * computed on one machine without knowing the assignment.
     */
    @Test
    void twoWorkersAverageAdaptiveState() {
        List<DataSet> data = data(22, 6, 10.0);
        MultiLayerNetwork start = new MultiLayerNetwork(conf().clone());
        start.init();
        INDArray params = start.params().dup();
        INDArray state = state(start);
        assertThat(state.amaxNumber().doubleValue()).isZero();

        SparkClipStats stats = SparkClipStats.register(sc, "adaptive-2");
        SparkDl4jMultiLayer sparkNet = ClippedSpark.multiLayer(sc, start, master(2, true), stats);

        for (int round = 0; round < 3; round++) {
            MultiLayerNetwork a = workerStep(params, state, data.get(2 * round));
            MultiLayerNetwork b = workerStep(params, state, data.get(2 * round + 1));
            INDArray expectedParams = a.params().add(b.params()).divi(2);
            INDArray expectedState = state(a).addi(state(b)).divi(2);

            sparkNet.fit(sc.parallelize(data.subList(2 * round, 2 * round + 2), 2));
            MultiLayerNetwork d = sparkNet.getNetwork();
            assertThat(maxAbsDiff(d.params(), expectedParams)).isLessThanOrEqualTo(1e-12);
            assertThat(maxAbsDiff(state(d), expectedState)).isLessThanOrEqualTo(1e-12);

            INDArray z = zstate(d);
            INDArray za = zstate(a);
            INDArray zb = zstate(b);
            // each worker made round+1 steps in all (it started from the averaged state): so does the average
            assertThat(StateDoubles.get(z, COUNT)).isEqualTo(Math.min(round + 1, WARMUP));
            if (round == 0) {
                // one step each: not initialised; the buffer holds the mean of the two workers' first norms
                assertThat(StateDoubles.get(z, INITIALISED)).isZero();
                assertThat(StateDoubles.get(z, BUFFER)).isCloseTo((StateDoubles.get(za, BUFFER) + StateDoubles.get(zb, BUFFER)) / 2,
                        within(1e-12));
                assertThat(StateDoubles.get(za, BUFFER)).isNotEqualTo(StateDoubles.get(zb, BUFFER));
            } else {
                assertThat(StateDoubles.get(z, INITIALISED)).isEqualTo(1.0);
                double lo = Math.min(StateDoubles.get(za, MEAN), StateDoubles.get(zb, MEAN));
                double hi = Math.max(StateDoubles.get(za, MEAN), StateDoubles.get(zb, MEAN));
                assertThat(StateDoubles.get(z, MEAN)).isBetween(lo, hi);
                assertThat(lo).isLessThan(hi);
            }
            params = expectedParams;
            state = expectedState;
        }
        assertThat(stats.value().steps()).isEqualTo(6);
    }

    /**
     * 3. saveUpdater(false): each round's workers start from fresh (zero) updater state, so ZClip restarts its
     * warm-up every round, and the driver network's updater state is not touched (stays all zeros).
     */
    @Test
    void withoutSaveUpdaterEveryRoundStartsFresh() {
        // the last round's features 5x larger: with carried state its norms are spikes
        List<DataSet> data = new java.util.ArrayList<>(data(23, 4, 10.0));
        data.addAll(data(24, 2, 50.0));
        MultiLayerNetwork start = new MultiLayerNetwork(conf().clone());
        start.init();
        INDArray params = start.params().dup();
        INDArray zero = state(start);
        INDArray carried = zero.dup();
        INDArray carriedParams = params.dup();

        SparkClipStats stats = SparkClipStats.register(sc, "adaptive-fresh");
        SparkDl4jMultiLayer sparkNet = ClippedSpark.multiLayer(sc, start, master(2, false), stats);
        for (int round = 0; round < 3; round++) {
            MultiLayerNetwork a = workerStep(params, zero, data.get(2 * round));
            MultiLayerNetwork b = workerStep(params, zero, data.get(2 * round + 1));
            INDArray expectedParams = a.params().add(b.params()).divi(2);
            // what saveUpdater(true) would have given, to show that the difference is visible
            MultiLayerNetwork ca = workerStep(carriedParams, carried, data.get(2 * round));
            MultiLayerNetwork cb = workerStep(carriedParams, carried, data.get(2 * round + 1));
            carriedParams = ca.params().add(cb.params()).divi(2);
            carried = state(ca).addi(state(cb)).divi(2);

            sparkNet.fit(sc.parallelize(data.subList(2 * round, 2 * round + 2), 2));
            MultiLayerNetwork d = sparkNet.getNetwork();
            assertThat(maxAbsDiff(d.params(), expectedParams)).isLessThanOrEqualTo(1e-12);
            assertThat(state(d).amaxNumber().doubleValue()).as("driver updater state").isZero();
            // each worker's ZClip saw exactly one norm this round: always in warm-up, never initialised
            assertThat(StateDoubles.get(zstate(a), COUNT)).isEqualTo(1.0);
            assertThat(StateDoubles.get(zstate(a), INITIALISED)).isZero();
            params = expectedParams;
        }
        // never out of warm-up, and no cap: nothing was ever clipped, unlike with carried state
        assertThat(stats.value().steps()).isEqualTo(6);
        assertThat(stats.value().clippedSteps()).isZero();
        assertThat(StateDoubles.get(zslot(carried), INITIALISED)).isEqualTo(1.0);
        assertThat(maxAbsDiff(params, carriedParams)).as("fresh vs carried state").isPositive();
    }
}
