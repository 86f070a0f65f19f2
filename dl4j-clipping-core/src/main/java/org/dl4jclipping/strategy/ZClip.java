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
 * ZClip: global-norm clipping of spikes, detected by the z-score of the norm against exponential moving averages
 * of its mean and variance ("zscore" mode of the reference).
 *
 * <p>Each step, with {@code g} the global L2 norm of the gradient over the rule's parameters:
 * <ol>
 *   <li>Warm-up (until {@code warmupSteps} norms are collected): append {@code g}; when the buffer is full,
 *       {@code mu = mean}, {@code var = population variance}. The step is clipped by plain global norm at
 *       {@code maxGradNorm} (PyTorch's formula {@code s = min(1, max / (g + 1e-6))}).</li>
 *   <li>After warm-up: {@code sigma = sqrt(var)}, {@code z = (g - mu) / (sigma + eps)}. If {@code z > zThreshold}:
 *       {@code thr = (mu + zThreshold^2 * sigma / z) * clipFactor} ({@link Mode#ADAPTIVE_SCALING}, the
 *       reciprocal rule) or {@code thr = mu} ({@link Mode#MEAN}); otherwise no adaptive threshold.</li>
 *   <li>Effective threshold {@code eff = min(thr or g, maxGradNorm)}; when {@code g > eff}:
 *       {@code g_i <- g_i * eff / (g + 1e-6)}.</li>
 *   <li>Unless a spike occurred and {@code skipUpdateOnSpike}: {@code x = thr} if set, else {@code g};
 *       {@code mu <- alpha*mu + (1-alpha)*x}, then {@code var <- alpha*var + (1-alpha)*(x - mu)^2} with the
 *       already updated {@code mu}.</li>
 * </ol>
 * Defaults are the reference's: {@code alpha = 0.97}, {@code zThreshold = 2.5}, {@code maxGradNorm = 1.0}
 * ({@code +Infinity} = no cap, the reference's {@code None}), {@code eps = 1e-6}, {@code warmupSteps = 25},
 * {@link Mode#ADAPTIVE_SCALING}, {@code clipFactor = 1.0}, {@code skipUpdateOnSpike = false}. The reference's
 * "percentile" mode is not offered (its code path does not run as published).
 *
 * <p>Non-finite: the reference lets a NaN norm poison {@code mu} forever; here a non-finite norm fails the step
 * (or is skipped by a non-finite policy placed before) and never enters the statistics.
 *
 * <p>State ({@code 2 * (4 + max(1, warmupSteps))} elements, {@link StateDoubles}): initialised flag, mu, var, warm-up
 * count, warm-up buffer, each value as a pair of the state's type, so that a float network's statistics keep 48
 * bits and it clips as a double network does.
 *
 * <p>Reference: A. Kumar, L. Owen, N. R. Chowdhury, F. Güra, "ZClip: Adaptive Spike Mitigation for LLM
 * Pre-Training", 2025, arXiv:2504.02507; code {@code bluorion-com/ZClip}, {@code zclip/zclip.py}.
 *
 * @see AutoClip
 */
@Getter
@EqualsAndHashCode
public final class ZClip implements ClipStrategy {

    private static final long serialVersionUID = 1L;

    /** How the threshold of a spike is chosen. */
    public enum Mode {
        /** {@code thr = mu + zThreshold^2 * sigma / z}, times {@code clipFactor}: larger spikes, tighter clip. */
        ADAPTIVE_SCALING,
        /** {@code thr = mu}. */
        MEAN
    }

    public static final double DEFAULT_ALPHA = 0.97;
    public static final double DEFAULT_Z_THRESHOLD = 2.5;
    public static final double DEFAULT_MAX_GRAD_NORM = 1.0;
    public static final double DEFAULT_EPS = 1e-6;
    public static final int DEFAULT_WARMUP_STEPS = 25;
    public static final double DEFAULT_CLIP_FACTOR = 1.0;

    private static final int INITIALISED = 0;
    private static final int MEAN = 1;
    private static final int VAR = 2;
    private static final int COUNT = 3;
    private static final int BUFFER = 4;

    private final double alpha;
    private final double zThreshold;
    private final double maxGradNorm;
    private final double eps;
    private final int warmupSteps;
    private final Mode mode;
    private final double clipFactor;
    private final boolean skipUpdateOnSpike;

    /** ZClip with every parameter given; see {@link #builder()} for the defaults. */
    @JsonCreator
    public ZClip(@JsonProperty("alpha") double alpha, @JsonProperty("zThreshold") double zThreshold,
                 @JsonProperty("maxGradNorm") double maxGradNorm, @JsonProperty("eps") double eps,
                 @JsonProperty("warmupSteps") int warmupSteps, @JsonProperty("mode") Mode mode,
                 @JsonProperty("clipFactor") double clipFactor,
                 @JsonProperty("skipUpdateOnSpike") boolean skipUpdateOnSpike) {
        this.alpha = Check.inOpen("alpha", alpha, 0.0, 1.0);
        this.zThreshold = Check.positiveFinite("zThreshold", zThreshold);
        if (!(maxGradNorm > 0)) {
            throw Check.outOfRange("maxGradNorm", maxGradNorm, "must be > 0 (+Infinity for no cap)");
        }
        this.maxGradNorm = maxGradNorm;
        this.eps = Check.positiveFinite("eps", eps);
        this.warmupSteps = (int) Check.inRange("warmupSteps", warmupSteps, 0, 100_000);
        this.mode = Check.notNull("mode", mode);
        this.clipFactor = Check.positiveFinite("clipFactor", clipFactor);
        this.skipUpdateOnSpike = skipUpdateOnSpike;
    }

    private Object readResolve() {
        return new ZClip(alpha, zThreshold, maxGradNorm, eps, warmupSteps, mode, clipFactor, skipUpdateOnSpike);
    }

    /** A builder starting from the reference's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public int stateSize() {
        return StateDoubles.size(BUFFER + Math.max(1, warmupSteps));
    }

    @Override
    public void apply(ClipStep step) {
        int[] all = step.members();
        double g = step.groupNorm(all, 2.0);
        if (!Double.isFinite(g)) {
            throw step.nonFiniteError(all);
        }
        INDArray st = step.state(this);
        if (StateDoubles.get(st, INITIALISED) == 0) {
            int count = (int) StateDoubles.get(st, COUNT);
            StateDoubles.put(st, BUFFER + count, g);
            count++;
            StateDoubles.put(st, COUNT, count);
            if (count >= warmupSteps) {
                double sum = 0;
                for (int k = 0; k < count; k++) {
                    sum += StateDoubles.get(st, BUFFER + k);
                }
                double mean = sum / count;
                double var = 0;
                for (int k = 0; k < count; k++) {
                    double d = StateDoubles.get(st, BUFFER + k) - mean;
                    var += d * d;
                }
                StateDoubles.put(st, MEAN, mean);
                StateDoubles.put(st, VAR, var / count);
                StateDoubles.put(st, INITIALISED, 1);
            }
            scaleAll(step, all, Math.min(1.0, maxGradNorm / (g + ClipByNorm.EPSILON)));
            return;
        }
        double mu = StateDoubles.get(st, MEAN);
        double var = StateDoubles.get(st, VAR);
        double sigma = Math.sqrt(var);
        double z = (g - mu) / (sigma + eps);
        boolean spike = z > zThreshold;
        double thr = spike
                ? (mode == Mode.ADAPTIVE_SCALING ? (mu + zThreshold * sigma / (z / zThreshold)) * clipFactor : mu)
                : Double.NaN;
        double effective = Math.min(spike ? thr : g, maxGradNorm);
        for (int i : all) {
            step.recordThreshold(i, effective);
        }
        if (g > effective) {
            scaleAll(step, all, effective / (g + ClipByNorm.EPSILON));
        }
        if (spike && skipUpdateOnSpike) {
            return;
        }
        double x = spike ? thr : g;
        mu = alpha * mu + (1 - alpha) * x;
        var = alpha * var + (1 - alpha) * (x - mu) * (x - mu);
        StateDoubles.put(st, MEAN, mu);
        StateDoubles.put(st, VAR, var);
    }

    private static void scaleAll(ClipStep step, int[] members, double s) {
        if (s < 1.0) {
            step.scaleGroup(members, s);
        }
    }

    @Override
    public String toString() {
        return "z-clip[alpha=" + alpha + ", z=" + zThreshold + ", max=" + maxGradNorm + ", warmup=" + warmupSteps
                + ", " + mode + "]";
    }

    /** Builder with the reference's defaults; {@link #build()} validates. */
    public static final class Builder {
        private double alpha = DEFAULT_ALPHA;
        private double zThreshold = DEFAULT_Z_THRESHOLD;
        private double maxGradNorm = DEFAULT_MAX_GRAD_NORM;
        private double eps = DEFAULT_EPS;
        private int warmupSteps = DEFAULT_WARMUP_STEPS;
        private Mode mode = Mode.ADAPTIVE_SCALING;
        private double clipFactor = DEFAULT_CLIP_FACTOR;
        private boolean skipUpdateOnSpike;

        private Builder() {
        }

        /** EMA smoothing factor in (0, 1), default 0.97. */
        public Builder alpha(double v) {
            alpha = v;
            return this;
        }

        /** z-score above which a norm is a spike, > 0, default 2.5. */
        public Builder zThreshold(double v) {
            zThreshold = v;
            return this;
        }

        /** Cap on the effective threshold and warm-up clipping norm, > 0, default 1.0; +Infinity for none. */
        public Builder maxGradNorm(double v) {
            maxGradNorm = v;
            return this;
        }

        /** Added to sigma in the z-score, > 0, default 1e-6. */
        public Builder eps(double v) {
            eps = v;
            return this;
        }

        /** Norms collected before the statistics start, >= 0, default 25. */
        public Builder warmupSteps(int v) {
            warmupSteps = v;
            return this;
        }

        /** Threshold rule for spikes, default ADAPTIVE_SCALING. */
        public Builder mode(Mode v) {
            mode = v;
            return this;
        }

        /** Multiplier of the adaptive threshold, > 0, default 1.0. */
        public Builder clipFactor(double v) {
            clipFactor = v;
            return this;
        }

        /** Keep the statistics unchanged on a spike, default false. */
        public Builder skipUpdateOnSpike(boolean v) {
            skipUpdateOnSpike = v;
            return this;
        }

        public ZClip build() {
            return new ZClip(alpha, zThreshold, maxGradNorm, eps, warmupSteps, mode, clipFactor,
                    skipUpdateOnSpike);
        }
    }
}
