package org.dl4jclipping.dl4j;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * A SameDiff updater configuration that clips each variable by the first rule its name matches, before the
 * updater it wraps: per-variable clipping for {@code SameDiff.fit}, where a {@code TrainingConfig} holds one updater
 * for every variable. (For the same strategy on every variable, {@link ClippingUpdater} is enough.)
 *
 * <pre>{@code
 * sd.setTrainingConfig(TrainingConfig.builder()
 *     .updater(VariableClipping.rules()
 *         .pattern("lstm/.*", Clip.layerNorm(0.5))   // regular expression over the whole variable name
 *         .name("out/W", Clip.value(1.0))
 *         .unclipped("embedding/.*")
 *         .otherwise(Clip.globalNorm(1.0))         // without it, variables no rule matches are not clipped
 *         .around(new Adam(1e-3)))
 *     .dataSetFeatureMapping("in").dataSetLabelMapping("label").build());
 * sd.addListeners(new SameDiffClipping());
 * }</pre>
 *
 * <p>Rules are tried in order; the first whose pattern matches the whole variable name decides (a strategy, or
 * not clipped). Variables whose rules carry equal strategies are clipped together as one rule (a global norm is
 * global over them), as in the layer API. The "layer" of a variable (scope {@code LAYER}, reports) is its name up
 * to the last {@code '/'} (SameDiff's name scope: {@code sd.withNameScope("dense0")} names {@code dense0/W}), the
 * whole name when it has none.
 *
 * <p>Immutable, value-based {@code equals}, JSON-serialisable with ND4J's shaded Jackson (it travels in the
 * {@code TrainingConfig} of a saved SameDiff). State per variable: the wrapped updater's, then one strategy slot as
 * large as the largest rule's (adaptive strategies' state, saved with the model).
 */
@Getter
@EqualsAndHashCode(callSuper = true)
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY,
        getterVisibility = JsonAutoDetect.Visibility.NONE,
        isGetterVisibility = JsonAutoDetect.Visibility.NONE,
        setterVisibility = JsonAutoDetect.Visibility.NONE)
public final class VariableClipping extends WrappingUpdater {

    private static final long serialVersionUID = 1L;

    private final List<Rule> rules;

    /**
     * Clips by {@code rules} (in order, first match wins), then updates with {@code updater}.
     *
     * @param updater the updater to wrap (not itself a clipping updater)
     * @param rules   the rules; may be empty (nothing clipped)
     */
    @JsonCreator
    public VariableClipping(@JsonProperty("updater") IUpdater updater, @JsonProperty("rules") List<Rule> rules) {
        super(updater);
        this.rules = List.copyOf(Check.notNull("rules", rules));
        if (updater instanceof WrappingUpdater) {
            throw Check.outOfRange("updater", updater, "must be a plain updater (Adam, Sgd, ...), not a clipping "
                    + "updater: give every strategy as a rule, or chain them with Clip.chain(...)");
        }
    }

    /** An empty rule list to add to. */
    public static Builder rules() {
        return new Builder();
    }

    /** The strategy of the first rule matching {@code variable}, or {@code null}: not clipped. */
    @Override
    public ClipStrategy strategyFor(String variable) {
        for (Rule r : rules) {
            if (r.matches(variable)) {
                return r.strategy;
            }
        }
        return null;
    }

    /** One variable's strategy slot: large enough for the rule state and parameter state of any rule. */
    @Override
    int slotSize() {
        int size = 0;
        for (Rule r : rules) {
            if (r.strategy != null) {
                size = Math.max(size, r.strategy.stateSize() + r.strategy.parameterStateSize());
            }
        }
        return size;
    }

    @Override
    public VariableClipping clone() {
        return new VariableClipping(getUpdater().clone(), rules);
    }

    @Override
    public String toString() {
        return "VariableClipping(" + rules + " then " + getUpdater() + ")";
    }

    /** One rule: a regular expression over the whole variable name, and a strategy ({@code null}: not clipped). */
    @Getter
    @EqualsAndHashCode
    @JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY,
            getterVisibility = JsonAutoDetect.Visibility.NONE,
            isGetterVisibility = JsonAutoDetect.Visibility.NONE,
            setterVisibility = JsonAutoDetect.Visibility.NONE)
    public static final class Rule implements java.io.Serializable {

        private static final long serialVersionUID = 1L;

        private final String pattern;
        private final ClipStrategy strategy;
        @EqualsAndHashCode.Exclude
        private transient Pattern compiled;

        /** A rule; the pattern must be a valid regular expression. */
        @JsonCreator
        public Rule(@JsonProperty("pattern") String pattern, @JsonProperty("strategy") ClipStrategy strategy) {
            this.pattern = Check.notNull("pattern", pattern);
            this.strategy = strategy;
            this.compiled = compile(pattern);
        }

        private static Pattern compile(String pattern) {
            try {
                return Pattern.compile(pattern);
            } catch (PatternSyntaxException e) {
                throw Check.outOfRange("pattern", pattern, "must be a regular expression (java.util.regex): "
                        + e.getDescription() + " at index " + e.getIndex());
            }
        }

        boolean matches(String variable) {
            if (compiled == null) {
                compiled = compile(pattern); // after Java deserialisation
            }
            return compiled.matcher(variable).matches();
        }

        @Override
        public String toString() {
            return pattern + " -> " + (strategy == null ? "not clipped" : strategy);
        }
    }

    /** Collects rules in order; {@link #around(IUpdater)} builds the configuration. */
    public static final class Builder {
        private final List<Rule> rules = new ArrayList<>();

        private Builder() {
        }

        /** The variable named exactly {@code variable}. */
        public Builder name(String variable, ClipStrategy strategy) {
            return add(Pattern.quote(Check.notNull("variable", variable)), Check.notNull("strategy", strategy));
        }

        /** Variables whose whole name matches the regular expression {@code regex}. */
        public Builder pattern(String regex, ClipStrategy strategy) {
            return add(regex, Check.notNull("strategy", strategy));
        }

        /** Variables whose whole name matches {@code regex} are not clipped (later rules do not apply to them). */
        public Builder unclipped(String regex) {
            return add(regex, null);
        }

        /** Every variable that no earlier rule matched. */
        public Builder otherwise(ClipStrategy strategy) {
            return add(".*", Check.notNull("strategy", strategy));
        }

        private Builder add(String regex, ClipStrategy strategy) {
            rules.add(new Rule(regex, strategy));
            return this;
        }

        /** The configuration: these rules, then {@code updater}. */
        public VariableClipping around(IUpdater updater) {
            return new VariableClipping(updater, rules);
        }
    }

    static String layerOf(String variable) {
        int slash = variable.lastIndexOf('/');
        return slash > 0 ? variable.substring(0, slash) : variable;
    }

    static String paramOf(String variable) {
        int slash = variable.lastIndexOf('/');
        return slash > 0 ? variable.substring(slash + 1) : variable;
    }
}
