package org.dl4jclipping.keras.training;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;

/**
 * The state and step of {@link KerasMomentum}: one velocity {@code v} per parameter, a view of DL4J's updater
 * state; each step {@code v <- mu v - lr_t g} and the gradient becomes {@code -v} (DL4J then subtracts it).
 */
final class KerasMomentumUpdater implements GradientUpdater<KerasMomentum> {

    /** The state key of the velocity. */
    static final String V_STATE = "V";

    private final KerasMomentum config;
    private INDArray v;

    KerasMomentumUpdater(KerasMomentum config) {
        this.config = config;
    }

    @Override
    public KerasMomentum getConfig() {
        return config;
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        if (viewArray.length() != lengthOf(gradientShape)) {
            throw new IllegalArgumentException("KerasMomentum state view has " + viewArray.length() + " elements for a"
                    + " gradient of " + lengthOf(gradientShape) + ": expected one velocity per parameter");
        }
        if (initialize) {
            viewArray.assign(0);
        }
        this.v = viewArray.reshape(gradientOrder, gradientShape);
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        INDArray state = stateMap == null ? null : stateMap.get(V_STATE);
        if (state == null) {
            throw new IllegalStateException("KerasMomentum state map has no \"" + V_STATE + "\" array: found "
                    + (stateMap == null ? "null" : stateMap.keySet()));
        }
        if (initialize) {
            state.assign(0);
        }
        this.v = state;
    }

    @Override
    public Map<String, INDArray> getState() {
        return Map.of(V_STATE, v);
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (v == null) {
            throw new IllegalStateException("KerasMomentum updater used before its state was set");
        }
        double lr = config.getLearningRate(iteration, epoch);
        v.muli(config.getMomentum()).subi(gradient.mul(lr));
        gradient.assign(v).negi();
    }

    private static long lengthOf(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }
}
