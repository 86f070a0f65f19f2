package org.dl4jclipping.keras.training;

import java.util.Map;
import java.util.Objects;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonAutoDetect;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Keras's SGD with classical ("heavy ball") momentum, {@code SGD(momentum=mu, nesterov=False)}, which DL4J
 * 1.0.0-M2.1 has no updater for (its momentum updater is {@code Nesterovs}):
 * <pre>
 *   v &lt;- mu * v - lr_t * g          (v starts at 0; lr_t the learning rate of this iteration)
 *   p &lt;- p + v
 * </pre>
 * the update of standalone Keras ({@code SGD.get_updates}), tf.keras ({@code ResourceApplyKerasMomentum} with
 * {@code use_nesterov=false}) and Keras 3 ({@code SGD.update_step}). The learning rate sits inside the velocity, as
 * in Keras, so a schedule (Keras's {@code decay}) changes only the new term. DL4J subtracts an updater's output
 * from the parameters: the output is {@code -v}.
 *
 * <p>Parameters: {@code learningRate} finite and {@code >= 0}, or a {@code learningRateSchedule} (which wins, as in
 * DL4J's own updaters); {@code momentum} in [0, 1). State: one velocity per parameter. Like DL4J's updater
 * configurations, the learning rate and schedule change through {@link #setLrAndSchedule} (DL4J's
 * {@code setLearningRate}); the momentum is fixed. Value-based {@code equals}, JSON through ND4J's shaded Jackson,
 * Java-serialisable. Checked against a double reference of Keras's formula in {@code UpdaterFormulaTest}.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY,
        getterVisibility = JsonAutoDetect.Visibility.NONE,
        isGetterVisibility = JsonAutoDetect.Visibility.NONE,
        setterVisibility = JsonAutoDetect.Visibility.NONE)
public final class KerasMomentum implements IUpdater {

    private static final long serialVersionUID = 1L;

    private double learningRate;
    private ISchedule learningRateSchedule;
    private final double momentum;

    /**
     * @param learningRate         the learning rate when {@code learningRateSchedule} is null
     * @param learningRateSchedule the learning rate per iteration, or null
     * @param momentum             {@code mu}, in [0, 1)
     */
    @JsonCreator
    public KerasMomentum(@JsonProperty("learningRate") double learningRate,
                         @JsonProperty("learningRateSchedule") ISchedule learningRateSchedule,
                         @JsonProperty("momentum") double momentum) {
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw Check.outOfRange("learningRate", learningRate, "must be finite and >= 0");
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw Check.outOfRange("momentum", momentum, "must be in [0, 1)");
        }
        this.learningRate = learningRate;
        this.learningRateSchedule = learningRateSchedule;
        this.momentum = momentum;
    }

    /** The momentum {@code mu}. */
    public double getMomentum() {
        return momentum;
    }

    /** The learning-rate schedule, or null for the constant {@link #getLearningRate(int, int)}. */
    public ISchedule getLearningRateSchedule() {
        return learningRateSchedule;
    }

    @Override
    public long stateSize(long numParams) {
        return numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        KerasMomentumUpdater u = new KerasMomentumUpdater(this);
        u.setStateViewArray(viewArray, viewArray.shape(), viewArray.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        KerasMomentumUpdater u = new KerasMomentumUpdater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public KerasMomentum clone() {
        return new KerasMomentum(learningRate, learningRateSchedule == null ? null : learningRateSchedule.clone(),
                momentum);
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule != null ? learningRateSchedule.valueAt(iteration, epoch) : learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        this.learningRate = lr;
        this.learningRateSchedule = lrSchedule;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KerasMomentum k && Double.compare(k.learningRate, learningRate) == 0
                && Double.compare(k.momentum, momentum) == 0
                && Objects.equals(k.learningRateSchedule, learningRateSchedule);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, learningRateSchedule, momentum);
    }

    @Override
    public String toString() {
        return "KerasMomentum(lr=" + (learningRateSchedule != null ? learningRateSchedule : learningRate)
                + ", momentum=" + momentum + ")";
    }
}
