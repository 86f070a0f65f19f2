package org.dl4jclipping.privacy;

import java.util.List;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The gradient of each example's loss alone, for every layer with parameters of a {@code MultiLayerNetwork}, and
 * their L2 norms: what DP-SGD clips.
 *
 * <p>Two paths, same numbers (tested to 1e-12 relative in double, 1e-6 in float):
 * <ul>
 *   <li><b>fast</b>, when every layer with parameters is a {@code DenseLayer}, {@code OutputLayer},
 *       {@code RnnOutputLayer}, {@code EmbeddingLayer} or {@code EmbeddingSequenceLayer} (without weight noise or
 *       layer normalisation) and the last layer is an output layer: one forward and one backward pass, each layer's
 *       inputs {@code a} and errors {@code delta} kept; per-example norms from them (the ghost norm where cheaper),
 *       and the clipped sum as one product per layer, never a [batch, parameters] matrix;</li>
 *   <li><b>generic</b>, for any other layer with a per-example gradient (DL4J's LSTM, this project's NativeLSTM and
 *       GRU, convolutions, ...): each example alone through DL4J's backpropagation ({@link #generic}).</li>
 * </ul>
 * Masks are respected on both: a masked step contributes nothing to its example's gradient.
 *
 * <p>Refused ({@link #requireSupported}): {@code BatchNormalization}, whose output for one example depends on the
 * others, and truncated BPTT. {@code ComputationGraph} is not supported yet (the type does not accept one).
 *
 * <p>Dropout: the fast path uses one forward pass of the batch, the generic path draws each example's dropout mask
 * on its own; both are per-example gradients of a randomly thinned network, but not the same draw.
 */
public final class PerExampleGradients {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PerExampleGradients.class);
    /** The reasons already logged for falling back to the generic path (each once per JVM). */
    private static final java.util.Set<String> FALLBACK_LOGGED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final MultiLayerNetwork net;
    private final LayerPerExample[] layers;
    private final int batchSize;
    private final boolean fast;

    private PerExampleGradients(MultiLayerNetwork net, LayerPerExample[] layers, int batchSize, boolean fast) {
        this.net = net;
        this.layers = layers;
        this.batchSize = batchSize;
        this.fast = fast;
    }

    /**
     * The per-example gradients of {@code batch} on {@code net} by the fast path when it covers the network, else
     * by the generic one. The network's parameters are not changed; its gradient buffer is overwritten.
     *
     * @param batch features, labels and optional masks; zero examples gives an empty result
     * @throws IllegalArgumentException if the network has a layer refused by {@link #requireSupported}
     */
    public static PerExampleGradients of(MultiLayerNetwork net, DataSet batch) {
        requireSupported(net);
        int b = batchSize(batch);
        if (b == 0) {
            return new PerExampleGradients(net, new LayerPerExample[net.getLayers().length], 0, true);
        }
        if (FastBackprop.uncovered(net).isEmpty()) {
            try {
                return new PerExampleGradients(net, FastBackprop.run(net, batch), b, true);
            } catch (FastLayerPath.NotApplicable e) {
                if (FALLBACK_LOGGED.add(e.getMessage())) {
                    LOG.warn("Per-example gradients on the generic path (slower, same numbers) for this batch: {}",
                            e.getMessage());
                }
            }
        }
        return new PerExampleGradients(net, GenericBackprop.run(net, batch), b, false);
    }

    /** The per-example gradients by the generic path, whatever the layers (the reference for the fast paths). */
    public static PerExampleGradients generic(MultiLayerNetwork net, DataSet batch) {
        requireSupported(net);
        return new PerExampleGradients(net, GenericBackprop.run(net, batch), batchSize(batch), false);
    }

    /**
     * Why the fast path does not cover {@code net}: one line per layer with parameters that has no fast path (they
     * run on the generic path); empty when the fast path covers it.
     */
    public static List<String> slowLayers(MultiLayerNetwork net) {
        return FastBackprop.uncovered(net);
    }

    /**
     * Fails, naming the layer and what to do, when {@code net} cannot have per-example gradients: a
     * {@code BatchNormalization} layer (mixes the examples of a batch), or truncated BPTT (one example's
     * gradient would be split over several updates).
     *
     * @throws IllegalArgumentException naming the layer index, name and type, and the fix
     */
    public static void requireSupported(MultiLayerNetwork net) {
        Check.notNull("net", net);
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        for (int k = 0; k < conf.getConfs().size(); k++) {
            if (conf.getConf(k).getLayer() instanceof BatchNormalization) {
                throw new IllegalArgumentException(describe(conf.getConf(k), k) + " is BatchNormalization, which "
                        + "mixes the examples of a batch (each example's output depends on the batch mean and "
                        + "variance), so there is no per-example gradient to clip for DP-SGD: remove it, or normalise "
                        + "within each example instead (DenseLayer.Builder().hasLayerNorm(true), or "
                        + "LayerNormalization-style layers), as Opacus replaces BatchNorm with GroupNorm");
            }
        }
        if (conf.getBackpropType() == BackpropType.TruncatedBPTT) {
            throw new IllegalArgumentException("backpropType = TruncatedBPTT is not supported for per-example "
                    + "gradients (an example's gradient would be spread over several updates, each clipped apart): "
                    + "use BackpropType.Standard with sequences short enough to backpropagate whole");
        }
    }

    static String describe(MultiLayerNetwork net, int k) {
        return describe(net.getLayerWiseConfigurations().getConf(k), k);
    }

    private static String describe(NeuralNetConfiguration conf, int k) {
        return "layer " + k + " (\"" + conf.getLayer().getLayerName() + "\", "
                + conf.getLayer().getClass().getSimpleName() + ")";
    }

    private static int batchSize(DataSet batch) {
        Check.notNull("batch", batch);
        return batch.getFeatures() == null || batch.getFeatures().isEmpty() ? 0
                : (int) batch.getFeatures().size(0);
    }

    /** The number of examples. */
    public int batchSize() {
        return batchSize;
    }

    /** Whether the fast path computed these ({@code false}: the generic path). */
    public boolean fast() {
        return fast;
    }

    /** The indices of the network's layers with parameters, in order: the rows of {@link #layerNorms()}. */
    public int[] layerIndices() {
        return java.util.stream.IntStream.range(0, net.getLayers().length)
                .filter(k -> net.getLayers()[k].numParams() > 0).toArray();
    }

    /** {@code [layer][example]}: the L2 norm of each example's gradient of each layer with parameters. */
    public double[][] layerNorms() {
        double[][] squared = squaredLayerNorms();
        for (double[] row : squared) {
            for (int i = 0; i < row.length; i++) {
                row[i] = Math.sqrt(row[i]);
            }
        }
        return squared;
    }

    /** The L2 norm of each example's gradient over all parameters. */
    public double[] norms() {
        double[] total = new double[batchSize];
        for (double[] row : squaredLayerNorms()) {
            for (int i = 0; i < batchSize; i++) {
                total[i] += row[i];
            }
        }
        for (int i = 0; i < batchSize; i++) {
            total[i] = Math.sqrt(total[i]);
        }
        return total;
    }

    double[][] squaredLayerNorms() {
        int[] idx = layerIndices();
        double[][] out = new double[idx.length][];
        for (int s = 0; s < idx.length; s++) {
            out[s] = batchSize == 0 ? new double[0] : layers[idx[s]].squaredNorms();
        }
        return out;
    }

    /**
     * Every example's gradient as a matrix [B, P], row {@code i} laid out as {@code net.params()} (memory
     * {@code B * P}: meant for tests and small networks).
     */
    public INDArray matrix() {
        INDArray out = Nd4j.create(net.params().dataType(), batchSize, net.numParams());
        for (int i = 0; i < batchSize; i++) {
            INDArray row = out.getRow(i, true);
            for (LayerViews v : LayerViews.of(net, row)) {
                layers[v.layer()].writeExample(i, v);
            }
        }
        return out;
    }

    /**
     * Writes {@code sum_i factors[s][i] * g_i} of each layer {@code s} (in {@link #layerIndices()} order) into
     * {@code flat}, a row vector laid out as the network's parameters; zero for an empty batch.
     */
    void writeClippedSum(double[][] factors, INDArray flat) {
        List<LayerViews> views = LayerViews.of(net, flat);
        for (int s = 0; s < views.size(); s++) {
            LayerViews v = views.get(s);
            if (batchSize == 0) {
                v.flat().assign(0);
            } else {
                layers[v.layer()].writeClippedSum(factors[s], v);
            }
        }
    }
}
