package org.dl4jclipping.keras.training;

/**
 * Training configurations as Keras writes them, for the tests. The three {@code FILE_*} strings are the
 * {@code training_config} attributes of the Keras files in {@code src/test/resources/keras/} (read with h5py 3.7,
 * copied verbatim); {@link #optimizer} builds synthetic ones in the format of any Keras version.
 */
public final class TrainingConfigs {

    /** {@code keras2.0-gru-clipnorm/results_model_0.h5}, keras_version 2.0.9. */
    public static final String FILE_KERAS_2_0_9 = "{\"optimizer_config\": {\"class_name\": \"SGD\", \"config\": "
            + "{\"clipnorm\": 5, \"lr\": 0.019999999552965164, \"momentum\": 0.8999999761581421, \"decay\": "
            + "9.999999974752427e-07, \"nesterov\": true}}, \"loss\": {\"ctc\": \"<lambda>\"}, \"metrics\": null, "
            + "\"sample_weight_mode\": null, \"loss_weights\": null}";

    /** {@code tf2-gru-forecaster/model_gru.h5}, keras_version 2.10.0. */
    public static final String FILE_KERAS_2_10_0 = "{\"loss\": \"log_cosh\", \"metrics\": null, \"weighted_metrics\": "
            + "null, \"loss_weights\": null, \"optimizer_config\": {\"class_name\": \"Adam\", \"config\": {\"name\": "
            + "\"Adam\", \"learning_rate\": 0.0005000000237487257, \"decay\": 0.0, \"beta_1\": 0.8999999761581421, "
            + "\"beta_2\": 0.9990000128746033, \"epsilon\": 1e-07, \"amsgrad\": false}}}";

    /** {@code keras3-gru-classifier/GRU_model.h5}, keras_version 3.8.0. */
    public static final String FILE_KERAS_3_8_0 = "{\"loss\": \"sparse_categorical_crossentropy\", \"loss_weights\": "
            + "null, \"metrics\": [\"accuracy\"], \"weighted_metrics\": null, \"run_eagerly\": false, "
            + "\"steps_per_execution\": 1, \"jit_compile\": false, \"optimizer_config\": {\"class_name\": \"Adam\", "
            + "\"config\": {\"name\": \"adam\", \"learning_rate\": 0.0010000000474974513, \"weight_decay\": null, "
            + "\"clipnorm\": null, \"global_clipnorm\": null, \"clipvalue\": null, \"use_ema\": false, "
            + "\"ema_momentum\": 0.99, \"ema_overwrite_frequency\": null, \"loss_scale_factor\": null, "
            + "\"gradient_accumulation_steps\": null, \"beta_1\": 0.9, \"beta_2\": 0.999, \"epsilon\": 1e-07, "
            + "\"amsgrad\": false}}}";

    private TrainingConfigs() {
    }

    /** {@code {"optimizer_config": {"class_name": className, "config": {fields}}}}; fields is JSON without braces. */
    public static String optimizer(String className, String fields) {
        return "{\"loss\": \"mse\", \"optimizer_config\": {\"class_name\": \"" + className + "\", \"config\": {"
                + fields + "}}}";
    }
}
