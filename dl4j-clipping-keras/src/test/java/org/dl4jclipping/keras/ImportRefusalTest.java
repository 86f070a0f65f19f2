package org.dl4jclipping.keras;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the import cannot express fails naming the layer, the option and its value; what only changes training
 * imports with a warning saying so. Each case edits the architecture JSON of a variant file
 * (resources/keras/variants) and imports it with that file's weights.
 */
class ImportRefusalTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** backwards_last_weights.json: InputLayer -> GRU "gru" (6 units, go_backwards, last output) -> Dense. */
    private Path editedGruModel(Consumer<Map<String, Object>> editGruConfig) throws IOException {
        Map<String, Object> model = JSON.readValue(
                Files.readString(Fixtures.resource("variants/backwards_last_weights.json")), Map.class);
        editGruConfig.accept(config(layers(model).get(1)));
        Path json = dir.resolve("model.json");
        Files.writeString(json, JSON.writeValueAsString(model));
        return json;
    }

    private Path modelJsonOf(String h5, Consumer<List<Map<String, Object>>> edit) throws IOException {
        String config;
        try (KerasFile file = KerasFile.open(Fixtures.resource(h5))) {
            config = file.modelConfigJson();
        }
        Map<String, Object> model = JSON.readValue(config, Map.class);
        model.put("keras_version", "2.10.0");
        edit.accept(layers(model));
        Path json = dir.resolve("model.json");
        Files.writeString(json, JSON.writeValueAsString(model));
        return json;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> layers(Map<String, Object> model) {
        return (List<Map<String, Object>>) ((Map<String, Object>) model.get("config")).get("layers");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> config(Map<String, Object> layer) {
        return (Map<String, Object>) layer.get("config");
    }

    private static final Path WEIGHTS = Fixtures.resource("variants/backwards_last_weights.h5");

    @Test
    void statefulGru_fails_namingLayerOptionAndValue() throws IOException {
        Path json = editedGruModel(c -> c.put("stateful", true));
        assertThatThrownBy(() -> KerasImport.sequential(json, WEIGHTS)).isInstanceOf(KerasImportException.class)
                .hasMessageContaining("Keras GRU 'gru': stateful=true is not supported");
    }

    @Test
    void keras1Gru_fails_sayingToResaveWithKeras2() throws IOException {
        Path json = editedGruModel(c -> { });
        String edited = Files.readString(json).replace("\"keras_version\": \"2.10.0\"", "\"keras_version\": \"1.2.2\"")
                .replace("\"keras_version\":\"2.10.0\"", "\"keras_version\":\"1.2.2\"");
        Files.writeString(json, edited);
        assertThatThrownBy(() -> KerasImport.sequential(json, WEIGHTS)).isInstanceOf(KerasImportException.class)
                .hasMessageContaining("Keras GRU 'gru': saved by Keras 1.2.2")
                .hasMessageContaining("save it again");
    }

    @Test
    void returnState_fails_namingLayerOptionAndValue() throws IOException {
        Path json = editedGruModel(c -> c.put("return_state", true));
        assertThatThrownBy(() -> KerasImport.sequential(json, WEIGHTS)).isInstanceOf(KerasImportException.class)
                .hasMessageContaining("Keras GRU 'gru': return_state=true is not supported");
    }

    @Test
    void unknownActivation_fails_namingLayerOptionAndValue() throws IOException {
        Path json = editedGruModel(c -> c.put("activation", "softsign"));
        assertThatThrownBy(() -> KerasImport.sequential(json, WEIGHTS)).isInstanceOf(KerasImportException.class)
                .hasMessageContaining("Keras layer 'gru': activation='softsign' is not supported");
    }

    @Test
    void unknownRecurrentActivation_fails_namingLayerOptionAndValue() throws IOException {
        Path json = editedGruModel(c -> c.put("recurrent_activation", "swish"));
        assertThatThrownBy(() -> KerasImport.sequential(json, WEIGHTS)).isInstanceOf(KerasImportException.class)
                .hasMessageContaining("Keras layer 'gru': recurrent_activation='swish' is not supported");
    }

    @Test
    void dropoutAndRecurrentDropout_importWithWarningThatTheyOnlyChangeTraining() throws IOException {
        Path json = editedGruModel(c -> {
            c.put("dropout", 0.25);
            c.put("recurrent_dropout", 0.5);
        });
        Logger logger = (Logger) LoggerFactory.getLogger("org.dl4jclipping.keras.layers.GruSpec");
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            MultiLayerNetwork net = KerasImport.sequential(json, WEIGHTS);
            assertThat(net.output(Fixtures.nwc(Fixtures.randomSequences(1, 2, 7, 3), DataType.FLOAT)).shape())
                    .containsExactly(2, 3);
        } finally {
            logger.detachAppender(appender);
        }
        assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage).anySatisfy(m -> assertThat(m)
                .contains("Keras GRU 'gru'").contains("dropout=0.25").contains("recurrent_dropout=0.5")
                .contains("only change training"));
    }

    @Test
    void bidirectionalWithoutMergeMode_fails_namingLayerOptionAndValue() throws IOException {
        Path json = modelJsonOf("variants/bidirectional_concat.h5", l -> config(l.get(2)).put("merge_mode", null));
        assertThatThrownBy(() -> KerasImport.sequential(json, Fixtures.resource("variants/bidirectional_concat.h5")))
                .isInstanceOf(KerasImportException.class)
                .hasMessageContaining("Keras Bidirectional 'bidirectional': merge_mode=null is not supported");
    }

    @Test
    void maskingFeedingDense_fails_namingTheLayer() throws IOException {
        // Masking -> TimeDistributed(Dense) -> GRU: DL4J's Dense would not pass the mask on to the GRU
        Path json = modelJsonOf("variants/masked_backwards_reset_before.h5", l -> {
            Map<String, Object> dense = l.remove(3);
            l.add(2, dense);
        });
        assertThatThrownBy(() -> KerasImport.sequential(json,
                Fixtures.resource("variants/masked_backwards_reset_before.h5")))
                .isInstanceOf(KerasImportException.class)
                .hasMessageContaining("Keras layer 'time_distributed' (TimeDistributed)")
                .hasMessageContaining("reads the mask of a Masking layer");
    }

    @Test
    void maskPassedOnToAnotherRecurrentLayer_fails_namingTheLayer() throws IOException {
        // Masking -> GRU(return_sequences) -> TimeDistributed(Dense) -> GRU: Keras gives the second GRU the mask
        Path json = modelJsonOf("variants/masked_backwards_reset_before.h5", l -> {
            Map<String, Object> second = JSON.convertValue(l.get(2), Map.class);
            config(second).put("name", "gru_2");
            l.add(second);
        });
        assertThatThrownBy(() -> KerasImport.sequential(json,
                Fixtures.resource("variants/masked_backwards_reset_before.h5")))
                .isInstanceOf(KerasImportException.class)
                .hasMessageContaining("Keras layer 'gru_2' (GRU)")
                .hasMessageContaining("reads the mask passed on by a masked GRU");
    }

    @Test
    void maskWithGap_failsAtPrediction_namingLayerAndExample() {
        MultiLayerNetwork net = KerasImport.sequential(Fixtures.resource("variants/masked_backwards_reset_before.h5"));
        double[][][] x = Fixtures.randomSequences(3, 2, 7, 3);
        java.util.Arrays.fill(x[1][3], 0.0);
        assertThatThrownBy(() -> net.output(Fixtures.nwc(x, DataType.FLOAT)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Keras recurrent layer 'gru': the mask of example 1 has a gap");
    }

    @Test
    void wrongEntryPoint_failsSayingWhichOneToUse() {
        assertThatThrownBy(() -> KerasImport.functional(Fixtures.resource("tf2-gru-forecaster/model_gru.h5")))
                .isInstanceOf(KerasImportException.class).hasMessageContaining("import it with KerasImport.sequential");
        assertThatThrownBy(() -> KerasImport.sequential(Fixtures.resource("keras2.0-gru-clipnorm/results_model_0.h5")))
                .isInstanceOf(KerasImportException.class).hasMessageContaining("import it with KerasImport.functional");
    }

    @Test
    void kerasZipFile_failsSayingToSaveAsH5() throws IOException {
        Path zip = dir.resolve("model.keras");
        Files.write(zip, new byte[] {'P', 'K', 3, 4, 20, 0, 0, 0});
        assertThatThrownBy(() -> KerasImport.sequential(zip)).isInstanceOf(KerasImportException.class)
                .hasMessageContaining("is not an HDF5 file")
                .hasMessageContaining("load it in Keras and save it as .h5");
    }

    @Test
    void weightsOnlyFileAsFullModel_failsSayingToGiveTheJson() {
        assertThatThrownBy(() -> KerasImport.sequential(WEIGHTS)).isInstanceOf(KerasImportException.class)
                .hasMessageContaining("has no model_config attribute")
                .hasMessageContaining("KerasImport.sequential(json, weights)");
    }
}
