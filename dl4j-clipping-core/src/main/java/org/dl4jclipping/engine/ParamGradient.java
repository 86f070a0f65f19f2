package org.dl4jclipping.engine;

import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One trainable parameter as the engine sees it: its layer, its name, a view of its gradient (clipped in place)
 * and a view of its values (read by strategies that scale against the weights, such as AGC).
 *
 * <p>The views are bound once and reused every step: DL4J keeps a network's gradient and parameters in
 * flattened arrays whose views do not move between steps.
 *
 * @param layer     layer name (a ComputationGraph vertex name, or the layer index as text in a MultiLayerNetwork)
 * @param param     parameter name within the layer ({@code "W"}, {@code "b"}, {@code "RW"}, ...)
 * @param gradient  the gradient view, float or double, any order and strides; may be empty
 * @param parameter the parameter view of the same shape, or {@code null} when no strategy needs it
 * @param batchSummed whether the view holds the gradient summed over the minibatch, to be divided by the batch
 *                  size later (DL4J's order): norms and thresholds then apply to {@code view / batchSize}, the
 *                  step's divisor (see {@link Clipper#clip(long, double)})
 * @param weight    whether the parameter is a weight, whose units are output units ({@link Units}); otherwise
 *                  (a bias, BatchNorm's gamma and beta) the whole array is one unit. The DL4J integration takes
 *                  it from the layer's parameter initializer ({@code isWeightParam}), never from the shape: a
 *                  {@code [1, nOut]} weight (a dense layer with one input) has {@code nOut} units.
 */
public record ParamGradient(String layer, String param, INDArray gradient, INDArray parameter,
                            boolean batchSummed, boolean weight) {

    /**
     * A parameter whose view holds the gradient itself (not a sum to be divided later), a weight unless its name
     * is DL4J's bias key {@code "b"} or it has rank 0 or 1 (see {@link #isWeightByName}).
     */
    public ParamGradient(String layer, String param, INDArray gradient, INDArray parameter) {
        this(layer, param, gradient, parameter, false);
    }

    /** As the 4-argument constructor, with {@code batchSummed}. */
    public ParamGradient(String layer, String param, INDArray gradient, INDArray parameter, boolean batchSummed) {
        this(layer, param, gradient, parameter, batchSummed, isWeightByName(param, gradient));
    }

    /**
     * The default for callers that know no better than a name: a weight unless named {@code "b"} (DL4J's bias
     * key) or of rank 0 or 1. The DL4J integration does not use it: it asks the layer.
     */
    public static boolean isWeightByName(String param, INDArray gradient) {
        return !"b".equals(param) && gradient.rank() >= 2;
    }

    /** Validates names and, when a parameter view is given, that it has the gradient's length. */
    public ParamGradient {
        Objects.requireNonNull(layer, "layer");
        Objects.requireNonNull(param, "param");
        Objects.requireNonNull(gradient, "gradient");
        if (parameter != null && parameter.length() != gradient.length()) {
            throw new IllegalArgumentException("parameter " + layer + "/" + param + " has length "
                    + parameter.length() + " but its gradient has length " + gradient.length()
                    + ": they must be views of the same parameter");
        }
    }

    /** {@code layer/param}, as used in reports and messages. */
    public String key() {
        return layer + "/" + param;
    }
}
