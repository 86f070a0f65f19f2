package org.dl4jclipping.keras.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.dl4jclipping.keras.training.TrainingConfigs.optimizer;

import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.keras.KerasTraining;
import org.junit.jupiter.api.Test;

/**
 * What each clip field becomes, per saving Keras: the meaning of clipnorm by version, the order of several fields,
 * null and zero thresholds, and the combinations Keras itself refuses. The expected strategies and orders are
 * those of Keras's sources (standalone Keras 2.0-2.3 {@code Optimizer.get_gradients}; tf.keras 2.0-2.3
 * {@code OptimizerV2._clip_gradients}; tf.keras 2.4+ {@code OptimizerV2._transform_gradients}; Keras 2.11+ and 3
 * {@code _clip_gradients}).
 */
class ClipMappingTest {

    private static ClipStrategy clip(String json, String version) {
        return KerasTraining.parse(json, version).clipping().orElse(null);
    }

    private static final String SGD = "\"lr\": 0.01, \"momentum\": 0.0, \"decay\": 0.0, \"nesterov\": false";
    private static final String SGD_V2 = "\"name\": \"SGD\", \"learning_rate\": 0.01, \"decay\": 0.0, "
            + "\"momentum\": 0.0, \"nesterov\": false";
    private static final String ADAM_NEW = "\"name\": \"Adam\", \"learning_rate\": 0.001, \"beta_1\": 0.9, "
            + "\"beta_2\": 0.999, \"epsilon\": 1e-07, \"amsgrad\": false, \"weight_decay\": null, \"use_ema\": false, "
            + "\"ema_momentum\": 0.99, \"ema_overwrite_frequency\": null, \"jit_compile\": true";

    @Test
    void clipnorm_standaloneKeras209_isGlobalNorm() {
        KerasTraining t = KerasTraining.parse(TrainingConfigs.FILE_KERAS_2_0_9, "2.0.9");
        assertThat(t.clipping()).contains(Clip.globalNorm(5.0));
        assertThat(t.description()).startsWith("clipnorm=5.0 from Keras 2.0.9 (standalone Keras optimizer): "
                + "global L2 norm -> Clip.globalNorm(5.0)");
    }

    @Test
    void clipnorm_standaloneKeras231WithLearningRateKey_isGlobalNorm() {
        // Keras 2.3 writes learning_rate instead of lr but still clips by one global norm
        assertThat(clip(optimizer("SGD", "\"learning_rate\": 0.01, \"momentum\": 0.0, \"decay\": 0.0, "
                + "\"nesterov\": false, \"clipnorm\": 1.5"), "2.3.1")).isEqualTo(Clip.globalNorm(1.5));
    }

    @Test
    void clipnormThenClipvalue_standaloneKeras_chainInThatOrder() {
        assertThat(clip(optimizer("SGD", SGD + ", \"clipnorm\": 1.0, \"clipvalue\": 0.5"), "2.2.4"))
                .isEqualTo(Clip.chain(Clip.globalNorm(1.0), Clip.value(0.5)));
    }

    @Test
    void clipnorm_tensorflow1TfKerasWithoutName_isGlobalNorm() {
        // TF 1.x tf.keras's copy of the standalone optimizers: no "name" in the config
        assertThat(clip(optimizer("SGD", SGD + ", \"clipnorm\": 1.0"), "2.1.6-tf")).isEqualTo(Clip.globalNorm(1.0));
    }

    @Test
    void clipnormThenClipvalue_tfKeras23OptimizerV2_perVariableThenValue() {
        assertThat(clip(optimizer("SGD", SGD_V2 + ", \"clipnorm\": 1.0, \"clipvalue\": 0.5"), "2.3.0-tf"))
                .isEqualTo(Clip.chain(Clip.parameterNorm(1.0), Clip.value(0.5)));
    }

    @Test
    void clipnormAndClipvalue_tfKeras24to210_valueFirstThenPerVariable() {
        assertThat(clip(optimizer("SGD", SGD_V2 + ", \"clipnorm\": 1.0, \"clipvalue\": 0.5"), "2.4.0"))
                .isEqualTo(Clip.chain(Clip.value(0.5), Clip.parameterNorm(1.0)));
    }

