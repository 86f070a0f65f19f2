package org.dl4jclipping.keras;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.keras.training.TrainingConfigs;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.learning.config.IUpdater;
import org.slf4j.LoggerFactory;

/**
 * {@link KerasTraining#applyTo} reaches every parameter of the networks {@link KerasImport} builds, through the
 * wrappers it uses (Bidirectional GRUs, masked GRUs, Keras 3 functional models): every parameter's updater is the
 * {@code ClippingUpdater}. The variant files carry no training configuration, so a tf.keras 2.10 one with
 * {@code clipnorm=1} and {@code clipvalue=0.5} is applied to them.
 */
class KerasTrainingOnImportedNetworksTest {

    private static final KerasTraining CLIPPED = KerasTraining.parse(TrainingConfigs.optimizer("Adam",
            "\"name\": \"Adam\", \"learning_rate\": 0.001, \"decay\": 0.0, \"beta_1\": 0.9, \"beta_2\": 0.999, "
                    + "\"epsilon\": 1e-07, \"amsgrad\": false, \"clipnorm\": 1.0, \"clipvalue\": 0.5"), "2.10.0");

    private static final IUpdater EXPECTED = new ClippingUpdater(org.nd4j.linalg.learning.config.Adam.builder()
            .learningRate(0.001).beta1(0.9).beta2(0.999).epsilon(1e-7).build(),
            Clip.chain(Clip.value(0.5), Clip.parameterNorm(1.0)));

    @ParameterizedTest
    @ValueSource(strings = {"variants/bidirectional_concat.h5", "variants/bidirectional_last.h5",
        "variants/masked_backwards_reset_before.h5", "variants/keras3_masked_last_linear.h5",
        "tf2-gru-forecaster/model_gru.h5"})
    void sequential_everyParameterGetsTheClippingUpdater(String file) {
        MultiLayerNetwork net = KerasImport.sequential(Fixtures.resource(file));
        CLIPPED.applyTo(net);
        List<String> checked = new ArrayList<>();
        for (Layer layer : net.getLayers()) {
            for (String p : layer.paramTable().keySet()) {
                // what DL4J's updater asks: the instantiated layer's configuration (TimeDistributed answers through
                // its DenseLayer, Bidirectional through each direction's GRU)
                assertThat(layer.getConfig().getUpdaterByParam(p)).as(layer.getIndex() + "_" + p)
                        .isEqualTo(EXPECTED);
                checked.add(layer.getIndex() + "_" + p);
            }
        }
        assertThat(checked).as("parameters checked").isNotEmpty();
    }

    @Test
    void perVariableClipnorm_onResetAfterGru_logSaysTheBiasRowsAreClippedSeparately() {
        Logger logger = (Logger) LoggerFactory.getLogger(KerasTraining.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            MultiLayerNetwork net = KerasImport.sequential(Fixtures.resource("tf2-gru-forecaster/model_gru.h5"));
            appender.list.clear();
            CLIPPED.applyTo(net);
            assertThat(appender.list).singleElement().extracting(ILoggingEvent::getFormattedMessage).asString()
                    .contains("Clip.parameterNorm clips them separately");
            appender.list.clear();
            KerasTraining.parse(TrainingConfigs.FILE_KERAS_2_0_9, "2.0.9").applyTo(net); // global norm: no note
            assertThat(appender.list).singleElement().extracting(ILoggingEvent::getFormattedMessage).asString()
                    .doesNotContain("separately");
        } finally {
            logger.detachAppender(appender);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"variants/keras3_functional_stacked.h5"})
    void functional_everyParameterGetsTheClippingUpdater(String file) {
        ComputationGraph graph = KerasImport.functional(Fixtures.resource(file));
        CLIPPED.applyTo(graph);
        int checked = 0;
        for (Layer layer : graph.getLayers()) {
            for (String p : layer.paramTable().keySet()) {
                assertThat(layer.getConfig().getUpdaterByParam(p)).as(p).isEqualTo(EXPECTED);
                checked++;
            }
        }
        assertThat(checked).isPositive();
    }
}
