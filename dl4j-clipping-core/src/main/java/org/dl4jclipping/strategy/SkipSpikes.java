package org.dl4jclipping.strategy;

import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStep;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.StateDoubles;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Skips a step whose training loss or global gradient norm is a spike: above {@code mean + sigmaFactor * std} of
 * the last {@code window} values.
 *
 * <p>Each step, with {@code L} the step's loss (the network's score) and {@code G} the global L2 norm of the rule's
 * gradient as this strategy receives it (put it before any clipping in a chain, after a non-finite policy):
 * <ul>
 *   <li>While fewer than {@code window / 2} values are kept, the step is taken.</li>
 *   <li>Otherwise the step is skipped when {@code L > mean_L + sigmaFactor * std_L} ({@code byLoss}) or
 *       {@code G > mean_G + sigmaFactor * std_G} ({@code byNorm}), with the mean and the population standard
 *       deviation of the kept values, the current one not among them.</li>
 *   <li>A taken step's {@code L} and {@code G} enter their windows (finite values only).</li>
 * </ul>
 * A skipped step is skipped as a non-finite one is, by the same mechanism: in a DL4J network every parameter and
 * the whole updater state stay bit-identical, the report says {@link org.dl4jclipping.engine.ClipReport#skippedBySpike()},
 * and after {@code maxConsecutiveSkips} skipped steps in a row the next skip fails with
 * {@link org.dl4jclipping.engine.SkipLimitExceededException} (a lasting change of level is not a spike, and skipping
 * it forever would hide a broken run).
 *
 * <p>Whether a skipped value enters the window differs between the references; we follow Levanter's
 * {@code SkipStepConfig}, where a skipped step changes no state at all: a skipped loss or norm does <b>not</b> enter
 * the window (OLMo-core's {@code SkipStepOptimizer} records every step's values). Population standard deviation as
 * Levanter's {@code jnp.std}. A non-finite loss or norm is never a spike here (non-finite gradients are the
 * non-finite policy's) and never enters a window; a loss of NaN means "unknown" (the engine used without one).
 *
 * <p>Defaults: {@code window = 128}, {@code sigmaFactor = 6} (both references), by loss and by norm, at most
 * {@value NonFinitePolicy#DEFAULT_MAX_CONSECUTIVE_SKIPS} skips in a row. The report records
 * {@code mean_G + sigmaFactor * std_G} as each parameter's threshold once the window is long enough.
 *
 * <p>State ({@code 2 * (2 + 2 * window)} elements, {@link StateDoubles}): the number of losses and of norms kept,
 * then their two rings.
 *
 * <p>References: OLMo-core {@code src/olmo_core/optim/skip_step_optimizer.py}; Levanter {@code optim/skipstep.py}.
 */
@Getter
@EqualsAndHashCode
public final class SkipSpikes implements ClipStrategy {

    private static final long serialVersionUID = 1L;

    public static final int DEFAULT_WINDOW = 128;
    public static final double DEFAULT_SIGMA_FACTOR = 6.0;
    public static final int MAX_WINDOW = 100_000;

    private final int window;
    private final double sigmaFactor;
    private final boolean byLoss;
    private final boolean byNorm;
    private final int maxConsecutiveSkips;

    /** Spike skipping with every parameter given; see {@link #builder()} for the defaults. */
    @JsonCreator
    public SkipSpikes(@JsonProperty("window") int window, @JsonProperty("sigmaFactor") double sigmaFactor,
                      @JsonProperty("byLoss") boolean byLoss, @JsonProperty("byNorm") boolean byNorm,
                      @JsonProperty("maxConsecutiveSkips") int maxConsecutiveSkips) {
        this.window = (int) Check.inRange("window", window, 2, MAX_WINDOW);
        this.sigmaFactor = Check.positiveFinite("sigmaFactor", sigmaFactor);
        if (!byLoss && !byNorm) {
            throw Check.outOfRange("byLoss/byNorm", "false/false", "at least one must be true");
        }
        this.byLoss = byLoss;
        this.byNorm = byNorm;
        this.maxConsecutiveSkips = (int) Check.inRange("maxConsecutiveSkips", maxConsecutiveSkips, 1,
                Integer.MAX_VALUE);
    }

    private Object readResolve() {
        return new SkipSpikes(window, sigmaFactor, byLoss, byNorm, maxConsecutiveSkips);
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    private static final int LOSSES = 0;
    private static final int NORMS = 1;

    @Override
    public int stateSize() {
        return StateDoubles.size(2 + 2 * window);
    }

    @Override
    public void apply(ClipStep step) {
        int[] all = step.members();
        INDArray st = step.state(this);
        double loss = step.loss();
        double norm = step.groupNorm(all, 2.0);
        boolean spike = false;
        if (byLoss && Double.isFinite(loss)) {
            spike = loss > limit(st, LOSSES);
        }
        if (byNorm && Double.isFinite(norm)) {
            double limit = limit(st, NORMS);
            spike |= norm > limit;
            if (!Double.isNaN(limit)) {
                for (int i : all) {
                    step.recordThreshold(i, limit);
                }
            }
        }
        if (spike) {
            step.skip(maxConsecutiveSkips, true);
            return;
        }
        append(st, LOSSES, loss);
        append(st, NORMS, norm);
    }

    /** {@code mean + sigmaFactor * std} of ring {@code r}, or NaN (no limit) while it holds fewer than window / 2. */
    private double limit(INDArray st, int r) {
        int m = (int) Math.min((long) StateDoubles.get(st, r), window);
        if (m < window / 2 || m == 0) {
            return Double.NaN;
        }
        int base = 2 + r * window;
        double sum = 0;
        for (int k = 0; k < m; k++) {
            sum += StateDoubles.get(st, base + k);
        }
        double mean = sum / m;
        double sq = 0;
        for (int k = 0; k < m; k++) {
            double d = StateDoubles.get(st, base + k) - mean;
            sq += d * d;
        }
        return mean + sigmaFactor * Math.sqrt(sq / m);
    }

    private void append(INDArray st, int r, double value) {
        if (!Double.isFinite(value)) {
            return;
        }
        long count = (long) StateDoubles.get(st, r);
        StateDoubles.put(st, 2 + r * window + (int) (count % window), value);
        StateDoubles.put(st, r, count + 1);
    }

    @Override
    public String toString() {
        return "skip-spikes[window=" + window + ", sigma=" + sigmaFactor + (byLoss ? ", loss" : "")
                + (byNorm ? ", norm" : "") + ", max " + maxConsecutiveSkips + " in a row]";
    }

    /** Builder with the defaults; {@link #build()} validates. */
    public static final class Builder {
        private int window = DEFAULT_WINDOW;
        private double sigmaFactor = DEFAULT_SIGMA_FACTOR;
        private boolean byLoss = true;
        private boolean byNorm = true;
        private int maxConsecutiveSkips = NonFinitePolicy.DEFAULT_MAX_CONSECUTIVE_SKIPS;

        private Builder() {
        }

        /** Values kept per signal, in [2, 100000], default 128; no skip until window / 2 are kept. */
        public Builder window(int v) {
            window = v;
            return this;
        }

        /** Standard deviations above the mean that make a spike, > 0, default 6. */
        public Builder sigmaFactor(double v) {
            sigmaFactor = v;
            return this;
        }

        /** Watch the loss, default true. */
        public Builder byLoss(boolean v) {
            byLoss = v;
            return this;
        }

        /** Watch the global gradient norm, default true. */
        public Builder byNorm(boolean v) {
            byNorm = v;
            return this;
        }

        /** Skips allowed in a row before the next one fails, >= 1, default 10. */
        public Builder maxConsecutiveSkips(int v) {
            maxConsecutiveSkips = v;
            return this;
        }

        public SkipSpikes build() {
            return new SkipSpikes(window, sigmaFactor, byLoss, byNorm, maxConsecutiveSkips);
        }
    }
}
