package org.dl4jclipping.dl4j;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;

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
final class ClippingGradientUpdater implements GradientUpdater<ClippingUpdater> {

    static final String MISSING_LISTENER = "This network's updater is a ClippingUpdater, but no ClippingListener "
            + "clipped this step's gradient. Add one after init() and after restoring or cloning the network: "
            + "net.addListeners(new ClippingListener()) (for a ComputationGraph clone: clone.setListeners(...)). "
            + "(Clipping runs in the listener because a DL4J updater sees only one updater block, never the "
            + "whole network.)";

    private final ClippingUpdater config;
    private GradientUpdater<?> inner;
    private INDArray view;
    private boolean stateful;
    private boolean armed;
    private boolean skip;
    private long armedFor = Long.MIN_VALUE;

    /** For a stateless strategy: the wrapped updater is bound at once. */
    ClippingGradientUpdater(ClippingUpdater config, GradientUpdater<?> inner) {
        this.config = config;
        this.inner = inner;
    }

    /** For a stateful strategy: the view holds the wrapped updater's state and the strategy slots. */
    ClippingGradientUpdater(ClippingUpdater config, INDArray viewArray, boolean initialize) {
        this.config = config;
        setView(viewArray, initialize);
    }

    private void setView(INDArray viewArray, boolean initialize) {
        this.stateful = true;
        this.view = viewArray.reshape(viewArray.length());
        this.inner = null;
        if (initialize) {
            view.assign(0);
        }
    }

    private void bind(long numParams) {
        long innerSize = config.getUpdater().stateSize(numParams);
        INDArray innerView = innerSize == 0 ? null
                : view.get(NDArrayIndex.interval(0, innerSize)).reshape(1, innerSize);
        boolean fresh = innerView != null && innerView.amaxNumber().doubleValue() == 0.0;
        inner = config.getUpdater().instantiate(innerView, fresh);
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
        int size = config.slotSize();
        long end = view.length() - (long) (slots - 1 - k) * size;
        return view.get(NDArrayIndex.interval(end - size, end));
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
    public ClippingUpdater getConfig() {
        return config;
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        bound().setState(stateMap, initialize);
    }

    @Override
    public Map<String, INDArray> getState() {
        return bound().getState();
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
}
