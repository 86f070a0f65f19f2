package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.StateDoubles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * An adaptive strategy under ParallelWrapper (2 workers, averaging after every minibatch, float32 MLP 4-16-16-3
 * with AutoClip(50) on layer 1): what happens to its statistics, which live in the updater state.
 *
 * <p>Observed and asserted: with DL4J's default {@code averageUpdaters(true)} the workers' updater states are
 * averaged with the parameters, AutoClip's history included. A recorder listener, placed before the
 * {@link ClippingListener}, reads each worker's AutoClip state at the start of its steps: after the first averaging
 * both workers hold the same history, whose one norm is the mean of the two norms the workers appended in the first
 * round (to float rounding of each half of the pair: {@link StateDoubles} is linear). The workers do not always
 * take one step each between averagings (one run: 2 and 1), and then the averaged count is fractional (1.5) and a
 * ring slot one worker has not filled yet is averaged with 0: the averaged history is not a history of norms. So
 * asserted: some history seen by a worker holds a value no worker reported, or a fractional count. With
 * {@code averageUpdaters(false)} each worker keeps its own history: whole counts, and every norm in it is one that
 * a worker reported. docs/integration.md recommends {@code averageUpdaters(false)} for adaptive strategies.
 */
class ParallelWrapperAdaptiveTest {

    /** Each worker step's AutoClip history as it stands before the step: worker model id -> list of histories. */
    private static final class Recorder extends BaseTrainingListener {
        final List<double[]> histories = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onGradientCalculation(Model model) {
            INDArray s = NetworkTestSupport.ruleState((MultiLayerNetwork) model);
            int count = (int) Math.round(StateDoubles.get(s, 0));
            double[] h = new double[1 + Math.min(count, 4)];
            h[0] = StateDoubles.get(s, 0);
            for (int k = 1; k < h.length; k++) {
                h[k] = StateDoubles.get(s, k);
            }
            histories.add(h);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void autoClip_underParallelWrapper_statisticsFollowAverageUpdaters(boolean averageUpdaters) {
        MultiLayerNetwork net = PartialRulesSafetyTest.mlp(DataType.FLOAT, Clip.autoClip(50), false);
        Recorder recorder = new Recorder();
        ClipHistory clips = new ClipHistory(100);
        net.setListeners(recorder, new ClippingListener(clips));
        List<DataSet> batches = new ArrayList<>();
        for (int k = 0; k < 8; k++) {
            batches.add(PartialRulesSafetyTest.batch(DataType.FLOAT, k, false));
        }
        ParallelWrapper pw = new ParallelWrapper.Builder<>(net).workers(2).averagingFrequency(1).prefetchBuffer(2)
                .averageUpdaters(averageUpdaters).trainingMode(ParallelWrapper.TrainingMode.AVERAGING).build();
        try {
            pw.fit(new ListDataSetIterator<>(batches, 1));
        } finally {
            pw.shutdown();
        }
        assertThat(clips.recorded()).as("one clipping step per minibatch").isEqualTo(8);
        List<Double> norms = clips.steps().stream().map(st -> st.layerNormBefore()[1]).toList();
        boolean sawAveraged = false;
        for (double[] h : recorder.histories) {
            boolean countIsWhole = h[0] == Math.rint(h[0]);
            boolean everyNormReported = true;
            for (int k = 1; k < h.length; k++) {
                double v = h[k];
                everyNormReported &= norms.stream().anyMatch(n -> Math.abs(n - v) <= 1e-12 * n);
            }
            if (!averageUpdaters) {
                assertThat(countIsWhole).as("own history: whole count %s", h[0]).isTrue();
                assertThat(everyNormReported).as("own history: every norm is one a worker reported").isTrue();
            }
            sawAveraged |= !countIsWhole || !everyNormReported;
        }
        assertThat(sawAveraged).as("some history is an average of the workers' (averageUpdaters=%s)",
                averageUpdaters).isEqualTo(averageUpdaters);
    }
}
