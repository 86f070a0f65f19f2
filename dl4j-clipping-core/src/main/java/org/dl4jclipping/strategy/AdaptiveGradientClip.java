package org.dl4jclipping.strategy;

import java.util.List;
import lombok.EqualsAndHashCode;
import lombok.Getter;
import org.dl4jclipping.engine.ClipStep;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.ParamGradient;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * AGC, unit-wise adaptive gradient clipping: each unit's gradient is clipped relative to the norm of its weights.
 *
 * <p>For each parameter {@code W} with gradient {@code G} and each unit {@code i}:
 * <pre>
 *   max_i = lambda * max(||W_i||, eps)
 *   G_i  <- G_i * max_i / max(||G_i||, 1e-6)      when ||G_i|| >= max_i (timm's rule; otherwise unchanged)
 * </pre>
 * A unit is an output unit ({@link org.dl4jclipping.engine.Units}, shared with {@code UnitMaxNorm}), decided by
 * what DL4J says the parameter is, not by its shape: weights {@code [nIn, nOut]}: a column (also for
 * {@code nIn = 1}); convolution weights {@code [out, in, kh, kw]}: an output channel; biases and other
 * non-weights (BatchNorm's gamma and beta): the whole tensor (one norm, as timm and Optax do for 1-D
 * parameters).
 *
 * <p>Parameters: {@code clipFactor} (lambda) finite and {@code > 0}, default {@value #DEFAULT_CLIP_FACTOR}
 * (timm's); {@code eps} finite and {@code > 0}, default {@value #DEFAULT_EPS}; {@code excludeOutputLayer},
 * default true (the paper and timm do not clip the final classifier); {@code excludedLayers}: further layer names
 * left unclipped. Stateless.
 *
 * <p>Non-finite: a NaN unit norm never scales (the comparison is false); the engine fails a non-finite step before
 * any strategy runs unless a non-finite policy is configured, so put that policy first.
 *
 * <p>Reference: A. Brock, S. De, S. L. Smith, K. Simonyan, "High-Performance Large-Scale Image Recognition
 * Without Normalization", ICML 2021, arXiv:2102.06171; timm {@code timm/utils/agc.py}; Optax
 * {@code adaptive_grad_clip}.
 */
@Getter
@EqualsAndHashCode
public final class AdaptiveGradientClip implements ClipStrategy {

    private static final long serialVersionUID = 1L;

    public static final double DEFAULT_CLIP_FACTOR = 0.01;
    public static final double DEFAULT_EPS = 1e-3;
    /** Lower bound of a gradient unit norm in the division (timm's clamp). */
    public static final double GRAD_EPS = 1e-6;

    private final double clipFactor;
    private final double eps;
    private final boolean excludeOutputLayer;
    private final List<String> excludedLayers;

    /** AGC with every parameter given. */
    @JsonCreator
    public AdaptiveGradientClip(@JsonProperty("clipFactor") double clipFactor, @JsonProperty("eps") double eps,
                                @JsonProperty("excludeOutputLayer") boolean excludeOutputLayer,
                                @JsonProperty("excludedLayers") List<String> excludedLayers) {
        this.clipFactor = Check.positiveFinite("clipFactor", clipFactor);
        this.eps = Check.positiveFinite("eps", eps);
        this.excludeOutputLayer = excludeOutputLayer;
        this.excludedLayers = excludedLayers == null ? List.of() : List.copyOf(excludedLayers);
    }

    /** AGC with {@code clipFactor}, default eps, output layer excluded. */
    public static AdaptiveGradientClip of(double clipFactor) {
        return new AdaptiveGradientClip(clipFactor, DEFAULT_EPS, true, List.of());
    }

    /** The same AGC, also clipping the output layer. */
    public AdaptiveGradientClip includingOutputLayer() {
        return new AdaptiveGradientClip(clipFactor, eps, false, excludedLayers);
    }

    /** The same AGC, leaving {@code layers} unclipped too. */
    public AdaptiveGradientClip excluding(String... layers) {
        List<String> all = new java.util.ArrayList<>(excludedLayers);
        all.addAll(List.of(layers));
        return new AdaptiveGradientClip(clipFactor, eps, excludeOutputLayer, all);
    }

    private Object readResolve() {
        return new AdaptiveGradientClip(clipFactor, eps, excludeOutputLayer, excludedLayers);
    }

    @Override
    public void apply(ClipStep step) {
        for (int i : step.members()) {
            ParamGradient p = step.layout().param(i);
            if (excludedLayers.contains(p.layer())
                    || (excludeOutputLayer && step.layout().isOutputLayer(step.layout().layerOf(i)))) {
                continue;
            }
            double[] g = step.unitNorms(i, true);
            double[] w = step.unitNorms(i, false);
            double[] scale = step.scratch(g.length);
            for (int u = 0; u < g.length; u++) {
                double max = clipFactor * Math.max(w[u], eps);
                scale[u] = g[u] >= max ? max / Math.max(g[u], GRAD_EPS) : 1.0;
            }
            step.scaleUnits(i, scale);
        }
    }

    @Override
    public String toString() {
        return "agc[lambda=" + clipFactor + ", eps=" + eps + (excludeOutputLayer ? ", output excluded" : "")
                + (excludedLayers.isEmpty() ? "" : ", excluded " + excludedLayers) + "]";
    }
}
