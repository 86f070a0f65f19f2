package org.dl4jclipping.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URISyntaxException;
import java.nio.file.Path;
import org.dl4jclipping.Clip;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * {@link KerasTraining#read} on the Keras files of {@code src/test/resources/keras/} (their training_config is
 * quoted in {@code TrainingConfigs}): what each one's optimizer and clipping become, and the files without a
 * training configuration or that do not exist.
 */
class KerasTrainingReadTest {

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(KerasTrainingReadTest.class.getResource(name).toURI());
    }

    @Test
    void keras209File_globalClipnormAndNesterovs() throws Exception {
        KerasTraining t = KerasTraining.read(resource("/keras/keras2.0-gru-clipnorm/results_model_0.h5"))
                .orElseThrow();
        assertThat(t.clipping()).contains(Clip.globalNorm(5.0));
        assertThat(t.updater()).isInstanceOf(Nesterovs.class);
        assertThat(t.description()).startsWith("clipnorm=5.0 from Keras 2.0.9 (standalone Keras optimizer): global "
                + "L2 norm -> Clip.globalNorm(5.0)");
    }

    @Test
    void tf2ForecasterFile_adamWithoutClipping() throws Exception {
        KerasTraining t = KerasTraining.read(resource("/keras/tf2-gru-forecaster/model_gru.h5")).orElseThrow();
        assertThat(t.clipping()).isEmpty();
        assertThat(t.updater()).isEqualTo(Adam.builder().learningRate(0.0005000000237487257)
                .beta1(0.8999999761581421).beta2(0.9990000128746033).epsilon(1e-7).build());
        assertThat(t.description()).startsWith("no gradient clipping from Keras 2.10.0 (tf.keras OptimizerV2)");
    }

    @Test
    void keras3ClassifierFile_nullClipFields_adamWithoutClipping() throws Exception {
        KerasTraining t = KerasTraining.read(resource("/keras/keras3-gru-classifier/GRU_model.h5")).orElseThrow();
        assertThat(t.clipping()).isEmpty();
        assertThat(t.optimizerName()).isEqualTo("Adam");
        assertThat(t.description()).startsWith("no gradient clipping from Keras 3.8.0 (Keras optimizer)");
    }

    @Test
    void fileWithoutTrainingConfig_empty() throws Exception {
        assertThat(KerasTraining.read(resource("/keras-training/no-training-config.h5"))).isEmpty();
    }

    @Test
    void missingFile_refusedNamingIt() {
        Path p = Path.of("no-such-model.h5");
        assertThatThrownBy(() -> KerasTraining.read(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no-such-model.h5").hasMessageContaining("does not exist");
    }
}
