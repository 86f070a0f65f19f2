package org.dl4jclipping.strategy;

import java.io.Serializable;
import org.dl4jclipping.engine.ClipStep;
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
 * <p>Compose them with {@link ClipChain}; create them with {@link org.dl4jclipping.Clip}.
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
     * Whether this strategy (or one inside it) decides what happens to NaN and +-Inf gradients. When none does,
     * the engine fails a step whose gradient is not finite.
     */
    default boolean handlesNonFinite() {
        return false;
    }
}
