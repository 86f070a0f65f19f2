package org.dl4jclipping.keras.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.dl4jclipping.keras.training.TrainingConfigs.optimizer;

import org.dl4jclipping.keras.KerasTraining;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.AdaDelta;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.InverseSchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.schedule.StepSchedule;

/**
 * Which DL4J updater each optimizer config becomes, in every format the files and Keras versions write, and the
 * refusals (each naming the field). The numbers the updaters then compute are checked in
 * {@link UpdaterFormulaTest}.
 */
class UpdaterMappingTest {

    private static IUpdater updater(String json, String version) {
        return KerasTraining.parse(json, version).updater();
    }

    @Test
    void keras209File_sgdNesterovWithDecay_isNesterovsOnInverseSchedule() {
        IUpdater u = updater(TrainingConfigs.FILE_KERAS_2_0_9, "2.0.9");
        assertThat(u).isInstanceOf(Nesterovs.class);
        Nesterovs n = (Nesterovs) u;
        assertThat(n.getMomentum()).isEqualTo(0.8999999761581421);
        // lr / (1 + decay * t), t = 0 at the first update (Keras's iterations before its increment)
        assertThat(n.getLearningRateSchedule()).isEqualTo(new InverseSchedule(ScheduleType.ITERATION,
                0.019999999552965164, 9.999999974752427e-07, 1.0));
        assertThat(n.getLearningRate(0, 0)).isEqualTo(0.019999999552965164);
        assertThat(n.getLearningRate(1_000_000, 0)).isEqualTo(0.019999999552965164 / (1 + 0.9999999974752427));
    }

    @Test
    void keras210File_adamWithLearningRateKey_isAdam() {
        Adam a = (Adam) updater(TrainingConfigs.FILE_KERAS_2_10_0, "2.10.0");
        assertThat(a.getLearningRate()).isEqualTo(0.0005000000237487257);
        assertThat(a.getLearningRateSchedule()).isNull();
        assertThat(a.getBeta1()).isEqualTo(0.8999999761581421);
        assertThat(a.getBeta2()).isEqualTo(0.9990000128746033);
        assertThat(a.getEpsilon()).isEqualTo(1e-7);
    }

    @Test
    void keras3File_adamWithNullFields_isAdam() {
        KerasTraining t = KerasTraining.parse(TrainingConfigs.FILE_KERAS_3_8_0, "3.8.0");
        Adam a = (Adam) t.updater();
        assertThat(a.getLearningRate()).isEqualTo(0.0010000000474974513);
        assertThat(a.getBeta1()).isEqualTo(0.9);
        assertThat(t.description()).contains("optimizer Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, "
                + "epsilon=1.0E-7) -> Adam");
    }

    @Test
    void sgdWithoutMomentum_isSgd_andNullEpsilonIsKerasDefault() {
        assertThat(updater(optimizer("SGD", "\"lr\": 0.1, \"momentum\": 0.0, \"decay\": 0.0, \"nesterov\": false"),
                "2.1.2")).isEqualTo(new Sgd(0.1));
        Adam a = (Adam) updater(optimizer("Adam", "\"lr\": 0.001, \"beta_1\": 0.9, \"beta_2\": 0.999, "
                + "\"epsilon\": null, \"decay\": 0.0, \"amsgrad\": false"), "2.2.0");
        assertThat(a.getEpsilon()).isEqualTo(1e-7);
    }

    @Test
    void amsgrad_isAmsGrad() {
        assertThat(updater(optimizer("Adam", "\"name\": \"Adam\", \"learning_rate\": 0.001, \"beta_1\": 0.9, "
                + "\"beta_2\": 0.999, \"epsilon\": 1e-07, \"decay\": 0.0, \"amsgrad\": true"), "2.4.0"))
                .isInstanceOf(AMSGrad.class);
    }

