package org.dl4jclipping.privacy;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One layer's part of a flat vector laid out as the network's parameters: the layer's contiguous slice and its views
 * by parameter key, as the layer's own parameter initializer cuts them (so that a gradient written through the keys
 * lands where DL4J's would). A {@code MultiLayerNetwork} flattens its layers in index order; a
 * {@code ComputationGraph} flattens its layer vertices in its topological order ({@code topologicalSortOrder()}, as
 * {@code ComputationGraph.init} and {@code ComputationGraphUpdater} do).
 *
 * @param layer  the layer's index in the network ({@code MultiLayerNetwork.getLayers()}), or for a graph the layer
 *               vertex's index in {@code ComputationGraph.getVertices()}
 * @param offset the slice's first element in the flat vector
 * @param flat   the slice, a view
 * @param byKey  views into the slice, by parameter key ({@code "W"}, {@code "b"}, ...)
 */
public record LayerViews(int layer, long offset, INDArray flat, Map<String, INDArray> byKey) {

    /**
     * The views of every layer with parameters into {@code flat}, a row vector of the network's parameter count
     * (or a view of one row of a [B, P] matrix).
     */
    static List<LayerViews> of(MultiLayerNetwork net, INDArray flat) {
        return DpModel.of(net).views(flat);
    }

    /**
     * The views of every layer vertex with parameters of {@code graph} into {@code flat}, a row vector of the graph's
     * parameter count, in the graph's topological order (the order of {@code graph.params()}).
     *
     * @throws IllegalArgumentException for a vertex with parameters that is not a layer vertex
     */
    static List<LayerViews> of(ComputationGraph graph, INDArray flat) {
        return DpModel.of(graph).views(flat);
    }
}
