package org.dl4jclipping.strategy;

import java.util.List;
import java.util.stream.Collectors;
import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStep;
import org.dl4jclipping.engine.ClipStrategy;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Strategies applied in the order given, each on the output of the one before (Optax's {@code chain}).
 *
 * <p>A skipped step ends the chain. A chain handles non-finite gradients as its first non-finite policy says;
 * put that policy first: the engine decides a skip from the gradient as it arrives, before any member runs.
 * Typical:
 * {@code Clip.chain(Clip.skipNonFinite(), Clip.value(5.0), Clip.globalNorm(1.0))}.
 *
 * <p>Parameters: one or more strategies, none null. The report of a chained step shows the norms before the
 * first and after the last member. A chain is stateless itself; its stateful members (AutoClip, ZClip) keep their
 * own state, laid out one after the other in the chain's order ({@link #stateSize()} is their sum).
 */
@Getter
@EqualsAndHashCode
public final class ClipChain implements ClipStrategy {

    private static final long serialVersionUID = 1L;

    private final List<ClipStrategy> strategies;

    /** A chain of {@code strategies}, applied in order. */
    @JsonCreator
    public ClipChain(@JsonProperty("strategies") List<ClipStrategy> strategies) {
        Check.notNull("strategies", strategies);
        if (strategies.isEmpty()) {
            throw Check.outOfRange("strategies", strategies, "must hold at least one strategy");
        }
        for (int i = 0; i < strategies.size(); i++) {
            Check.notNull("strategies[" + i + "]", strategies.get(i));
        }
        this.strategies = List.copyOf(strategies);
    }

    /** Java deserialisation goes through the constructor's validation too. */
    private Object readResolve() {
        return new ClipChain(strategies);
    }

    @Override
    public void apply(ClipStep step) {
        for (ClipStrategy s : strategies) {
            s.apply(step);
            if (step.skipped()) {
                return;
            }
        }
    }

    @Override
    public int stateSize() {
        return parts().stream().mapToInt(ClipStrategy::stateSize).sum();
    }

    @Override
    public int parameterStateSize() {
        return parts().stream().mapToInt(ClipStrategy::parameterStateSize).sum();
    }

    /** The members, nested chains flattened. */
    @Override
    public List<ClipStrategy> parts() {
        return strategies.stream().flatMap(s -> s.parts().stream()).toList();
    }

    @Override
    public String toString() {
        return strategies.stream().map(Object::toString).collect(Collectors.joining(" -> "));
    }
}
