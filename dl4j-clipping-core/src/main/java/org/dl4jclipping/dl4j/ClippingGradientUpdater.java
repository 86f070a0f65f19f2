package org.dl4jclipping.dl4j;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The per-block updater of a {@link ClippingUpdater}: checks that {@link ClippingListener} clipped this step,
 * honours a skipped step, and otherwise hands the (already clipped) block gradient to the wrapped updater.
 *
 * <p>On a skipped step the wrapped updater is not called, so its state (Adam's moments, ...) stays bit-identical,
 * and the block's update is zero. State calls go to the wrapped updater.
 *
 * <p>Updater state layout of a block with a stateful strategy: DL4J sums {@code stateSize} over the block's
 * {@code V} parameters, giving {@code [wrapped updater's state for the n block parameters | V strategy slots]}, each
 * slot {@code [rule state | parameter state]}. The wrapped updater's part can only be cut once {@code n} is known
 * (the first {@code applyUpdater}); the slots are the last {@code V * slotSize} elements, which the listener, who
 * knows {@code V}, reads at once. On a fresh network ({@code initialize}) the whole view is zeroed; the wrapped
 * updater is bound to its part at the first update, initialising it its own way (zeros, or epsilon for RmsProp and
 * AdaGrad) only if that part is still all zeros, so that a state DL4J copies in on restore, between construction
 * and the first step, is kept (those updaters' states are never all zeros once used).
 */
final class ClippingGradientUpdater implements GradientUpdater<WrappingUpdater> {

    static final String MISSING_LISTENER = "This network's updater is a ClippingUpdater, but no ClippingListener "
            + "clipped this step's gradient. Add one after init() and after restoring or cloning the network: "
            + "net.addListeners(new ClippingListener()) (for a ComputationGraph clone: clone.setListeners(...)); "
            + "for a SameDiff: sd.addListeners(new SameDiffClipping()) after setTrainingConfig or load. "
            + "(Clipping runs in the listener because an updater sees only one block or variable, never the "
            + "whole network.)";

    /** Key of the strategy slot in the map form of the state ({@link #getState()}: SameDiff's saved models). */
    static final String SLOT_KEY = "clipping";

    private final WrappingUpdater config;
    private final IUpdater wrapped;     // config.getUpdater()
    private final int slotSize;         // config.slotSize()
    private GradientUpdater<?> inner;
    private INDArray view;
    private INDArray slots;
    private boolean stateful;
    private boolean armed;
    private boolean skip;
    private long armedFor = Long.MIN_VALUE;

    /** For a stateless strategy: the wrapped updater is bound at once. */
    ClippingGradientUpdater(WrappingUpdater config, GradientUpdater<?> inner) {
        this.config = config;
        this.wrapped = config.getUpdater();
        this.slotSize = 0;
        this.inner = inner;
    }

    /** For a stateful strategy: the view holds the wrapped updater's state and the strategy slots. */
    ClippingGradientUpdater(WrappingUpdater config, INDArray viewArray, boolean initialize) {
        this.config = config;
        this.wrapped = config.getUpdater();
        this.slotSize = config.slotSize();
        setView(viewArray, initialize);
    }

    /**
     * For a stateful strategy restored from the map form of the state (a SameDiff model saved with its updater
     * state): the wrapped updater from its own entries, the one strategy slot from {@link #SLOT_KEY}.
     */
    ClippingGradientUpdater(WrappingUpdater config, Map<String, INDArray> state, boolean initialize) {
        this.config = config;
        this.wrapped = config.getUpdater();
        this.slotSize = config.slotSize();
        this.stateful = true;
        INDArray slot = state.get(SLOT_KEY);
        if (slot == null || slot.length() != slotSize) {
            throw new IllegalStateException("The saved updater state has no clipping state '" + SLOT_KEY + "' of "
                    + slotSize + " elements (found " + (slot == null ? "none" : slot.length() + " elements")
                    + ") for " + config + ": it was saved without it, or with another strategy. Restore it with "
                    + "the configuration it was saved with.");
        }
        this.slots = slot.reshape(slotSize);
        if (initialize) {
            slots.assign(0);
        }
        Map<String, INDArray> own = new java.util.HashMap<>(state);
        own.remove(SLOT_KEY);
        this.inner = wrapped.instantiate(own, initialize);
    }

    private void setView(INDArray viewArray, boolean initialize) {
        this.stateful = true;
        this.view = viewArray.reshape(viewArray.length());
        this.slots = null;
        this.inner = null;
        if (initialize) {
            view.assign(0);
        }
    }

    private void bind(long numParams) {
        long innerSize = wrapped.stateSize(numParams);
        INDArray innerView = innerSize == 0 ? null
                : view.get(NDArrayIndex.interval(0, innerSize)).reshape(1, innerSize);
        boolean fresh = innerView != null && innerView.amaxNumber().doubleValue() == 0.0;
        inner = wrapped.instantiate(innerView, fresh);
    }

    /** Whether the strategy keeps state (then the block's view holds strategy slots). */
    boolean stateful() {
        return stateful;
    }

    /**
     * Slot {@code k} of the {@code slots} strategy slots at the end of the block's view ({@code slotSize}
     * elements: the rule's state, then parameter {@code k}'s state).
     */
    INDArray slot(int k, int slots) {
        if (this.slots != null) {
            return this.slots; // restored from the map form: one variable, one slot
        }
        long end = view.length() - (long) (slots - 1 - k) * slotSize;
        return view.get(NDArrayIndex.interval(end - slotSize, end));
    }

    /**
     * Called by the listener once the step's gradient is clipped: the update of {@code iteration} may run (an arm
     * left over from a step that failed before its update does not count for a later iteration).
     */
    void arm(long iteration, boolean skipStep) {
        this.armed = true;
        this.armedFor = iteration;
        this.skip = skipStep;
    }

    @Override
    public WrappingUpdater getConfig() {
        return config;
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        bound().setState(stateMap, initialize);
    }

    /** The wrapped updater's state, and for a stateful strategy its slot under {@link #SLOT_KEY}. */
    @Override
    public Map<String, INDArray> getState() {
        Map<String, INDArray> state = bound().getState();
        if (!stateful) {
            return state;
        }
        Map<String, INDArray> withSlot = new java.util.LinkedHashMap<>(state == null ? Map.of() : state);
        withSlot.put(SLOT_KEY, slot(0, 1));
        return withSlot;
    }

    private GradientUpdater<?> bound() {
        if (inner == null) {
            throw new IllegalStateException("the wrapped updater's state is laid out at the first update");
        }
        return inner;
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        if (!stateful) {
            inner.setStateViewArray(viewArray, gradientShape, gradientOrder, initialize);
            return;
        }
        setView(viewArray, initialize);
        long n = 1;
        for (long d : gradientShape) {
            n *= d;
        }
        bind(n);
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (!armed || armedFor != iteration) {
            SameDiffClipping step = SameDiffClipping.inStep();
            if (step != null) {
                step.defer(this, gradient); // SameDiff: updated once the whole step's gradient is known
                return;
            }
            throw new IllegalStateException(MISSING_LISTENER);
        }
        armed = false;
        if (skip) {
            gradient.assign(0);
            return;
        }
        if (inner == null) {
            bind(gradient.length());
        }
        inner.applyUpdater(gradient, iteration, epoch);
    }

    /** Runs the wrapped updater on an already clipped gradient, in place (SameDiff's deferred step). */
    void applyClipped(INDArray gradient, int iteration, int epoch) {
        if (inner == null) {
            bind(gradient.length());
        }
        inner.applyUpdater(gradient, iteration, epoch);
    }
}
