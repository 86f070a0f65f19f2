package org.dl4jclipping.dl4j;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * A DL4J updater configuration that clips gradients before the updater it wraps: the one line that turns
 * clipping on in a {@code NeuralNetConfiguration.Builder}, for the whole network or for one layer.
 *
 * <pre>{@code
 * MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
 *     .updater(new ClippingUpdater(new Adam(1e-3), Clip.globalNorm(1.0)))
 *     .list() ... .build();
 * MultiLayerNetwork net = new MultiLayerNetwork(conf);
 * net.init();
 * net.addListeners(new ClippingListener());   // required: runs the clipping at the right point of the step
 * }</pre>
 *
 * <p>Why two pieces: the configuration is where DL4J keeps what must survive JSON, {@code ModelSerializer},
 * {@code clone()} and ParallelWrapper workers, so the strategy lives here; but DL4J hands an updater only its
 * updater block (a slice of the network with no names, no batch size, and already regularised), so the clipping
 * itself runs in {@link ClippingListener}, which sees the whole network at the point {@code semantics.md} defines
 * (the mean gradient, before regularization and the updater). If the listener is missing, the first {@code fit}
 * fails with a message that says to add it: a block norm never silently stands in for a global norm.
 *
 * <p>Layer-wise clipping: set a {@code ClippingUpdater} with a different strategy on a layer's own builder
 * ({@code new LSTM.Builder().updater(new ClippingUpdater(new Adam(1e-3), Clip.layerNorm(0.5)))}). Parameters
 * whose updaters carry equal strategies are clipped together (one rule: GLOBAL is global over them); parameters
 * with a plain updater are not clipped; parameters that are not trained ({@code NoOp}: BatchNormalization running
 * statistics, frozen layers) never take part.
 *
 * <p>Value-based {@code equals}/{@code hashCode} (DL4J merges updater blocks by equality), JSON-serialisable with
 * ND4J's shaded Jackson, Java-serialisable. Learning rate and schedule calls go to the wrapped updater; the
 * state is the wrapped updater's followed by the strategy's (adaptive strategies' history and statistics, so
 * that checkpoints keep them; fixed strategies keep none).
 */
@Getter
@EqualsAndHashCode(callSuper = true)
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY,
        getterVisibility = JsonAutoDetect.Visibility.NONE,
        isGetterVisibility = JsonAutoDetect.Visibility.NONE,
        setterVisibility = JsonAutoDetect.Visibility.NONE)
public final class ClippingUpdater extends WrappingUpdater {

    private static final long serialVersionUID = 1L;

    private final ClipStrategy strategy;

    /**
     * Clips with {@code strategy}, then updates with {@code updater}.
     *
     * @param updater  the DL4J updater to wrap (Sgd, Adam, AdamW, Nesterovs, RmsProp, AdaMax, ...), not a
     *                 ClippingUpdater
     * @param strategy the clipping strategy or chain
     */
    @JsonCreator
    public ClippingUpdater(@JsonProperty("updater") IUpdater updater,
                           @JsonProperty("strategy") ClipStrategy strategy) {
        super(updater);
        this.strategy = Check.notNull("strategy", strategy);
        if (updater instanceof WrappingUpdater) {
            throw Check.outOfRange("updater", updater, "must not itself be a clipping updater: chain the strategies "
                    + "with Clip.chain(...) instead");
        }
    }

    /**
     * One parameter's strategy slot ({@link ClipStrategy#stateSize()} plus {@link ClipStrategy#parameterStateSize()},
     * 0 for fixed strategies) after the wrapped updater's state: adaptive state lives in the network's updater
     * state, which {@code ModelSerializer} saves.
     *
     * <p>DL4J asks {@code stateSize} once per parameter of an updater block and sums the answers, so a block of
     * {@code V} parameters holds {@code V} strategy slots after the wrapped updater's state, slot {@code k} for the
     * block's {@code k}-th parameter: its per-parameter state (AdaGC's gamma) is the slot's second part; the rule's
     * state is the first part of the last slot of the rule's first block (see {@link ClippingGradientUpdater}).
     */
    @Override
    int slotSize() {
        return strategy.stateSize() + strategy.parameterStateSize();
    }

    /** Every variable: this strategy. */
    @Override
    ClipStrategy strategyFor(String variable) {
        return strategy;
    }

    @Override
    public ClippingUpdater clone() {
        return new ClippingUpdater(getUpdater().clone(), strategy);
    }

    @Override
    public String toString() {
        return "ClippingUpdater(" + strategy + " then " + getUpdater() + ")";
    }
}