    @Test
    void globalClipnormAndClipvalue_tfKeras210_valueFirstThenGlobal() {
        assertThat(clip(optimizer("Adam", "\"name\": \"Adam\", \"learning_rate\": 0.001, \"decay\": 0.0, "
                + "\"beta_1\": 0.9, \"beta_2\": 0.999, \"epsilon\": 1e-07, \"amsgrad\": false, "
                + "\"global_clipnorm\": 2.0, \"clipvalue\": 0.5"), "2.10.0"))
                .isEqualTo(Clip.chain(Clip.value(0.5), Clip.globalNorm(2.0)));
    }

    @Test
    void clipnormAndGlobalClipnorm_tfKeras_refusedAsKerasRefusesThem() {
        assertThatThrownBy(() -> clip(optimizer("SGD", SGD_V2 + ", \"clipnorm\": 1.0, \"global_clipnorm\": 2.0"),
                "2.6.0")).isInstanceOf(KerasTrainingException.class)
                .hasMessageContaining("clipnorm = 1.0").hasMessageContaining("global_clipnorm = 2.0");
    }

    @Test
    void legacyOptimizerInKeras212_isOptimizerV2Order() {
        assertThat(clip(optimizer("SGD", SGD_V2 + ", \"clipnorm\": 1.0, \"clipvalue\": 0.5, "
                + "\"is_legacy_optimizer\": true"), "2.12.0"))
                .isEqualTo(Clip.chain(Clip.value(0.5), Clip.parameterNorm(1.0)));
    }

    @Test
    void customAdamInKeras212_onlyClipnormApplies_clipvalueReportedIgnored() {
        KerasTraining t = KerasTraining.parse(optimizer("Custom>Adam", ADAM_NEW + ", \"clipnorm\": 1.0, "
                + "\"global_clipnorm\": null, \"clipvalue\": 0.5, \"is_legacy_optimizer\": false"), "2.12.0");
        assertThat(t.optimizerName()).isEqualTo("Custom>Adam");
        assertThat(t.clipping()).contains(Clip.parameterNorm(1.0));
        assertThat(t.description()).contains("clipvalue=0.5 ignored");
    }

    @Test
    void globalClipnorm_keras3_isGlobalNorm() {
        assertThat(clip(optimizer("Adam", ADAM_NEW + ", \"clipnorm\": null, \"global_clipnorm\": 1.0, "
                + "\"clipvalue\": null"), "3.3.3")).isEqualTo(Clip.globalNorm(1.0));
    }

    @Test
    void clipvalueAlone_keras3_isValue() {
        assertThat(clip(optimizer("Adam", ADAM_NEW + ", \"clipnorm\": null, \"global_clipnorm\": null, "
                + "\"clipvalue\": 0.25"), "3.8.0")).isEqualTo(Clip.value(0.25));
    }

    @Test
    void nullFields_keras3File_noClipping() {
        KerasTraining t = KerasTraining.parse(TrainingConfigs.FILE_KERAS_3_8_0, "3.8.0");
        assertThat(t.clipping()).isEmpty();
        assertThat(t.description()).startsWith("no gradient clipping from Keras 3.8.0");
    }

    @Test
    void zeroThreshold_keras3AndStandalone_isOff() {
        // Keras 3: "if self.clipnorm and self.clipnorm > 0"; standalone Keras: "if self.clipnorm > 0"
        assertThat(clip(optimizer("Adam", ADAM_NEW + ", \"clipnorm\": 0.0"), "3.8.0")).isNull();
        assertThat(clip(optimizer("SGD", SGD + ", \"clipvalue\": 0"), "2.0.9")).isNull();
    }

    @Test
    void zeroThreshold_tfKerasOptimizerV2_refused() {
        assertThatThrownBy(() -> clip(optimizer("SGD", SGD_V2 + ", \"clipnorm\": 0.0"), "2.9.0"))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("field clipnorm = 0.0");
    }

    @Test
    void globalClipnorm_inStandaloneKerasFile_refusedAsInconsistent() {
        assertThatThrownBy(() -> clip(optimizer("SGD", SGD + ", \"global_clipnorm\": 1.0"), "2.2.4"))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("global_clipnorm");
    }

    @Test
    void nonNumericThreshold_refusedNamingField() {
        assertThatThrownBy(() -> clip(optimizer("SGD", SGD + ", \"clipnorm\": \"5\""), "2.0.9"))
                .isInstanceOf(KerasTrainingException.class)
                .hasMessageContaining("optimizer SGD, field clipnorm = \"5\" is not a number");
    }
}
