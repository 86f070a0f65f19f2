package org.dl4jclipping.keras.training;

import java.util.OptionalDouble;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * The {@code optimizer_config} of a Keras training configuration: the optimizer's class name and its fields, read
 * the same way whatever Keras wrote them.
 *
 * <p>Class names are normalised: {@code "Custom>Adam"} (Keras 2.11 to 2.13's registered names) and
 * {@code "keras.optimizers.Adam"} become {@code "Adam"}; the name as written is kept for messages. A field that
 * is absent and a field that is {@code null} (Keras 2.11+ and Keras 3 write every clip field, null when unset)
 * both read as unset. Numbers may be written as JSON integers ({@code "clipnorm": 5}) or floats (the float32 value
 * widened to double, {@code 0.019999999552965164}); they are returned exactly as written. Immutable.
 */
public final class OptimizerConfig {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String className;
    private final String writtenClassName;
    private final JsonNode config;

    private OptimizerConfig(String className, String writtenClassName, JsonNode config) {
        this.className = className;
        this.writtenClassName = writtenClassName;
        this.config = config;
    }

    /**
     * Reads the {@code optimizer_config} of a {@code training_config} JSON document.
     *
     * @throws KerasTrainingException if the JSON is malformed or has no {@code optimizer_config} with a
     *                                {@code class_name} and a {@code config} object
     */
    public static OptimizerConfig fromTrainingConfig(String trainingConfigJson) {
        if (trainingConfigJson == null) {
            throw new KerasTrainingException("training_config is null: expected the JSON of the file's "
                    + "training_config attribute");
        }
        JsonNode root;
        try {
            root = JSON.readTree(trainingConfigJson);
        } catch (JsonProcessingException e) {
            throw new KerasTrainingException("training_config is not valid JSON (" + e.getOriginalMessage() + ")",
                    e);
        }
        JsonNode optimizer = root == null ? null : root.get("optimizer_config");
        if (optimizer == null || !optimizer.isObject()) {
            throw new KerasTrainingException("training_config has no optimizer_config object (keys found: "
                    + (root == null ? "none" : iterableToString(root.fieldNames())) + ")");
        }
        JsonNode name = optimizer.get("class_name");
        JsonNode config = optimizer.get("config");
        if (name == null || !name.isTextual() || config == null || !config.isObject()) {
            throw new KerasTrainingException("optimizer_config must hold a class_name string and a config object, "
                    + "found " + optimizer);
        }
        return new OptimizerConfig(normalise(name.asText()), name.asText(), config);
    }

    private static String normalise(String written) {
        String n = written.substring(written.lastIndexOf('>') + 1);
        return n.substring(n.lastIndexOf('.') + 1);
    }

    private static String iterableToString(java.util.Iterator<String> it) {
        StringBuilder b = new StringBuilder();
        it.forEachRemaining(s -> b.append(b.length() == 0 ? "" : ", ").append(s));
        return b.toString();
    }

    /** The class name without registration prefix or module, e.g. {@code "Adam"}. */
    public String className() {
        return className;
    }

    /** The class name as the file wrote it, e.g. {@code "Custom>Adam"}. */
    public String writtenClassName() {
        return writtenClassName;
    }

    /** Whether {@code field} is present and not null. */
    public boolean has(String field) {
        JsonNode n = config.get(field);
        return n != null && !n.isNull();
    }

    /** The field's JSON value, or null when absent or null. */
    public JsonNode node(String field) {
        return has(field) ? config.get(field) : null;
    }

    /**
     * The field as a number, empty when absent or null.
     *
     * @throws KerasTrainingException if the field holds something other than a number
     */
    public OptionalDouble number(String field) {
        JsonNode n = node(field);
        if (n == null) {
            return OptionalDouble.empty();
        }
        if (!n.isNumber()) {
            throw new KerasTrainingException(where(field) + " = " + n + " is not a number");
        }
        return OptionalDouble.of(n.doubleValue());
    }

    /** The field as a number, {@code defaultValue} when absent or null. */
    public double number(String field, double defaultValue) {
        return number(field).orElse(defaultValue);
    }

    /**
     * The field as a boolean, {@code defaultValue} when absent or null.
     *
     * @throws KerasTrainingException if the field holds something other than a boolean
     */
    public boolean bool(String field, boolean defaultValue) {
        JsonNode n = node(field);
        if (n == null) {
            return defaultValue;
        }
        if (!n.isBoolean()) {
            throw new KerasTrainingException(where(field) + " = " + n + " is not a boolean");
        }
        return n.booleanValue();
    }

    /** {@code "optimizer Adam, field beta_1"}: the start of every message about a field. */
    public String where(String field) {
        return "optimizer " + writtenClassName + ", field " + field;
    }

    @Override
    public String toString() {
        return writtenClassName + config;
    }
}
