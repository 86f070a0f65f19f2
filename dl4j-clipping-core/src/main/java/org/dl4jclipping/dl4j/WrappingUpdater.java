package org.dl4jclipping.dl4j;

import java.util.Map;
import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;

/**
 * What the clipping updater configurations ({@link ClippingUpdater}, {@link VariableClipping}) share: the wrapped
 * DL4J updater, to which learning rate and schedule calls go, and the state layout {@code [wrapped updater's state |
 * strategy slot]} of each block or variable, with {@link ClippingGradientUpdater} as the per-block updater.
 */
@Getter
@EqualsAndHashCode
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY,
        getterVisibility = JsonAutoDetect.Visibility.NONE,
        isGetterVisibility = JsonAutoDetect.Visibility.NONE,
        setterVisibility = JsonAutoDetect.Visibility.NONE)
abstract class WrappingUpdater implements IUpdater {

    private static final long serialVersionUID = 1L;

    /** The wrapped updater (Sgd, Adam, ...). */
    private final IUpdater updater;

    WrappingUpdater(IUpdater updater) {
        this.updater = Check.notNull("updater", updater);
    }

    /** One parameter's strategy slot, in elements (0: the strategy keeps no state). */
    abstract int slotSize();

    /** The strategy that clips the SameDiff variable {@code variable}, or {@code null}: not clipped. */
    abstract ClipStrategy strategyFor(String variable);

    /** The wrapped updater's state, then one strategy slot (see {@link ClippingGradientUpdater}). */
    @Override
    public long stateSize(long numParams) {
        return updater.stateSize(numParams) + slotSize();
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        if (slotSize() == 0) {
            return new ClippingGradientUpdater(this, updater.instantiate(viewArray, initializeViewArray));
        }
        return new ClippingGradientUpdater(this, viewArray, initializeViewArray);
    }

    /** From the map form of the state (SameDiff's saved models): the strategy slot under its own key. */
    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        if (slotSize() == 0) {
            return new ClippingGradientUpdater(this, updater.instantiate(updaterState, initializeStateArrays));
        }
        return new ClippingGradientUpdater(this, updaterState, initializeStateArrays);
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return updater.getLearningRate(iteration, epoch);
    }

    @Override
    public boolean hasLearningRate() {
        return updater.hasLearningRate();
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        updater.setLrAndSchedule(lr, lrSchedule);
    }

    @Override
    public abstract WrappingUpdater clone();
}
