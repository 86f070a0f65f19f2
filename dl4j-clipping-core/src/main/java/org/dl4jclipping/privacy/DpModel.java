package org.dl4jclipping.privacy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The model as per-example gradients and DP-SGD see it, a {@code MultiLayerNetwork} or a {@code ComputationGraph}:
 * its layers with parameters in the order of the flattened parameter vector, their names, the parameter count, the
 * flattened gradient buffer, the updater and the iteration count.
 *
 * <p>Layers are identified by an index: the layer's index in {@code MultiLayerNetwork.getLayers()}, or the vertex's
 * index in {@code ComputationGraph.getVertices()} (its {@code getVertexIndex()}). {@link #slots()} bounds them.
 */
abstract class DpModel {

    /** The network itself. */
    abstract Model model();

    /** One more than the largest layer index (the length of a per-layer array). */
    abstract int slots();

    /** The layer with index {@code index}; null where the index is not a layer. */
    abstract Layer layer(int index);

    /** The prefix of the layer's gradient keys in DL4J's {@code Gradient}, before {@code "_" + paramKey}. */
    abstract String gradientPrefix(int index);

    /** The layer's name: its configured name in a {@code MultiLayerNetwork}, its vertex name in a graph. */
    abstract String name(int index);

    /** "layer 0 ("dense", DenseLayer)" or "vertex "dense" (DenseLayer)". */
    abstract String describe(int index);

    /** The indices of the layers with parameters, in the order of the flattened parameters. */
    abstract int[] orderedLayers();

    /** The network's updater (created if it does not exist yet), which must be DL4J's own. */
    abstract Updater updater();

    abstract int iterationCount();

    abstract void setIterationCount(int iteration);

    abstract int epochCount();

    /** The flattened gradient buffer, created if DL4J has not created it yet (it does so at the first fit). */
    abstract INDArray flattenedGradients();

    /** Fails naming the layer when the model cannot have per-example gradients. */
    abstract void requireSupported();

    /** What per-layer thresholds are matched to: "layers [0, 1, 2]" or "vertices [in, left, right, out]". */
    abstract String listLayers();

    static DpModel of(MultiLayerNetwork net) {
        return new Mln(net);
    }

    static DpModel of(ComputationGraph graph) {
        return new Graph(graph);
    }

    long numParams() {
        return model().numParams();
    }

    DataType dataType() {
        return model().params().dataType();
    }

    /**
     * The views of every layer with parameters into {@code flat}, a row vector of the network's parameter count (or
     * a view of one row of a [B, P] matrix), in the order of the flattened parameters.
     */
    List<LayerViews> views(INDArray flat) {
        List<LayerViews> out = new ArrayList<>();
        long offset = 0;
        INDArray row = flat.reshape(1, flat.length());
        for (int k : orderedLayers()) {
            Layer layer = layer(k);
            if (layer == null) {
                throw new IllegalArgumentException(describe(k) + " has parameters but no layer: per-example "
                        + "gradients cover the parameters of layers only");
            }
            long n = layer.numParams();
            INDArray slice = row.get(NDArrayIndex.point(0), NDArrayIndex.interval(offset, offset + n)).reshape(1, n);
            Map<String, INDArray> keys = layer.conf().getLayer().initializer()
                    .getGradientsFromFlattened(layer.conf(), slice);
            out.add(new LayerViews(k, offset, slice, keys));
            offset += n;
        }
        if (offset != flat.length()) {
            throw new IllegalArgumentException("The flat vector has " + flat.length() + " elements, the network's "
                    + "layers with parameters " + offset);
        }
        return out;
    }

    /** The DL4J updater as {@code BaseMultiLayerUpdater}, or an error saying private training needs DL4J's own. */
    BaseMultiLayerUpdater<?> dl4jUpdater() {
        Updater updater = updater();
        if (!(updater instanceof BaseMultiLayerUpdater<?> u)) {
            throw new IllegalStateException("The network's updater is " + updater + ", not DL4J's "
                    + (this instanceof Graph ? "ComputationGraphUpdater" : "MultiLayerUpdater")
                    + ": private training applies the updater itself and needs DL4J's own");
        }
        return u;
    }

    /** A {@code MultiLayerNetwork}: layers in index order, gradient keys {@code "<index>_<param>"}. */
    private static final class Mln extends DpModel {
        private final MultiLayerNetwork net;

        Mln(MultiLayerNetwork net) {
            this.net = net;
        }

        @Override
        Model model() {
            return net;
        }

        @Override
        int slots() {
            return net.getLayers().length;
        }

        @Override
        Layer layer(int index) {
            return net.getLayer(index);
        }

        @Override
        String gradientPrefix(int index) {
            return String.valueOf(index);
        }

        @Override
        String name(int index) {
            return net.getLayer(index).conf().getLayer().getLayerName();
        }

        @Override
        String describe(int index) {
            return PerExampleGradients.describe(net, index);
        }

        @Override
        int[] orderedLayers() {
            Layer[] layers = net.getLayers();
            return java.util.stream.IntStream.range(0, layers.length).filter(k -> layers[k].numParams() > 0)
                    .toArray();
        }

        @Override
        Updater updater() {
            return net.getUpdater();
        }

        @Override
        int iterationCount() {
            return net.getIterationCount();
        }

        @Override
        void setIterationCount(int iteration) {
            net.setIterationCount(iteration);
        }

        @Override
        int epochCount() {
            return net.getEpochCount();
        }

        @Override
        INDArray flattenedGradients() {
            if (net.getFlattenedGradients() == null) {
                net.initGradientsView();
            }
            return net.getFlattenedGradients();
        }

        @Override
        void requireSupported() {
            PerExampleGradients.requireSupported(net);
        }

        @Override
        String listLayers() {
            return "layers " + java.util.Arrays.toString(orderedLayers());
        }
    }

    /**
     * A {@code ComputationGraph}: the layer vertices in the graph's topological order, which is how
     * {@code ComputationGraph.init} lays out the flattened parameters (and {@code ComputationGraphUpdater} its
     * blocks); gradient keys {@code "<vertex name>_<param>"}, as the graph's own backpropagation names them.
     */
    private static final class Graph extends DpModel {
        private final ComputationGraph graph;

        Graph(ComputationGraph graph) {
            this.graph = graph;
        }

        @Override
        Model model() {
            return graph;
        }

        @Override
        int slots() {
            return graph.getVertices().length;
        }

        @Override
        Layer layer(int index) {
            GraphVertex v = graph.getVertices()[index];
            return v.hasLayer() ? v.getLayer() : null;
        }

        @Override
        String gradientPrefix(int index) {
            return graph.getVertices()[index].getVertexName();
        }

        @Override
        String name(int index) {
            return graph.getVertices()[index].getVertexName();
        }

        @Override
        String describe(int index) {
            return PerExampleGradients.describe(graph, index);
        }

        @Override
        int[] orderedLayers() {
            GraphVertex[] vertices = graph.getVertices();
            return java.util.Arrays.stream(graph.topologicalSortOrder())
                    .filter(k -> vertices[k].numParams() > 0).toArray();
        }

        @Override
        Updater updater() {
            return graph.getUpdater();
        }

        @Override
        int iterationCount() {
            return graph.getIterationCount();
        }

        @Override
        void setIterationCount(int iteration) {
            graph.getConfiguration().setIterationCount(iteration);
        }

        @Override
        int epochCount() {
            return graph.getEpochCount();
        }

        @Override
        INDArray flattenedGradients() {
            if (graph.getFlattenedGradients() == null) {
                graph.initGradientsView();
            }
            return graph.getFlattenedGradients();
        }

        @Override
        void requireSupported() {
            PerExampleGradients.requireSupported(graph);
        }

        @Override
        String listLayers() {
            List<String> names = new ArrayList<>();
            for (int k : orderedLayers()) {
                names.add(graph.getVertices()[k].getVertexName());
            }
            return "vertices " + names;
        }
    }
}