    @Test
    void adadeltaWithLearningRateOne_isAdaDelta_otherRatesRefused() {
        AdaDelta d = (AdaDelta) updater(optimizer("Adadelta", "\"lr\": 1.0, \"rho\": 0.95, \"epsilon\": 1e-07, "
                + "\"decay\": 0.0"), "2.2.4");
        assertThat(d.getRho()).isEqualTo(0.95);
        assertThatThrownBy(() -> updater(optimizer("Adadelta", "\"name\": \"Adadelta\", \"learning_rate\": 0.001, "
                + "\"rho\": 0.95, \"epsilon\": 1e-07, \"decay\": 0.0"), "2.8.0"))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("learning_rate=0.001")
                .hasMessageContaining("AdaDelta has no learning rate");
    }

    @Test
    void exponentialDecaySchedule_isExponentialOrStepSchedule() {
        String smooth = "{\"class_name\": \"ExponentialDecay\", \"config\": {\"initial_learning_rate\": 0.1, "
                + "\"decay_steps\": 100, \"decay_rate\": 0.5, \"staircase\": false, \"name\": null}}";
        Adam a = (Adam) updater(optimizer("Adam", "\"name\": \"Adam\", \"learning_rate\": " + smooth
                + ", \"beta_1\": 0.9, \"beta_2\": 0.999, \"epsilon\": 1e-07, \"amsgrad\": false"), "3.1.0");
        assertThat(a.getLearningRateSchedule()).isInstanceOf(ExponentialSchedule.class);
        // Keras: 0.1 * 0.5^(t / 100); at t = 300 that is 0.1 / 8
        assertThat(a.getLearningRate(300, 0)).isCloseTo(0.0125, org.assertj.core.data.Offset.offset(1e-15));
        String stairs = smooth.replace("\"staircase\": false", "\"staircase\": true");
        Adam b = (Adam) updater(optimizer("Adam", "\"name\": \"Adam\", \"learning_rate\": " + stairs
                + ", \"beta_1\": 0.9, \"beta_2\": 0.999, \"epsilon\": 1e-07, \"amsgrad\": false"), "3.1.0");
        assertThat(b.getLearningRateSchedule()).isEqualTo(new StepSchedule(ScheduleType.ITERATION, 0.1, 0.5, 100));
        assertThat(b.getLearningRate(199, 0)).isEqualTo(0.05);
    }

    @Test
    void inverseTimeDecaySchedule_isInverseSchedule() {
        String s = "{\"module\": \"keras.optimizers.schedules\", \"class_name\": \"InverseTimeDecay\", \"config\": "
                + "{\"initial_learning_rate\": 0.1, \"decay_steps\": 10, \"decay_rate\": 0.5, \"staircase\": false}, "
                + "\"registered_name\": null}";
        Sgd sgd = (Sgd) updater(optimizer("SGD", "\"name\": \"SGD\", \"learning_rate\": " + s + ", \"momentum\": 0.0, "
                + "\"nesterov\": false"), "3.0.0");
        // Keras: 0.1 / (1 + 0.5 * t / 10); at t = 20: 0.05
        assertThat(sgd.getLearningRate(20, 0)).isCloseTo(0.05, org.assertj.core.data.Offset.offset(1e-16));
    }

    @Test
    void otherSchedule_refusedNamingIt() {
        String s = "{\"class_name\": \"PiecewiseConstantDecay\", \"config\": {\"boundaries\": [10], \"values\": "
                + "[0.1, 0.01]}}";
        assertThatThrownBy(() -> updater(optimizer("SGD", "\"name\": \"SGD\", \"learning_rate\": " + s), "2.9.0"))
                .isInstanceOf(KerasTrainingException.class)
                .hasMessageContaining("field learning_rate (schedule PiecewiseConstantDecay) cannot be imported");
    }

    @Test
    void classicalMomentum_isKerasMomentum() {
        assertThat(updater(optimizer("SGD", "\"lr\": 0.01, \"momentum\": 0.9, \"decay\": 0.0, \"nesterov\": false"),
                "2.0.9")).isEqualTo(new KerasMomentum(0.01, null, 0.9));
    }

