package org.dl4jclipping.privacy;

import java.util.List;
import java.util.function.Supplier;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The gradient of each example's loss alone, for every layer with parameters of a {@code MultiLayerNetwork} or a
 * {@code ComputationGraph}, and their L2 norms: what DP-SGD clips.
 *
 * <p>Two paths, same numbers (tested to 1e-12 relative in double, 1e-6 in float):
 * <ul>
 *   <li><b>fast</b>, when every layer with parameters has a {@link FastLayerPath}: {@code DenseLayer},
 *       {@code OutputLayer}, {@code RnnOutputLayer}, {@code EmbeddingLayer}, {@code EmbeddingSequenceLayer} (without
 *       weight noise or layer normalisation) built in, and the paths other modules register as services
 *       ({@code dl4j-clipping-rnn}: DL4J's {@code LSTM}, {@code NativeLSTM}, {@code GRU}, also inside
 *       {@code LastTimeStep}), and the last layer is an output layer: one forward and one backward pass, each
 *       layer's inputs {@code a} and errors {@code delta} kept; per-example norms from them (the ghost norm where
 *       cheaper), and the clipped sum as one product per weight block, never a [batch, parameters] matrix;</li>
 *   <li><b>generic</b>, for any other layer with a per-example gradient (convolutions, {@code GravesLSTM}, a
 *       recurrent layer with dropout, ...): each example alone through DL4J's backpropagation
 *       ({@link #generic}).</li>
 * </ul>
 * Masks are respected on both: a masked step contributes nothing to its example's gradient.
 *
 * <p>A {@code ComputationGraph} ({@link #of(ComputationGraph, MultiDataSet)}) takes the same two paths: <b>fast</b>
 * when every layer vertex with parameters has a fast path and every network output is an output layer (the vertices
 * run in topological order, forward then backward, the errors arriving at a vertex from several others summed, and
 * DL4J's own {@code doForward}/{@code doBackward} for merge, element-wise and other vertices without parameters);
 * otherwise <b>generic</b>: each example alone through the graph's own {@code computeGradientAndScore}, the features,
 * labels, feature masks and label masks of every input and output cut to that example. Its layers are its layer
 * vertices with parameters, in the graph's topological order (the order of {@code graph.params()});
 * {@link #layerIndices()} are then vertex indices ({@code graph.getVertices()}) and {@link #layerNames()} vertex
 * names.
 *
 * <p>Refused ({@link #requireSupported}): {@code BatchNormalization}, whose output for one example depends on the
 * others, truncated BPTT, and (in a graph) a vertex with parameters that is not a layer vertex.
 *
 * <p>Dropout: the fast path uses one forward pass of the batch, the generic path draws each example's dropout mask
 * on its own; both are per-example gradients of a randomly thinned network, but not the same draw.
 */
public final class PerExampleGradients {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PerExampleGradients.class);
    /** The reasons already logged for falling back to the generic path (each once per JVM). */
    private static final java.util.Set<String> FALLBACK_LOGGED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static final String BATCH_NORM_REFUSED = " is BatchNormalization, which mixes the examples of a batch "
            + "(each example's output depends on the batch mean and variance), so there is no per-example gradient to "
            + "clip for DP-SGD: remove it, or normalise within each example instead "
            + "(DenseLayer.Builder().hasLayerNorm(true), or LayerNormalization-style layers), as Opacus replaces "
            + "BatchNorm with GroupNorm";
    private static final String TBPTT_REFUSED = "backpropType = TruncatedBPTT is not supported for per-example "
            + "gradients (an example's gradient would be spread over several updates, each clipped apart): use "
            + "BackpropType.Standard with sequences short enough to backpropagate whole";

    private final DpModel model;
    private final LayerPerExample[] layers;
    private final int batchSize;
    private final boolean fast;

    private PerExampleGradients(DpModel model, LayerPerExample[] layers, int batchSize, boolean fast) {
        this.model = model;
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
        return fastOrGeneric(DpModel.of(net), batchSize(batch), FastBackprop.uncovered(net).isEmpty(),
                () -> FastBackprop.run(net, batch), () -> GenericBackprop.run(net, batch));
    }

    /**
     * The fast path when it covers the model ({@code covered}) and takes this batch, else the generic path; a
     * batch the fast path refuses ({@link FastLayerPath.NotApplicable}) is logged once per reason. An empty batch
     * gives an empty result.
     */
    private static PerExampleGradients fastOrGeneric(DpModel model, int b, boolean covered,
                                                     Supplier<LayerPerExample[]> fast,
                                                     Supplier<LayerPerExample[]> generic) {
        if (b == 0) {
            return new PerExampleGradients(model, new LayerPerExample[model.slots()], 0, true);
        }
        if (covered) {
            try {
                return new PerExampleGradients(model, fast.get(), b, true);
            } catch (FastLayerPath.NotApplicable e) {
                if (FALLBACK_LOGGED.add(e.getMessage())) {
                    LOG.warn("Per-example gradients on the generic path (slower, same numbers) for this batch: {}",
                            e.getMessage());
                }
            }
        }
        return new PerExampleGradients(model, generic.get(), b, false);
    }

    /** The per-example gradients by the generic path, whatever the layers (the reference for the fast paths). */
    public static PerExampleGradients generic(MultiLayerNetwork net, DataSet batch) {
        requireSupported(net);
        return new PerExampleGradients(DpModel.of(net), GenericBackprop.run(net, batch), batchSize(batch), false);
    }

    /**
     * The per-example gradients of {@code batch} on {@code graph} by the fast path when it covers the graph
     * ({@link #slowLayers(ComputationGraph)} empty), else by the generic path: each example alone through the graph's
     * {@code computeGradientAndScore}, with the features, labels, feature masks and label masks of every input and
     * output cut to that example. The graph's parameters are not changed; its gradient buffer is overwritten.
     *
     * @param batch one features array per graph input and one labels array per output (all with the same number
     *              of rows, the examples), optional masks; zero rows gives an empty result
     * @throws IllegalArgumentException if the graph has a vertex refused by {@link #requireSupported}, or the
     *                                  arrays do not match the graph's inputs and outputs
     */
    public static PerExampleGradients of(ComputationGraph graph, MultiDataSet batch) {
        requireSupported(graph);
        int b = batchSize(batch);
        requireShapes(graph, batch);
        return fastOrGeneric(DpModel.of(graph), b, GraphFastBackprop.uncovered(graph).isEmpty(),
                () -> GraphFastBackprop.run(graph, batch), () -> GenericBackprop.run(graph, batch));
    }

    /**
     * The per-example gradients of {@code batch} on a graph with one input and one output ({@link
     * #of(ComputationGraph, MultiDataSet)} on the same arrays).
     *
     * @throws IllegalArgumentException if the graph does not have exactly one input and one output
     */
    public static PerExampleGradients of(ComputationGraph graph, DataSet batch) {
        return of(graph, toMultiDataSet(graph, batch));
    }

    /** The per-example gradients of {@code batch} on {@code graph} by the generic path (the reference). */
    public static PerExampleGradients generic(ComputationGraph graph, MultiDataSet batch) {
        requireSupported(graph);
        int b = batchSize(batch);
        requireShapes(graph, batch);
        if (b == 0) {
            return new PerExampleGradients(DpModel.of(graph), new LayerPerExample[graph.getVertices().length], 0,
                    false);
        }
        return new PerExampleGradients(DpModel.of(graph), GenericBackprop.run(graph, batch), b, false);
    }

    /**
     * Why the fast path does not cover {@code net}: one line per layer with parameters that has no fast path (they
     * run on the generic path); empty when the fast path covers it.
     */
    public static List<String> slowLayers(MultiLayerNetwork net) {
        return FastBackprop.uncovered(net);
    }

    /**
     * Why the fast path does not cover {@code graph}: one line per vertex that keeps it off (a layer vertex with
     * parameters without a fast path, a network output that is not an output layer); empty when it covers it.
     */
    public static List<String> slowLayers(ComputationGraph graph) {
        return GraphFastBackprop.uncovered(graph);
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
                throw new IllegalArgumentException(describe(conf.getConf(k), k) + BATCH_NORM_REFUSED);
            }
        }
        if (conf.getBackpropType() == BackpropType.TruncatedBPTT) {
            throw new IllegalArgumentException(TBPTT_REFUSED);
        }
    }

    /**
     * Fails, naming the vertex and what to do, when {@code graph} cannot have per-example gradients: a
     * {@code BatchNormalization} layer vertex, truncated BPTT, or a vertex with parameters that is not a layer
     * vertex (a SameDiff vertex, say: its parameters are not covered).
     *
     * @throws IllegalArgumentException naming the vertex name and type, and the fix
     */
    public static void requireSupported(ComputationGraph graph) {
        Check.notNull("graph", graph);
        GraphVertex[] vertices = graph.getVertices();
        for (int k : graph.topologicalSortOrder()) {
            GraphVertex v = vertices[k];
            if (v.hasLayer() && v.getLayer().conf().getLayer() instanceof BatchNormalization) {
                throw new IllegalArgumentException(describe(graph, k) + BATCH_NORM_REFUSED);
            }
            if (!v.hasLayer() && v.numParams() > 0) {
                throw new IllegalArgumentException(describe(graph, k) + " has " + v.numParams() + " parameters but "
                        + "is not a layer vertex: per-example gradients cover the parameters of layers only; use "
                        + "DL4J layers (LayerVertex) for the parameters to train privately");
            }
        }
        if (graph.getConfiguration().getBackpropType() == BackpropType.TruncatedBPTT) {
            throw new IllegalArgumentException(TBPTT_REFUSED);
        }
    }

    static String describe(MultiLayerNetwork net, int k) {
        return describe(net.getLayerWiseConfigurations().getConf(k), k);
    }

    private static String describe(NeuralNetConfiguration conf, int k) {
        return "layer " + k + " (\"" + conf.getLayer().getLayerName() + "\", "
                + conf.getLayer().getClass().getSimpleName() + ")";
    }

    /** "vertex "name" (LayerType)", or the vertex's class for a vertex without a layer. */
    static String describe(ComputationGraph graph, int k) {
        GraphVertex v = graph.getVertices()[k];
        String type = v.hasLayer() ? v.getLayer().conf().getLayer().getClass().getSimpleName()
                : v.getClass().getSimpleName();
        return "vertex \"" + v.getVertexName() + "\" (" + type + ")";
    }

    static int batchSize(MultiDataSet batch) {
        Check.notNull("batch", batch);
        INDArray[] f = batch.getFeatures();
        return f == null || f.length == 0 || f[0] == null || f[0].isEmpty() ? 0 : (int) f[0].size(0);
    }

    /** The batch's arrays match the graph's inputs and outputs, and all have the same number of examples. */
    private static void requireShapes(ComputationGraph graph, MultiDataSet batch) {
        int in = graph.getNumInputArrays();
        int out = graph.getNumOutputArrays();
        INDArray[] f = batch.getFeatures();
        INDArray[] l = batch.getLabels();
        if (f == null || f.length != in) {
            throw Check.outOfRange("batch.getFeatures().length", f == null ? 0 : f.length,
                    "must equal the graph's number of inputs, " + in);
        }
        if (l == null || l.length != out) {
            throw Check.outOfRange("batch.getLabels().length", l == null ? 0 : l.length,
                    "must equal the graph's number of outputs, " + out);
        }
        long b = f[0] == null ? 0 : f[0].size(0);
        requireRows("batch.getFeatures()", f, b);
        requireRows("batch.getLabels()", l, b);
        requireRows("batch.getFeaturesMaskArrays()", batch.getFeaturesMaskArrays(), b);
        requireRows("batch.getLabelsMaskArrays()", batch.getLabelsMaskArrays(), b);
    }

    private static void requireRows(String name, INDArray[] xs, long b) {
        if (xs == null) {
            return;
        }
        for (int k = 0; k < xs.length; k++) {
            if (xs[k] != null && xs[k].size(0) != b) {
                throw Check.outOfRange(name + "[" + k + "].size(0)", xs[k].size(0),
                        "must equal the batch size (rows of the first features array), " + b);
            }
        }
    }

    /** A single-input, single-output graph's batch as a {@code MultiDataSet} of the same arrays. */
    static MultiDataSet toMultiDataSet(ComputationGraph graph, DataSet batch) {
        Check.notNull("graph", graph);
        Check.notNull("batch", batch);
        if (graph.getNumInputArrays() != 1 || graph.getNumOutputArrays() != 1) {
            throw new IllegalArgumentException("A DataSet feeds a graph with one input and one output; this graph has "
                    + graph.getNumInputArrays() + " inputs " + graph.getConfiguration().getNetworkInputs() + " and "
                    + graph.getNumOutputArrays() + " outputs " + graph.getConfiguration().getNetworkOutputs()
                    + ": pass a MultiDataSet");
        }
        return new org.nd4j.linalg.dataset.MultiDataSet(batch.getFeatures(), batch.getLabels(),
                batch.getFeaturesMaskArray(), batch.getLabelsMaskArray());
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

    /**
     * The indices of the network's layers with parameters, in the order of the flattened parameters: the rows of
     * {@link #layerNorms()}. For a {@code MultiLayerNetwork} layer indices (increasing); for a
     * {@code ComputationGraph} vertex indices ({@code graph.getVertices()}) in the graph's topological order.
     */
    public int[] layerIndices() {
        return model.orderedLayers();
    }

    /**
     * The names of the layers with parameters, in {@link #layerIndices()} order: the layer names of a
     * {@code MultiLayerNetwork} ({@code "0"}, {@code "1"}, ... unless named), the vertex names of a graph.
     */
    public List<String> layerNames() {
        List<String> out = new java.util.ArrayList<>();
        for (int k : layerIndices()) {
            out.add(model.name(k));
        }
        return out;
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
     * Every example's gradient as a matrix [B, P], row {@code i} laid out as the network's {@code params()} (memory
     * {@code B * P}: meant for tests and small networks).
     */
    public INDArray matrix() {
        INDArray out = Nd4j.create(model.dataType(), batchSize, model.numParams());
        for (int i = 0; i < batchSize; i++) {
            INDArray row = out.getRow(i, true);
            for (LayerViews v : model.views(row)) {
                layers[v.layer()].writeExample(i, v);
            }
        }
        return out;
    }

    /**
     * Writes {@code sum_i factors[s][i] * g_i} of each layer {@code s} (in {@link #layerIndices()} order) into
     * {@code flat}, a row vector laid out as the network's parameters; zero for an empty batch.
     */
    /** The L2 norm of each layer's part of {@code flat} (laid out as the parameters), in layer order. */
    double[] layerNormsOf(INDArray flat) {
        List<LayerViews> views = model.views(flat);
        double[] out = new double[views.size()];
        for (int s = 0; s < out.length; s++) {
            out[s] = views.get(s).flat().norm2Number().doubleValue();
        }
        return out;
    }

    void writeClippedSum(double[][] factors, INDArray flat) {
        List<LayerViews> views = model.views(flat);
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
