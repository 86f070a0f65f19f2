package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
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
import org.dl4jclipping.engine.ClipStrategy;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A spike injected into a training run: a float32 regression MLP 3-16-1 (tanh, MSE, Sgd(0.05), batch 16) learns
 * {@code y = sin(x0) + x1 * x2} for 260 steps; minibatch 200 has its targets scaled by 1e3 (its loss about 1e6
 * times the others', its gradient about 1e3 times).
 *
 * <p>{@code chain(skipNonFinite, skipSpikes, globalNorm(1e6))}: the spiked step is skipped (by spike, once), and the
 * run afterwards equals, bit for bit, the same run with that minibatch left out (Sgd does not depend on the
 * iteration number, and a skipped step changes no state). {@code adaGC()}: the spiked step is clipped to
 * {@code 1.05 gamma} of each tensor, and the held-out loss 60 steps later is within 10% of the run without the
 * spike, while the unclipped run is still more than 10 times off.
 */
class SpikeInjectionTest {

    private static final int STEPS = 260;
    private static final int SPIKE = 200;

    /**
     * Minibatch {@code seed}: x uniform in [-2, 2]^3 from {@code java.util.Random(seed)} (ND4J's generator, reseeded
     * after a fit, does not repeat its sequence), y = sin(x0) + x1 x2, times {@code targetScale}.
     */
    private static DataSet batch(long seed, double targetScale) {
        java.util.Random r = new java.util.Random(seed);
        double[][] x = new double[16][3];
        double[][] y = new double[16][1];
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 3; j++) {
                x[i][j] = 4 * r.nextDouble() - 2;
            }
            y[i][0] = (Math.sin(x[i][0]) + x[i][1] * x[i][2]) * targetScale;
        }
        return new DataSet(Nd4j.createFromArray(x).castTo(DataType.FLOAT),
                Nd4j.createFromArray(y).castTo(DataType.FLOAT));
    }

    private static MultiLayerNetwork net(IUpdater updater) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT)
                .weightInit(WeightInit.XAVIER).updater(updater).list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(16).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(16).nOut(1)
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork n = new MultiLayerNetwork(conf);
        n.init();
        return n;
    }

    /** Trains; {@code spike}: batch SPIKE scaled, {@code omit}: batch SPIKE left out. Returns the held-out loss. */
    private static double train(MultiLayerNetwork n, boolean spike, boolean omit, List<Double> heldOut) {
        DataSet test = batch(99_999, 1.0);
        for (int s = 0; s < STEPS; s++) {
            if (s == SPIKE && omit) {
                continue;
            }
            n.fit(batch(s, s == SPIKE && spike ? 1e3 : 1.0));
            heldOut.add(n.score(test));
        }
        return n.score(test);
    }

    private static MultiLayerNetwork clipped(ClipStrategy s, ClipHistory history) {
        MultiLayerNetwork n = net(new ClippingUpdater(new Sgd(0.05), s));
        n.addListeners(new ClippingListener(history));
        return n;
    }

    @Test
    void skipSpikes_skipsTheSpike_andTheRunEqualsTheRunWithoutIt() {
        ClipStrategy s = Clip.chain(Clip.skipNonFinite(), Clip.skipSpikes(), Clip.globalNorm(1e6));
        ClipHistory history = new ClipHistory(1000);
        MultiLayerNetwork spiked = clipped(s, history);
        MultiLayerNetwork without = clipped(s, new ClipHistory(1000));
        train(spiked, true, false, new ArrayList<>());
        train(without, false, true, new ArrayList<>());
        assertThat(history.skippedSteps()).as("steps skipped").isEqualTo(1);
        assertThat(history.steps().get(SPIKE).skippedBySpike()).isTrue();
        assertThat(spiked.params().equals(without.params())).as("parameters equal the run without the spike")
                .isTrue();
        assertThat(spiked.params().sub(without.params()).amaxNumber().doubleValue()).isZero();
    }

    @Test
    void adaGC_clipsTheSpike_andTheRunStaysCloseToTheRunWithoutIt() {
        List<Double> clippedCurve = new ArrayList<>();
        List<Double> cleanCurve = new ArrayList<>();
        List<Double> plainCurve = new ArrayList<>();
        ClipHistory history = new ClipHistory(1000);
        double withAdaGC = train(clipped(Clip.adaGC(), history), true, false, clippedCurve);
        double clean = train(clipped(Clip.adaGC(), new ClipHistory(1000)), false, false, cleanCurve);
        double plain = train(net(new Sgd(0.05)), true, false, plainCurve);
        ClipHistory.Step spikeStep = history.steps().get(SPIKE);
        assertThat(spikeStep.minScale()).as("the spike is clipped hard").isLessThan(0.01);
        assertThat(Math.abs(withAdaGC - clean)).as("AdaGC %s vs clean %s", withAdaGC, clean)
                .isLessThanOrEqualTo(0.1 * clean);
        assertThat(plain).as("the unclipped run, %s vs clean %s", plain, clean).isGreaterThan(10 * clean);
    }
}
