package org.dl4jclipping.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Adam;

/** The char-LM learning-rate schedule: the values its formula gives, and that it reaches the updater. */
class LrScheduleTest {

    @Test
    void warmsUpFromATenthThenDecaysToATenth() {
        double peak = 2e-3;
        // warm-up: a tenth at the start, the peak at 2% of the budget
        assertThat(LrSchedule.COSINE.at(peak, 0.0)).isCloseTo(2e-4, within(1e-15));
        assertThat(LrSchedule.COSINE.at(peak, 0.01)).isCloseTo(2e-4 + 0.9 * 2e-3 * 0.5, within(1e-15));
        assertThat(LrSchedule.COSINE.at(peak, 0.02)).isCloseTo(peak, within(1e-15));
        // halfway through the decay both schedules are midway between peak and floor: (2e-3 + 2e-4) / 2
        double mid = 0.02 + 0.98 / 2;
        assertThat(LrSchedule.COSINE.at(peak, mid)).isCloseTo(1.1e-3, within(1e-15));
        assertThat(LrSchedule.LINEAR.at(peak, mid)).isCloseTo(1.1e-3, within(1e-15));
        // a quarter into the decay: cosine 2e-4 + 1.8e-3 (1 + cos(pi/4)) / 2, linear 2e-3 - 1.8e-3 / 4
        double quarter = 0.02 + 0.98 / 4;
        assertThat(LrSchedule.COSINE.at(peak, quarter))
                .isCloseTo(2e-4 + 1.8e-3 * (1 + Math.cos(Math.PI / 4)) / 2, within(1e-15));
        assertThat(LrSchedule.LINEAR.at(peak, quarter)).isCloseTo(1.55e-3, within(1e-15));
        // the end, and past it (a resumed run that overshoots its budget), stays at the floor
        assertThat(LrSchedule.COSINE.at(peak, 1.0)).isCloseTo(2e-4, within(1e-15));
        assertThat(LrSchedule.LINEAR.at(peak, 1.3)).isCloseTo(2e-4, within(1e-15));
        assertThat(LrSchedule.NONE.at(peak, 0.5)).isEqualTo(peak);
    }

    @Test
    void applySetsTheRateOfAWrappedUpdater() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .updater(new ClippingUpdater(new Adam(1e-3), Clip.globalNorm(1.0))).list()
                .layer(new OutputLayer.Builder().nIn(3).nOut(2).build()).build());
        net.init();
        LrSchedule.apply(net, 5e-4);
        assertThat(net.getLearningRate(0)).isEqualTo(5e-4);
    }

    @Test
    void unknownScheduleIsAUserError() {
        assertThatThrownBy(() -> LrSchedule.parse("step")).isInstanceOf(UserError.class)
                .hasMessageContaining("cosine, linear or none");
    }
}
