package org.dl4jclipping.keras.training;

import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.InverseSchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.schedule.StepSchedule;
import org.nd4j.shade.jackson.databind.JsonNode;

/**
 * The learning rate of a Keras optimizer as a DL4J constant or iteration schedule.
 *
 * <p>Fields: {@code learning_rate} (tf.keras, Keras 2.3+, Keras 3) or {@code lr} (standalone Keras up to 2.2),
 * a number or a serialised schedule object; and {@code decay} (standalone Keras and OptimizerV2 only), which
 * makes the rate at step {@code t} (0 for the first update, Keras's {@code iterations} before the increment)
 * {@code lr / (1 + decay * t)}: DL4J's {@link InverseSchedule} with power 1 over iterations, which DL4J counts
 * from 0 too.
 *
 * <p>Schedule objects mapped exactly ({@code t} = the step, from 0):
 * <ul>
 * <li>{@code ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase=false)}:
 *     {@code lr0 * rate^(t / steps)} = {@link ExponentialSchedule}{@code (lr0, rate^(1/steps))} (the power is
 *     computed once in double);</li>
 * <li>{@code ExponentialDecay(..., staircase=true)}: {@code lr0 * rate^floor(t / steps)} = {@link StepSchedule};</li>
 * <li>{@code InverseTimeDecay(..., staircase=false)}: {@code lr0 / (1 + rate * t / steps)} =
 *     {@link InverseSchedule}{@code (lr0, rate / steps, 1)}.</li>
 * </ul>
 * Every other schedule (and {@code InverseTimeDecay} with {@code staircase=true}, a schedule combined with
 * {@code decay}) is refused with a {@link KerasTrainingException} naming the class and field.
 */
public final class LearningRates {

    private LearningRates() {
    }

    /**
     * The learning rate of {@code config}.
     *
     * @throws KerasTrainingException if neither {@code learning_rate} nor {@code lr} is set, if a value is not a
     *                                finite number >= 0, or if a schedule cannot be expressed
     */
    public static LearningRate of(OptimizerConfig config) {
        String field = config.has("learning_rate") ? "learning_rate" : "lr";
        JsonNode node = config.node(field);
        if (node == null) {
            throw new KerasTrainingException("optimizer " + config.writtenClassName() + " has neither learning_rate "
                    + "nor lr: the learning rate is required");
        }
        double decay = config.number("decay", 0.0);
        if (!(decay >= 0) || Double.isInfinite(decay)) {
            throw new KerasTrainingException(config.where("decay") + " = " + decay + " is out of range: must be "
                    + "finite and >= 0");
        }
        if (node.isObject()) {
            if (decay > 0) {
                throw new KerasTrainingException(config.where("decay") + " = " + decay + " together with a "
                        + "learning-rate schedule object in " + field + " cannot be expressed in DL4J (one schedule "
                        + "per updater): save the model with one of them");
            }
            return schedule(config, field, node);
        }
        if (!node.isNumber()) {
            throw new KerasTrainingException(config.where(field) + " = " + node + " is neither a number nor a "
                    + "schedule object");
        }
        double lr = nonNegative(config.where(field), node.doubleValue());
        if (decay > 0) {
            return new LearningRate(lr, new InverseSchedule(ScheduleType.ITERATION, lr, decay, 1.0),
                    field + "=" + Numbers.format(lr) + " with decay=" + Numbers.format(decay)
                            + " -> InverseSchedule: " + Numbers.format(lr) + " / (1 + " + Numbers.format(decay)
                            + " * iteration)");
        }
        return new LearningRate(lr, null, field + "=" + Numbers.format(lr));
    }

    private static LearningRate schedule(OptimizerConfig config, String field, JsonNode node) {
        JsonNode nameNode = node.get("class_name");
        JsonNode c = node.get("config");
        String name = nameNode == null ? "?" : nameNode.asText();
        name = name.substring(name.lastIndexOf('>') + 1);
        String where = config.where(field) + " (schedule " + name + ")";
        if (c == null || !c.isObject()) {
            throw new KerasTrainingException(where + " has no config object: found " + node);
        }
        if (!name.equals("ExponentialDecay") && !name.equals("InverseTimeDecay")) {
            throw new KerasTrainingException(where + " cannot be imported: only ExponentialDecay and "
                    + "InverseTimeDecay have a DL4J schedule that computes the same rates. Replace the updater "
                    + "after import with a DL4J ISchedule of your own (KerasTraining.clipping() keeps the clipping)");
        }
        double lr0 = nonNegative(where + ".initial_learning_rate", required(c, "initial_learning_rate", where));
        double steps = required(c, "decay_steps", where);
        if (!(steps > 0) || Double.isInfinite(steps)) {
            throw new KerasTrainingException(where + ".decay_steps = " + steps + " is out of range: must be > 0");
        }
        double rate = nonNegative(where + ".decay_rate", required(c, "decay_rate", where));
        boolean staircase = c.has("staircase") && c.get("staircase").asBoolean(false);
        String text = name + "(" + Numbers.format(lr0) + ", decay_steps=" + Numbers.format(steps) + ", decay_rate="
                + Numbers.format(rate) + (staircase ? ", staircase" : "") + ") -> ";
        if (name.equals("ExponentialDecay")) {
            if (staircase) {
                return new LearningRate(lr0, new StepSchedule(ScheduleType.ITERATION, lr0, rate, steps),
                        text + "StepSchedule");
            }
            return new LearningRate(lr0, new ExponentialSchedule(ScheduleType.ITERATION, lr0,
                    Math.pow(rate, 1.0 / steps)), text + "ExponentialSchedule");
        }
        if (staircase) {
            throw new KerasTrainingException(where + ".staircase = true cannot be imported: DL4J has no inverse "
                    + "schedule over floor(step / decay_steps)");
        }
        return new LearningRate(lr0, new InverseSchedule(ScheduleType.ITERATION, lr0, rate / steps, 1.0),
                text + "InverseSchedule");
    }

    private static double required(JsonNode c, String key, String where) {
        JsonNode v = c.get(key);
        if (v == null || !v.isNumber()) {
            throw new KerasTrainingException(where + "." + key + " = " + v + " is not a number");
        }
        return v.doubleValue();
    }

    private static double nonNegative(String where, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new KerasTrainingException(where + " = " + v + " is out of range: must be finite and >= 0");
        }
        return v;
    }

    /**
     * A learning rate: the initial value, the DL4J schedule (null for a constant rate) and what was read.
     *
     * @param initial     the rate of the first step
     * @param schedule    the DL4J iteration schedule, or null for a constant rate
     * @param description e.g. {@code "lr=0.02 with decay=1.0E-6 -> InverseSchedule: 0.02 / (1 + 1.0E-6 * iteration)"}
     */
    public record LearningRate(double initial, ISchedule schedule, String description) {
    }
}
