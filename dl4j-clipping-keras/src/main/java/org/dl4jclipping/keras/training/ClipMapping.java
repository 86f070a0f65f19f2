package org.dl4jclipping.keras.training;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;

/**
 * The gradient clipping of a Keras optimizer ({@code clipnorm}, {@code clipvalue}, {@code global_clipnorm}) as a
 * strategy of the core module, in the order the saving Keras applies them ({@link OptimizerFamily}):
 *
 * <ul>
 * <li>{@code clipvalue=c} -> {@link Clip#value(double) Clip.value(c)}: every element clamped to {@code [-c, c]},
 *     as Keras's {@code clip(g, -c, c)}.</li>
 * <li>{@code clipnorm=c}, standalone Keras (up to 2.3): one L2 norm over all gradients ->
 *     {@link Clip#globalNorm(double) Clip.globalNorm(c)}. tf.keras 2.x and Keras 3: the L2 norm of each variable
 *     ({@code tf.clip_by_norm}) -> {@link Clip#parameterNorm(double) Clip.parameterNorm(c)}.</li>
 * <li>{@code global_clipnorm=c} (tf.keras 2.4+, Keras 3) -> {@link Clip#globalNorm(double) Clip.globalNorm(c)}.</li>
 * <li>Several set: standalone Keras and tf.keras up to 2.3 apply clipnorm then clipvalue; tf.keras 2.4+
 *     OptimizerV2 clipvalue, then clipnorm, then global_clipnorm (it refuses clipnorm with global_clipnorm, and so
 *     does this import); Keras 2.11+ and Keras 3 optimizers apply only the first of clipnorm, global_clipnorm,
 *     clipvalue (the others are reported as ignored, as Keras ignores them). A chain is
 *     {@link Clip#chain(ClipStrategy...)}.</li>
 * <li>Null or absent: unset. A threshold {@code <= 0} is off in standalone Keras and the Keras 2.11+/3
 *     optimizers ({@code if clipnorm > 0}); tf.keras OptimizerV2 would zero every gradient with it, and it is
 *     refused there.</li>
 * </ul>
 *
 * <p>Numerics: Keras scales by {@code c / n} with no epsilon (standalone Keras when {@code n >= c};
 * {@code tf.clip_by_norm} by {@code c / max(n, c)}; {@code tf.clip_by_global_norm} likewise), the core's norm
 * strategies by {@code c / (n + 1e-6)} when that is below 1 (PyTorch's epsilon): a clipped gradient differs by a
 * relative {@code 1e-6 / (n + 1e-6)}, at most {@code 1e-6 / c}, and a norm within 1e-6 below {@code c} is scaled
 * by at most that much where Keras leaves it. The {@code description()} says so.
 */
public final class ClipMapping {

    private final ClipStrategy strategy;
    private final String description;
    private final boolean perVariableNorm;

    private ClipMapping(ClipStrategy strategy, String description, boolean perVariableNorm) {
        this.strategy = strategy;
        this.description = description;
        this.perVariableNorm = perVariableNorm;
    }

