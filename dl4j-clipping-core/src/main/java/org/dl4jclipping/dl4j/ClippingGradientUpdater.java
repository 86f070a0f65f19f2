package org.dl4jclipping.dl4j;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;

/**
 * The per-block updater of a {@link ClippingUpdater}: checks that {@link ClippingListener} clipped this step,
 * honours a skipped step, and otherwise hands the (already clipped) block gradient to the wrapped updater.
 *
 * <p>On a skipped step the wrapped updater is not called, so its state (Adam's moments, ...) stays bit-identical,
 * and the block's update is zero. State calls go to the wrapped updater.
 */
final class ClippingGradientUpdater implements GradientUpdater<ClippingUpdater> {

    static final String MISSING_LISTENER = "This network's updater is a ClippingUpdater, but no ClippingListener "
            + "clipped this step's gradient. Add one after init() and after restoring or cloning the network: "
            + "net.addListeners(new ClippingListener()). (Clipping runs in the listener because a DL4J updater "
            + "sees only one updater block, never the whole network.)";

    private final ClippingUpdater config;
    private final GradientUpdater<?> inner;
    private boolean armed;
    private boolean skip;

    ClippingGradientUpdater(ClippingUpdater config, GradientUpdater<?> inner) {
        this.config = config;
        this.inner = inner;
    }

    /** Called by the listener once the step's gradient is clipped. */
    void arm(boolean skipStep) {
        this.armed = true;
        this.skip = skipStep;
    }

    @Override
    public ClippingUpdater getConfig() {
        return config;
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        inner.setState(stateMap, initialize);
    }

    @Override
    public Map<String, INDArray> getState() {
        return inner.getState();
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        inner.setStateViewArray(viewArray, gradientShape, gradientOrder, initialize);
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (!armed) {
            throw new IllegalStateException(MISSING_LISTENER);
        }
        armed = false;
        if (skip) {
            gradient.assign(0);
            return;
        }
        inner.applyUpdater(gradient, iteration, epoch);
    }

    /** The wrapped updater's instance (for tests and diagnostics). */
    GradientUpdater<?> inner() {
        return inner;
    }
}
