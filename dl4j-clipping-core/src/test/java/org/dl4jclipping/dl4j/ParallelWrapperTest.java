package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.Consumer;
import java.util.function.Function;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.dl4jclipping.Clip;
import org.dl4jclipping.testing.Networks;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Clipping under DL4J's {@link ParallelWrapper} (2 workers, parameter averaging after every minibatch, CPU): the
 * clipped MLP of {@link Networks} trained on 8 minibatches of 6.
 *
 * <p>Observed in M2.1 (and asserted): a {@link ClippingListener} reaches both workers whether it is added to the
 * model before the wrapper is built (the wrapper takes the model's listeners: {@code pw.getListeners()} shows it)
 * or given with {@code pw.setListeners(...)}: 8 clipping steps are recorded, one per minibatch, from the two worker
 * networks (one listener instance serves both, keeping their clipping apart). Each worker clips its own minibatch's
 * gradient: with {@code Clip.value(1e-4)} and {@code Sgd(1.0)} each step moves every element by at most 1e-4, and
 * averaging the workers' parameters cannot make that larger, so after 8 minibatches no element has moved more than
 * 8e-4 (the worker steps between averagings are not always evenly split: one run moved an element by 4.5e-4, four
 * rounds' worth and a half; the evenly split runs by exactly 4e-4). Without clipping the same run moves an element
 * by about 0.5.
 *
 * <p>Also observed (as {@code dl4j-hooks.md} says): after {@code pw.fit} the main network has no updater
 * ({@code getUpdater(false) == null}); the next {@code getUpdater()} builds a new one whose state is all zeros, so
 * Adam's moments from before the parallel run are lost. Training the main network afterwards (with its listener)
 * works.
 */
class ParallelWrapperTest {

    private static final int MINIBATCHES = 8;
    private static final double C = 1e-4;

    private static ListDataSetIterator<DataSet> iterator() {
        Nd4j.getRandom().setSeed(77);
        INDArray x = Nd4j.randn(DataType.DOUBLE, MINIBATCHES * Networks.BATCH, 4).muli(2);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, MINIBATCHES * Networks.BATCH, 3);
        java.util.Random r = new java.util.Random(78);
        for (int i = 0; i < y.rows(); i++) {
            y.putScalar(i, r.nextInt(3), 1.0);
        }
        return new ListDataSetIterator<>(new DataSet(x, y).asList(), Networks.BATCH);
    }

    private static ParallelWrapper wrapper(MultiLayerNetwork net) {
        return new ParallelWrapper.Builder<>(net).workers(2).averagingFrequency(1).prefetchBuffer(2)
                .trainingMode(ParallelWrapper.TrainingMode.AVERAGING).build();
    }

    /** Trains the MLP with {@code updater} under the wrapper; returns the largest element change. */
    private static double train(Function<Double, IUpdater> updater, Consumer<MultiLayerNetwork> beforeWrapper,
                                Consumer<ParallelWrapper> onWrapper) {
        MultiLayerNetwork net = (MultiLayerNetwork) Networks.mlp(updater).model();
        beforeWrapper.accept(net);
        INDArray before = net.params().dup();
        ParallelWrapper pw = wrapper(net);
        try {
            onWrapper.accept(pw);
            pw.fit(iterator());
        } finally {
            pw.shutdown();
        }
        assertThat(net.params().isNaN().any()).isFalse();
        return NetworkTestSupport.maxAbsDiff(before, net.params());
    }

    private static Function<Double, IUpdater> clipped() {
        return lr -> new ClippingUpdater(new Sgd(1.0), Clip.value(C));
    }

    private static void assertEveryWorkerStepClipped(ClipHistory history) {
        assertThat(history.recorded()).as("one clipping step per minibatch, over both workers")
                .isEqualTo(MINIBATCHES);
        assertThat(history.steps()).allSatisfy(s -> assertThat(s.clipped()).isPositive());
    }

    @Test
    void listenerOnModel_reachesBothWorkers_andNoElementMovesMoreThanOneClippedStepPerMinibatch() {
        ClipHistory history = new ClipHistory(100);
        double moved = train(clipped(), net -> net.addListeners(new ClippingListener(history)), pw ->
                assertThat(pw.getListeners()).as("the wrapper takes the model's listeners").hasSize(1));

        assertEveryWorkerStepClipped(history);
        assertThat(moved).isPositive().isLessThanOrEqualTo(MINIBATCHES * C + 1e-12);
    }

    @Test
    void listenerThroughWrapperSetListeners_reachesBothWorkers_andBoundsEveryElement() {
        ClipHistory history = new ClipHistory(100);
        double moved = train(clipped(), net -> { }, pw -> pw.setListeners(new ClippingListener(history)));

        assertEveryWorkerStepClipped(history);
        assertThat(moved).isPositive().isLessThanOrEqualTo(MINIBATCHES * C + 1e-12);
    }

    @Test
    void withoutClipping_theSameRunMovesSomeElementFarMoreThanTheBound() {
        double moved = train(Sgd::new, net -> { }, pw -> { });

        assertThat(moved).isGreaterThan(100 * MINIBATCHES * C);
    }

    @Test
    void afterParallelFit_mainNetworkUpdaterStateIsGone_andTrainingOnWorks() {
        MultiLayerNetwork net = (MultiLayerNetwork) Networks.mlp(
                lr -> new ClippingUpdater(new Adam(1e-2), Clip.globalNorm(1))).model();
        net.addListeners(new ClippingListener());
        DataSet batch = iterator().next();
        net.fit(batch);
        assertThat(net.getUpdater().getStateViewArray().amaxNumber().doubleValue()).isPositive();

        ParallelWrapper pw = wrapper(net);
        try {
            pw.fit(iterator());
        } finally {
            pw.shutdown();
        }

        assertThat(net.getUpdater(false)).as("no updater after pw.fit").isNull();
        assertThat(net.getUpdater().getStateViewArray().amaxNumber().doubleValue()).as("a new, zero state")
                .isZero();
        INDArray params = net.params().dup();
        net.fit(batch);
        assertThat(NetworkTestSupport.maxAbsDiff(params, net.params())).isPositive();
        assertThat(net.getUpdater().getStateViewArray().amaxNumber().doubleValue()).isPositive();
    }
}
