package org.dl4jclipping.keras.training;

/**
 * Which optimizer code saved a training configuration: that decides what {@code clipnorm} means, which clip fields
 * exist, in which order they apply, and whether {@code decay} exists. Read from Keras's sources of each version:
 *
 * <table>
 * <caption>Clip fields by the optimizer code that saved them</caption>
 * <tr><th>family</th><th>files</th><th>clipnorm</th><th>clip order</th></tr>
 * <tr><td>{@link #STANDALONE_KERAS}</td><td>standalone Keras 1.x to 2.3 ({@code keras/optimizers.py},
 *     {@code Optimizer.get_gradients}); tf.keras's copy of those optimizers in TensorFlow 1.x ({@code -tf}
 *     versions whose config has no {@code name})</td>
 *     <td>one norm over all gradients: {@code g * c / n} when {@code n >= c}, {@code n = sqrt(sum of every
 *     g^2)}</td><td>clipnorm, then clipvalue; a threshold {@code <= 0} is off</td></tr>
 * <tr><td>{@link #TF_KERAS_V2_EARLY}</td><td>tf.keras OptimizerV2 of TensorFlow 2.0 to 2.3 ({@code -tf} versions
 *     whose config has a {@code name}; {@code OptimizerV2._clip_gradients})</td>
 *     <td>per variable, {@code tf.clip_by_norm}</td><td>clipnorm, then clipvalue</td></tr>
 * <tr><td>{@link #TF_KERAS_V2}</td><td>tf.keras OptimizerV2 of TensorFlow 2.4 to 2.10 (Keras 2.4 to 2.10), and
 *     {@code tf.keras.optimizers.legacy} in Keras 2.11 to 2.15 ({@code is_legacy_optimizer: true};
 *     {@code OptimizerV2._transform_gradients})</td><td>per variable; {@code global_clipnorm} is one norm over
 *     all (Keras refuses both at once)</td><td>clipvalue, then clipnorm, then global_clipnorm</td></tr>
 * <tr><td>{@link #KERAS_OPTIMIZER}</td><td>the optimizers of Keras 2.11 to 2.15 ({@code is_legacy_optimizer:
 *     false}) and Keras 3 ({@code _clip_gradients})</td><td>per variable</td><td>only the first set of
 *     clipnorm, global_clipnorm, clipvalue applies; a threshold {@code <= 0} is off</td></tr>
 * </table>
 */
public enum OptimizerFamily {

    /** Standalone Keras up to 2.3 (and TensorFlow 1.x tf.keras's copy of its optimizers). */
    STANDALONE_KERAS("standalone Keras optimizer"),
    /** tf.keras OptimizerV2 in TensorFlow 2.0 to 2.3. */
    TF_KERAS_V2_EARLY("tf.keras OptimizerV2 (TensorFlow 2.0-2.3)"),
    /** tf.keras OptimizerV2 in TensorFlow 2.4+ (Keras 2.4 to 2.10, and the legacy optimizers of 2.11 to 2.15). */
    TF_KERAS_V2("tf.keras OptimizerV2"),
    /** The optimizers of Keras 2.11 to 2.15 and Keras 3. */
    KERAS_OPTIMIZER("Keras optimizer");

    private final String label;

    OptimizerFamily(String label) {
        this.label = label;
    }

    /** A short name for messages, e.g. "standalone Keras optimizer". */
    public String label() {
        return label;
    }

    /** Whether {@code clipnorm} is one norm over all gradients (true only for {@link #STANDALONE_KERAS}). */
    public boolean clipnormIsGlobal() {
        return this == STANDALONE_KERAS;
    }

    /**
     * The family that saved {@code config} under {@code version}: the {@code -tf} suffix means tf.keras up to
     * TensorFlow 2.3 (OptimizerV2 when the config has a {@code name}, else TensorFlow 1.x's copy of the standalone
     * optimizers); below 2.4 without it, standalone Keras; 2.4 to 2.10 OptimizerV2; from 2.11 the new optimizers,
     * unless the config says {@code is_legacy_optimizer: true}.
     */
    public static OptimizerFamily of(KerasVersion version, OptimizerConfig config) {
        if (version.isTfKerasSuffix()) {
            return config.has("name") ? TF_KERAS_V2_EARLY : STANDALONE_KERAS;
        }
        if (!version.atLeast(2, 4)) {
            return STANDALONE_KERAS;
        }
        if (!version.atLeast(2, 11)) {
            return TF_KERAS_V2;
        }
        if (version.major() == 2 && config.bool("is_legacy_optimizer", false)) {
            return TF_KERAS_V2;
        }
        return KERAS_OPTIMIZER;
    }
}
