package org.dl4jclipping.keras.training;

import java.util.ArrayList;
import java.util.List;
import org.dl4jclipping.keras.training.LearningRates.LearningRate;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.AdaDelta;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.AdaMax;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * A Keras optimizer as a DL4J updater. Every formula below was checked against Keras's source for each optimizer
 * family ({@link OptimizerFamily}) and against DL4J 1.0.0-M2.1's updater by {@code UpdaterFormulaTest}, which runs
 * DL4J's updater against a double reference of Keras's formula ({@code t} counts updates from 1, {@code lr} may
 * follow a schedule, {@link LearningRates}):
 *
 * <ul>
 * <li>{@code SGD(momentum=0)}: {@code p -= lr g} = {@link Sgd}. {@code SGD(momentum=mu, nesterov=true)}:
 *     {@code v = mu v - lr g; p += mu v - lr g} = {@link Nesterovs} (DL4J's {@code p -= mu v_prev - (1 + mu) v}
 *     is the same sum). {@code SGD(momentum>0, nesterov=false)} ({@code v = mu v - lr g; p += v}) has no DL4J
 *     updater: {@link KerasMomentum}, this package's.</li>
 * <li>{@code Adam}: {@code p -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)} (the epsilon added to the
 *     uncorrected {@code sqrt(v)}, in every Keras version) = {@link Adam}; {@code amsgrad=true} ({@code v} replaced by
 *     its running maximum) = {@link AMSGrad}. A null {@code epsilon} (Keras 2.2's default) is Keras's
 *     {@code K.epsilon()} = 1e-7.</li>
 * <li>{@code RMSprop}: {@code a = rho a + (1-rho) g^2}; standalone Keras and tf.keras OptimizerV2 (without
 *     momentum: its Python branch, not the fused kernel) {@code p -= lr g / (sqrt(a) + eps)} = {@link RmsProp}
 *     exactly once its state starts at 0 as Keras's does (DL4J starts it at eps: the state is reset to 0 on
 *     import); the Keras 2.11+ and Keras 3 optimizers put the epsilon inside the root,
 *     {@code p -= lr g / sqrt(a + eps)}: mapped to the same {@link RmsProp}, with a note in the description (the
 *     two differ where {@code a} is near {@code eps}). {@code momentum != 0} and {@code centered=true} have no DL4J
 *     updater: refused.</li>
 * <li>{@code Adagrad}: {@code a += g^2; p -= lr g / (sqrt(a) + eps)} = {@link AdaGrad}, with the state set to
 *     {@code initial_accumulator_value} (tf.keras, Keras 3: 0.1 by default; standalone Keras: 0; DL4J alone would
 *     start at eps); the Keras 2.11+ and Keras 3 optimizers put the epsilon inside the root: a note as for
 *     RMSprop.</li>
 * <li>{@code Adadelta}: {@code a = rho a + (1-rho) g^2; u = g sqrt(d + eps) / sqrt(a + eps); p -= lr u;
 *     d = rho d + (1-rho) u^2} = {@link AdaDelta} when {@code lr = 1} (DL4J's has no learning rate); any other
 *     learning rate is refused.</li>
 * <li>{@code Adamax}: {@code m = b1 m + (1-b1) g; u = max(b2 u, |g|); p -= lr / (1-b1^t) m / (u + eps)} =
 *     {@link AdaMax} except for the epsilon, which DL4J's AdaMax ignores (libnd4j divides by {@code u + 1e-32}):
 *     a relative difference {@code eps / (u + eps)}, noted in the description.</li>
 * <li>{@code Nadam}: refused. Keras's Nadam (every version) uses Dozat's momentum schedule
 *     {@code mu_t = b1 (1 - 0.5 * 0.96^(0.004 t))}; DL4J's Nadam has none, so its very first step differs by
 *     about a factor of two.</li>
 * </ul>
 * Any other class name is refused naming it.
 */
public final class UpdaterMapping {

    /** Keras's {@code K.epsilon()}, used where a config writes {@code epsilon: null}. */
    public static final double KERAS_EPSILON = 1e-7;

    private final IUpdater updater;
    private final Double initialState;
    private final String description;
    private final List<String> differences;

    private UpdaterMapping(IUpdater updater, Double initialState, String description, List<String> differences) {
        this.updater = updater;
        this.initialState = initialState;
        this.description = description;
        this.differences = List.copyOf(differences);
    }

    /**
     * Maps {@code config}, saved by {@code family}, to a DL4J updater.
     *
     * @throws KerasTrainingException naming the optimizer and field when it cannot be expressed
     */
    public static UpdaterMapping of(OptimizerConfig config, OptimizerFamily family) {
        LearningRate lr = LearningRates.of(config);
        List<String> notes = new ArrayList<>();
        return switch (config.className()) {
            case "SGD" -> sgd(config, lr, notes);
            case "Adam" -> adam(config, lr, notes);
            case "RMSprop" -> rmsProp(config, family, lr, notes);
            case "Adagrad" -> adaGrad(config, family, lr, notes);
            case "Adadelta" -> adaDelta(config, lr, notes);
            case "Adamax" -> adaMax(config, lr, notes);
            case "Nadam" -> throw new KerasTrainingException("optimizer " + config.writtenClassName()
                    + " cannot be imported: Keras's Nadam uses Dozat's momentum schedule mu_t = beta_1 * (1 - 0.5 * "
                    + "0.96^(0.004 t)), DL4J's Nadam has none (their first steps differ by about a factor of two). "
                    + "Set an updater of your own after import; KerasTraining.clipping() still gives the clipping");
            default -> throw new KerasTrainingException("optimizer " + config.writtenClassName() + " is not known: "
                    + "supported are SGD, Adam, RMSprop, Adagrad, Adadelta and Adamax");
        };
    }

    private static UpdaterMapping sgd(OptimizerConfig c, LearningRate lr, List<String> notes) {
        double momentum = range(c, "momentum", c.number("momentum", 0.0), 0, 1);
        boolean nesterov = c.bool("nesterov", false);
        if (momentum == 0) {
            return new UpdaterMapping(lr.schedule() == null ? new Sgd(lr.initial()) : new Sgd(lr.schedule()), null,
                    "SGD(" + lr.description() + ") -> Sgd", notes);
        }
        if (!nesterov) {
            return new UpdaterMapping(new KerasMomentum(lr.initial(), lr.schedule(), momentum), null,
                    "SGD(" + lr.description() + ", momentum=" + Numbers.format(momentum) + ") -> KerasMomentum "
                            + "(classical momentum, which DL4J lacks)", notes);
        }
        IUpdater u = lr.schedule() == null ? new Nesterovs(lr.initial(), momentum)
                : new Nesterovs(lr.schedule(), momentum);
        return new UpdaterMapping(u, null, "SGD(" + lr.description() + ", momentum=" + Numbers.format(momentum)
                + ", nesterov) -> Nesterovs", notes);
    }

    private static UpdaterMapping adam(OptimizerConfig c, LearningRate lr, List<String> notes) {
        double b1 = range(c, "beta_1", c.number("beta_1", 0.9), 0, 1);
        double b2 = range(c, "beta_2", c.number("beta_2", 0.999), 0, 1);
        double eps = epsilon(c, notes);
        boolean amsgrad = c.bool("amsgrad", false);
        IUpdater u = amsgrad
                ? AMSGrad.builder().learningRate(lr.initial()).learningRateSchedule(lr.schedule()).beta1(b1).beta2(b2)
                        .epsilon(eps).build()
                : Adam.builder().learningRate(lr.initial()).learningRateSchedule(lr.schedule()).beta1(b1).beta2(b2)
                        .epsilon(eps).build();
        return new UpdaterMapping(u, null, "Adam(" + lr.description() + ", beta_1=" + Numbers.format(b1)
                + ", beta_2=" + Numbers.format(b2) + ", epsilon=" + Numbers.format(eps)
                + (amsgrad ? ", amsgrad) -> AMSGrad" : ") -> Adam"), notes);
    }

    private static UpdaterMapping rmsProp(OptimizerConfig c, OptimizerFamily family, LearningRate lr,
                                          List<String> notes) {
        double rho = range(c, "rho", c.number("rho", 0.9), 0, 1);
        double eps = epsilon(c, notes);
        double momentum = c.number("momentum", 0.0);
        if (momentum != 0) {
            throw new KerasTrainingException(c.where("momentum") + " = " + Numbers.format(momentum) + " cannot be "
                    + "imported: DL4J's RmsProp has no momentum term (only momentum = 0 maps)");
        }
        if (c.bool("centered", false)) {
            throw new KerasTrainingException(c.where("centered") + " = true cannot be imported: DL4J's RmsProp is "
                    + "not centred (only centered = false maps)");
        }
        if (family == OptimizerFamily.KERAS_OPTIMIZER) {
            notes.add("RMSprop: Keras's " + family.label() + " divides by sqrt(a + epsilon), DL4J's RmsProp by "
                    + "sqrt(a) + epsilon; they differ where the squared-gradient average a is near epsilon="
                    + Numbers.format(eps));
        }
        IUpdater u = RmsProp.builder().learningRate(lr.initial()).learningRateSchedule(lr.schedule()).rmsDecay(rho)
                .epsilon(eps).build();
        return new UpdaterMapping(u, 0.0, "RMSprop(" + lr.description() + ", rho=" + Numbers.format(rho)
                + ", epsilon=" + Numbers.format(eps) + ") -> RmsProp (state from 0, as Keras)", notes);
    }

    private static UpdaterMapping adaGrad(OptimizerConfig c, OptimizerFamily family, LearningRate lr,
                                          List<String> notes) {
        double eps = epsilon(c, notes);
        double init = c.number("initial_accumulator_value", 0.0);
        if (!(init >= 0) || Double.isInfinite(init)) {
            throw new KerasTrainingException(c.where("initial_accumulator_value") + " = " + init + " is out of "
                    + "range: must be finite and >= 0");
        }
        if (family == OptimizerFamily.KERAS_OPTIMIZER) {
            notes.add("Adagrad: Keras's " + family.label() + " divides by sqrt(a + epsilon), DL4J's AdaGrad by "
                    + "sqrt(a) + epsilon; they differ where the accumulator a is near epsilon=" + Numbers.format(eps));
        }
        IUpdater u = lr.schedule() == null ? new AdaGrad(lr.initial(), eps) : new AdaGrad(lr.schedule(), eps);
        return new UpdaterMapping(u, init, "Adagrad(" + lr.description() + ", epsilon=" + Numbers.format(eps)
                + ", initial_accumulator_value=" + Numbers.format(init) + ") -> AdaGrad (state from "
                + Numbers.format(init) + ")", notes);
    }

    private static UpdaterMapping adaDelta(OptimizerConfig c, LearningRate lr, List<String> notes) {
        if (lr.schedule() != null || lr.initial() != 1.0) {
            throw new KerasTrainingException("optimizer " + c.writtenClassName() + ": " + lr.description()
                    + " cannot be imported: DL4J's AdaDelta has no learning rate (it is Keras's Adadelta with "
                    + "learning_rate = 1.0 exactly)");
        }
        double rho = range(c, "rho", c.number("rho", 0.95), 0, 1);
        double eps = epsilon(c, notes);
        return new UpdaterMapping(AdaDelta.builder().rho(rho).epsilon(eps).build(), null, "Adadelta("
                + lr.description() + ", rho=" + Numbers.format(rho) + ", epsilon=" + Numbers.format(eps)
                + ") -> AdaDelta", notes);
    }

    private static UpdaterMapping adaMax(OptimizerConfig c, LearningRate lr, List<String> notes) {
        double b1 = range(c, "beta_1", c.number("beta_1", 0.9), 0, 1);
        double b2 = range(c, "beta_2", c.number("beta_2", 0.999), 0, 1);
        double eps = epsilon(c, notes);
        if (eps > 0) {
            notes.add("Adamax: DL4J's AdaMax ignores epsilon=" + Numbers.format(eps) + " (it divides by u, Keras by "
                    + "u + epsilon, u = the running max of |g|): relative difference epsilon / (u + epsilon)");
        }
        AdaMax u = new AdaMax(lr.initial(), b1, b2, eps);
        u.setLearningRateSchedule(lr.schedule());
        return new UpdaterMapping(u, null, "Adamax(" + lr.description() + ", beta_1=" + Numbers.format(b1)
                + ", beta_2=" + Numbers.format(b2) + ", epsilon=" + Numbers.format(eps) + ") -> AdaMax", notes);
    }

    private static double epsilon(OptimizerConfig c, List<String> notes) {
        if (!c.has("epsilon")) {
            notes.add("epsilon is null: Keras's K.epsilon() = 1e-7 used");
            return KERAS_EPSILON;
        }
        double eps = c.number("epsilon").getAsDouble();
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new KerasTrainingException(c.where("epsilon") + " = " + eps + " is out of range: must be finite "
                    + "and >= 0");
        }
        return eps;
    }

    private static double range(OptimizerConfig c, String field, double v, double lo, double hi) {
        if (!(v >= lo && v < hi)) {
            throw new KerasTrainingException(c.where(field) + " = " + v + " is out of range: must be in [" + lo
                    + ", " + hi + ")");
        }
        return v;
    }

    /** The DL4J updater, without clipping. */
    public IUpdater updater() {
        return updater;
    }

    /**
     * The value every element of the updater's state must start from to match Keras ({@code 0} for RMSprop,
     * {@code initial_accumulator_value} for Adagrad), or null when DL4J's own initial state already matches.
     */
    public Double initialState() {
        return initialState;
    }

    /** What was read and what it became, e.g. {@code "Adam(learning_rate=5.0E-4, ...) -> Adam"}. */
    public String description() {
        return description;
    }

    /** Where DL4J's update differs from Keras's (empty when it is the same formula). */
    public List<String> differences() {
        return differences;
    }
}
