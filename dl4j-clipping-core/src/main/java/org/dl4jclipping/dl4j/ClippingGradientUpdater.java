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
 * {@code V} parameters, giving {@code [wrapped updater's state for the n block parameters | V strategy slots]}.
 * The wrapped updater's part can only be cut once {@code n} is known (the first {@code applyUpdater}); the
 * strategy's state is the last slot, known at once. On a fresh network ({@code initialize}) the wrapped updater
 * first initialises the whole view its own way (zeros, or epsilon for RmsProp), then the strategy slot is
 * zeroed; the wrapped updater is bound to its part later without initialising again, so a state that DL4J copies
 * in on restore, between construction and the first step, is kept.
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
    private INDArray strategyState;
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
        int own = config.getStrategy().stateSize();
        this.view = viewArray.reshape(viewArray.length());
        long total = view.length();
        this.strategyState = view.get(NDArrayIndex.interval(total - own, total));
        this.inner = null;
        if (initialize) {
            if (total > own && config.getUpdater().stateSize(1) > 0) {
                config.getUpdater().instantiate(viewArray, true); // writes the wrapped updater's initial values
            }
            strategyState.assign(0);
        }
    }

    private void bind(long numParams) {
        long innerSize = config.getUpdater().stateSize(numParams);
        INDArray innerView = innerSize == 0 ? null
                : view.get(NDArrayIndex.interval(0, innerSize)).reshape(1, innerSize);
        inner = config.getUpdater().instantiate(innerView, false);
    }

    /** The strategy's state slot, or null when the strategy keeps none. */
    INDArray strategyState() {
        return strategyState;
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
        if (strategyState == null) {
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