    /**
     * The clipping of {@code config}, saved by {@code family} under {@code version}.
     *
     * @throws KerasTrainingException if a threshold is not a finite number, or is a combination or value the saving
     *                                Keras itself refuses
     */
    public static ClipMapping of(OptimizerConfig config, OptimizerFamily family, KerasVersion version) {
        Double clipnorm = threshold(config, "clipnorm", family);
        Double clipvalue = threshold(config, "clipvalue", family);
        Double global = threshold(config, "global_clipnorm", family);
        String from = " from Keras " + version + " (" + family.label() + ")";
        List<Step> steps = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        if (global != null && (family == OptimizerFamily.STANDALONE_KERAS
                || family == OptimizerFamily.TF_KERAS_V2_EARLY)) {
            throw new KerasTrainingException(config.where("global_clipnorm") + " = " + Numbers.format(global)
                    + " is not a field of the " + family.label() + " (Keras " + version + "); it exists from "
                    + "tf.keras 2.4 on: the file's keras_version and optimizer config disagree");
        }
        switch (family) {
            case STANDALONE_KERAS, TF_KERAS_V2_EARLY -> {
                addNorm(steps, "clipnorm", clipnorm, family.clipnormIsGlobal());
                addValue(steps, clipvalue);
            }
            case TF_KERAS_V2 -> {
                if (clipnorm != null && global != null) {
                    throw new KerasTrainingException(config.where("clipnorm") + " = " + Numbers.format(clipnorm)
                            + " with global_clipnorm = " + Numbers.format(global) + ": tf.keras refuses both at "
                            + "once (\"Cannot accept both `clipnorm` and `global_clipnorm`\"); the file is "
                            + "inconsistent");
                }
                addValue(steps, clipvalue);
                addNorm(steps, "clipnorm", clipnorm, false);
                addNorm(steps, "global_clipnorm", global, true);
            }
            case KERAS_OPTIMIZER -> {
                if (clipnorm != null) {
                    addNorm(steps, "clipnorm", clipnorm, false);
                } else if (global != null) {
                    addNorm(steps, "global_clipnorm", global, true);
                } else {
                    addValue(steps, clipvalue);
                }
                if (clipnorm != null && global != null) {
                    ignored.add("global_clipnorm=" + Numbers.format(global));
                }
                if ((clipnorm != null || global != null) && clipvalue != null) {
                    ignored.add("clipvalue=" + Numbers.format(clipvalue));
                }
            }
            default -> throw new IllegalStateException("unknown family " + family);
        }
        if (steps.isEmpty()) {
            return new ClipMapping(null, "no gradient clipping" + from + " (clipnorm, clipvalue, global_clipnorm "
                    + "unset)", false);
        }
        StringBuilder d = new StringBuilder();
        for (Step s : steps) {
            d.append(d.length() == 0 ? s.field + from : ", then " + s.field).append(": ").append(s.what);
        }
        if (!ignored.isEmpty()) {
            d.append("; ").append(String.join(" and ", ignored)).append(" ignored, as this Keras applies only the "
                    + "first of clipnorm, global_clipnorm, clipvalue");
        }
        if (steps.stream().anyMatch(s -> s.norm)) {
            d.append("; Keras scales by c / n with no epsilon, Clip's norms by c / (n + 1e-6): a clipped gradient "
                    + "differs by at most 1e-6 / c relative");
        }
        ClipStrategy strategy = steps.size() == 1 ? steps.get(0).strategy
                : Clip.chain(steps.stream().map(s -> s.strategy).toArray(ClipStrategy[]::new));
        boolean perVariable = steps.stream().anyMatch(s -> s.norm && s.field.startsWith("clipnorm")
                && !family.clipnormIsGlobal());
        return new ClipMapping(strategy, d.toString(), perVariable);
    }

    private static Double threshold(OptimizerConfig config, String field, OptimizerFamily family) {
        if (!config.has(field)) {
            return null;
        }
        double v = config.number(field).getAsDouble();
        if (!Double.isFinite(v)) {
            throw new KerasTrainingException(config.where(field) + " = " + v + " is out of range: must be finite");
        }
        if (v > 0) {
            return v;
        }
        if (family == OptimizerFamily.TF_KERAS_V2 || family == OptimizerFamily.TF_KERAS_V2_EARLY) {
            throw new KerasTrainingException(config.where(field) + " = " + Numbers.format(v) + " is out of range: "
                    + "tf.keras's OptimizerV2 refuses a negative threshold and zeroes every gradient with 0; "
                    + "must be > 0 (or null for no clipping)");
        }
        return null; // standalone Keras and the Keras 2.11+/3 optimizers clip only when the threshold is > 0
    }

    private static void addNorm(List<Step> steps, String field, Double c, boolean global) {
        if (c == null) {
            return;
        }
        String f = Numbers.format(c);
        steps.add(global
                ? new Step(Clip.globalNorm(c), field + "=" + f, "global L2 norm -> Clip.globalNorm(" + f + ")", true)
                : new Step(Clip.parameterNorm(c), field + "=" + f, "L2 norm of each variable -> Clip.parameterNorm("
                        + f + ")", true));
    }

    private static void addValue(List<Step> steps, Double c) {
        if (c != null) {
            String f = Numbers.format(c);
            steps.add(new Step(Clip.value(c), "clipvalue=" + f, "each element -> Clip.value(" + f + ")", false));
        }
    }

    /** The strategy (a chain when several fields apply), empty when the optimizer does not clip. */
    public Optional<ClipStrategy> strategy() {
        return Optional.ofNullable(strategy);
    }

    /** What was read and what it became, with the numeric difference; also when nothing clips. */
    public String description() {
        return description;
    }

    /** Whether a {@code clipnorm} became {@link Clip#parameterNorm(double)} (one norm per variable). */
    public boolean perVariableNorm() {
        return perVariableNorm;
    }

    private record Step(ClipStrategy strategy, String field, String what, boolean norm) {
    }
}
