package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;

import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.GradientLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Drives a global-norm strategy at the engine level: one float64 parameter gradient {@code [2, 3]}, set each step
 * to a fixed direction times that step's norm, one {@link GradientLayout} and one {@link Clipper} reused over all
 * steps (so the strategy's state persists in its rule, as in a network).
 */
final class GlobalNormDriver {

    /** A fixed direction, not axis-aligned, with mixed signs. */
    private static final double[] DIRECTION = {1.0, -2.0, 3.0, 0.5, -1.5, 2.5};

    final INDArray gradient = Nd4j.zeros(DataType.DOUBLE, 2, 3);
    final Clipper clipper;
    private long iteration;

    GlobalNormDriver(ClipStrategy strategy) {
        GradientLayout layout = GradientLayout.builder().add("0", "W", gradient, null).build();
        clipper = new Clipper(strategy, layout);
    }

    /**
     * As {@link #GlobalNormDriver(ClipStrategy)}, with the strategy's state in an array of {@code stateType}, as a
     * network of that type keeps it in its updater state (FLOAT: DL4J's default).
     */
    GlobalNormDriver(ClipStrategy strategy, DataType stateType) {
        this(strategy);
        state = Nd4j.zeros(stateType, strategy.stateSize());
        clipper.rules().get(0).attachState(state);
    }

    /** The state array given to the rule by the two-argument constructor. */
    INDArray state;

    /**
     * Sets the gradient to the direction scaled to {@code norm}.
     *
     * @return the norm of the array as set, by the reference's plain sum of squares (what the reference sees)
     */
    double set(double norm) {
        double d = AdaptiveReference.norm(DIRECTION);
        double[] v = new double[DIRECTION.length];
        for (int k = 0; k < v.length; k++) {
            v[k] = DIRECTION[k] / d * norm;
        }
        gradient.assign(Nd4j.createFromArray(v).reshape(2, 3));
        return AdaptiveReference.norm(gradient.dup('c').data().asDouble());
    }

    /** One clipping step on a gradient of {@code norm}; returns an independent copy of the report. */
    ClipReport step(double norm) {
        set(norm);
        return clipper.clip(iteration++).copy();
    }

    /** One step with a NaN element in the gradient (the clipper decides what happens). */
    ClipReport stepWithNaN() {
        set(1.0);
        gradient.putScalar(0, 1, Double.NaN);
        return clipper.clip(iteration++).copy();
    }

    /** The same step as {@link #stepWithNaN()} but the clipper must throw; the iteration still advances. */
    void nanStepThrows(Class<? extends Throwable> type) {
        set(1.0);
        gradient.putScalar(0, 1, Double.NaN);
        long it = iteration++;
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> clipper.clip(it)).isInstanceOf(type);
    }

    /**
     * Asserts that the engine's step matches the reference's: the scale applied ({@code report.minScale()}), the
     * norm after, and, when it clipped, the threshold implied by the scale ({@code s * (n + 1e-6)}), each to 1e-12
     * relative; an unclipped step has a scale of exactly 1.
     */
    static void assertMatches(ClipReport report, AdaptiveReference.Step ref, String what) {
        double n = report.totalNormBefore();
        assertClose(n, ref.norm(), what + ": norm before");
        if (!ref.clipped()) {
            assertThat(report.minScale()).as(what + ": unclipped step, scale exactly 1").isEqualTo(1.0);
            assertThat(report.normAfter(0)).as(what + ": unclipped norm after").isEqualTo(report.normBefore(0));
            return;
        }
        assertClose(report.minScale(), ref.scale(), what + ": scale");
        assertClose(report.minScale() * (n + AdaptiveReference.EPS), ref.threshold(), what + ": implied threshold");
        assertClose(report.normAfter(0), ref.scale() * ref.norm(), what + ": norm after");
    }

    static void assertClose(double actual, double expected, String what) {
        assertThat(Math.abs(actual - expected))
                .as("%s: actual %s, expected %s", what, actual, expected)
                .isLessThanOrEqualTo(1e-12 * Math.max(Math.abs(actual), Math.abs(expected)) + Double.MIN_NORMAL);
    }
}
