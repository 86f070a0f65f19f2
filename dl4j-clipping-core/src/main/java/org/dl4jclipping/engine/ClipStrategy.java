package org.dl4jclipping.engine;

import java.io.Serializable;
import java.util.List;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.shade.jackson.annotation.JsonTypeInfo;

/**
 * One gradient-clipping transform: reads the step's gradients and changes them in place.
 *
 * <p>Implementations are immutable values: hyperparameters fixed and validated at construction, value-based
 * {@code equals}/{@code hashCode} (DL4J merges updater blocks by equality), Java-serialisable (Spark ships
 * configurations) and JSON-serialisable with ND4J's shaded Jackson (they travel inside DL4J configurations,
 * typed by class name as DL4J types its own, so a user's own strategy round-trips too).
 *
 * <p>The engine owns this interface and calls it; the strategies themselves live in {@code org.dl4jclipping.strategy}
 * (compose them with {@code ClipChain}, create them with {@code org.dl4jclipping.Clip}).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.CLASS, include = JsonTypeInfo.As.PROPERTY, property = "@class")
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY,
        getterVisibility = JsonAutoDetect.Visibility.NONE,
        isGetterVisibility = JsonAutoDetect.Visibility.NONE,
        setterVisibility = JsonAutoDetect.Visibility.NONE)
public interface ClipStrategy extends Serializable {

    /** Applies the transform to the step's gradients, in place. */
    void apply(ClipStep step);

    /**
     * Number of state elements this strategy keeps between steps (0 for the fixed strategies). The engine gives
     * the strategy a view of that length through {@link ClipStep#state(ClipStrategy)}; all zeros is the fresh
     * state. In a DL4J network the state lives in the updater state, so {@code ModelSerializer} saves it.
     */
    default int stateSize() {
        return 0;
    }

    /**
     * Number of state elements this strategy keeps per parameter tensor of its rule (0 for all but per-tensor
     * adaptive strategies such as AdaGC). The engine gives each member parameter its own view of that length
     * through {@link ClipStep#parameterState(ClipStrategy, int)}; all zeros is the fresh state. In a DL4J network
     * it lives in the updater state beside the parameter's updater state, so {@code ModelSerializer} saves it.
     */
    default int parameterStateSize() {
        return 0;
    }

    /**
     * The strategies this one applies, in order, chains flattened: {@code [this]} for a single strategy, a
     * chain's members for a chain. The engine lays out stateful strategies' state by this list.
     */
    default List<ClipStrategy> parts() {
        return List.of(this);
    }

    /**
     * The non-finite handling this strategy applies: the first non-finite policy in {@link #parts()}, or
     * {@code null} when it has none (the engine then fails a step whose gradient is not finite). The engine also
     * applies it, before any strategy runs, to the parameters that no rule covers, and it decides a skipped step
     * from the gradient as it arrives (see {@link Clipper}).
     */
    default NonFiniteHandling nonFiniteHandling() {
        for (ClipStrategy s : parts()) {
            if (s != this) {
                NonFiniteHandling h = s.nonFiniteHandling();
                if (h != null) {
                    return h;
                }
            }
        }
        return null;
    }
}