    @Test
    void nadamAndUnknownNames_refusedNamingThem() {
        assertThatThrownBy(() -> updater(optimizer("Nadam", "\"lr\": 0.002"), "2.0.9"))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("optimizer Nadam cannot be imported")
                .hasMessageContaining("momentum schedule");
        assertThatThrownBy(() -> updater(optimizer("Custom>Ftrl", "\"learning_rate\": 0.002"), "2.12.0"))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("optimizer Custom>Ftrl is not known");
    }

    @Test
    void rmspropMomentumAndCentered_refused() {
        assertThatThrownBy(() -> updater(optimizer("RMSprop", "\"name\": \"RMSprop\", \"learning_rate\": 0.001, "
                + "\"rho\": 0.9, \"momentum\": 0.5, \"epsilon\": 1e-07, \"centered\": false"), "2.5.0"))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("field momentum = 0.5");
        assertThatThrownBy(() -> updater(optimizer("RMSprop", "\"name\": \"RMSprop\", \"learning_rate\": 0.001, "
                + "\"rho\": 0.9, \"momentum\": 0.0, \"epsilon\": 1e-07, \"centered\": true"), "2.5.0"))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("field centered = true");
    }

    @Test
    void kerasOnlyTrainingFeatures_refusedNamingField() {
        assertThatThrownBy(() -> updater(optimizer("Adam", "\"learning_rate\": 0.001, \"use_ema\": true"), "3.8.0"))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("field use_ema = true");
        assertThatThrownBy(() -> updater(optimizer("Adam", "\"learning_rate\": 0.001, \"weight_decay\": 0.004"),
                "3.8.0")).isInstanceOf(KerasTrainingException.class).hasMessageContaining("field weight_decay");
        assertThatThrownBy(() -> updater(optimizer("Adam", "\"learning_rate\": 0.001, "
                + "\"gradient_accumulation_steps\": 4"), "3.8.0")).isInstanceOf(KerasTrainingException.class)
                .hasMessageContaining("field gradient_accumulation_steps");
    }

    @Test
    void missingVersionOrMalformedJson_refusedSayingWhat() {
        assertThatThrownBy(() -> KerasTraining.parse(TrainingConfigs.FILE_KERAS_2_0_9, null))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("keras_version is missing");
        assertThatThrownBy(() -> KerasTraining.parse("{\"loss\": \"mse\"}", "2.0.9"))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("no optimizer_config")
                .hasMessageContaining("loss");
        assertThatThrownBy(() -> KerasTraining.parse("{nope", "2.0.9"))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> updater(optimizer("SGD", "\"momentum\": 0.0"), "2.0.9"))
                .isInstanceOf(KerasTrainingException.class).hasMessageContaining("neither learning_rate nor lr");
    }

    @Test
    void epsilonInsideRoot_keras3Rmsprop_descriptionSaysSo_tfKerasV2Rmsprop_same() {
        KerasTraining k3 = KerasTraining.parse(optimizer("RMSprop", "\"name\": \"rmsprop\", \"learning_rate\": "
                + "0.001, \"rho\": 0.9, \"momentum\": 0.0, \"epsilon\": 1e-07, \"centered\": false, "
                + "\"clipnorm\": null"),
                "3.8.0");
        assertThat(k3.description()).contains("divides by sqrt(a + epsilon), DL4J's RmsProp by sqrt(a) + epsilon");
        assertThat(k3.initialUpdaterState()).contains(0.0);
        // tf.keras OptimizerV2 without momentum: var - lr * grad / (sqrt(denom) + epsilon), DL4J's formula
        KerasTraining v2 = KerasTraining.parse(optimizer("RMSprop", "\"name\": \"RMSprop\", \"learning_rate\": 0.001, "
                + "\"decay\": 0.0, \"rho\": 0.9, \"momentum\": 0.0, \"epsilon\": 1e-07, \"centered\": false"), "2.9.0");
        assertThat(v2.description()).doesNotContain("sqrt(a + epsilon)");
    }
}
