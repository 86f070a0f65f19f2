package org.dl4jclipping.privacy;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * The fast path for a {@code ComputationGraph} ({@link FastBackprop} for a {@code MultiLayerNetwork}): one forward
 * pass over the vertices in the graph's topological order and one backward pass in reverse, keeping each layer
 * vertex's input and output error so that every layer with parameters hands over its per-example gradients
 * ({@link FastLayerPath}). Layer vertices run their input preprocessor, {@code activate(input, true)} (or the path's
 * own forward pass) and the path's backward step; layers without parameters DL4J's {@code backpropGradient}; every
 * other vertex (merge, element-wise, subset, ...) DL4J's own {@code doForward} and {@code doBackward}. The error
 * arriving at a vertex that feeds several others is the sum of what each passes back, as in DL4J's backpropagation.
 * Masks are set by the graph's own {@code setLayerMaskArrays}.
 */
final class GraphFastBackprop {

    private GraphFastBackprop() {
    }

    /**
     * Why the fast path cannot run {@code graph}, one entry per vertex ("vertex "lstm" (LSTM) has no fast path");
     * empty when it can.
     */
    static List<String> uncovered(ComputationGraph graph) {
        List<String> out = new ArrayList<>();
        GraphVertex[] vertices = graph.getVertices();
        for (int k : graph.topologicalSortOrder()) {
            GraphVertex v = vertices[k];
            if (!v.hasLayer()) {
                continue;
            }
            if (!(v instanceof LayerVertex)) {
                out.add(PerExampleGradients.describe(graph, k) + " is a " + v.getClass().getSimpleName()
                        + ", not a LayerVertex");
            } else if (v.getLayer().numParams() > 0 && FastBackprop.path(v.getLayer()) == null) {
                out.add(PerExampleGradients.describe(graph, k) + " has no fast path");
            }
        }
        for (String name : graph.getConfiguration().getNetworkOutputs()) {
            GraphVertex v = graph.getVertex(name);
            int k = v.getVertexIndex();
            if (!v.hasLayer() || !(v.getLayer() instanceof IOutputLayer)) {
                out.add(PerExampleGradients.describe(graph, k) + " is a network output but not an output layer");
            } else if (v.getOutputVertices() != null && v.getOutputVertices().length > 0) {
                out.add(PerExampleGradients.describe(graph, k) + " is a network output that also feeds other "
                        + "vertices");
            }
        }
        return out;
    }

    /** The per-example gradients of every vertex, indexed as {@code graph.getVertices()} (null without params). */
    static LayerPerExample[] run(ComputationGraph graph, MultiDataSet batch) {
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        GraphVertex[] vertices = graph.getVertices();
        int[] order = graph.topologicalSortOrder();
        INDArray[] features = batch.getFeatures();
        int b = (int) features[0].size(0);
        graph.setLayerMaskArrays(batch.getFeaturesMaskArrays(), batch.getLabelsMaskArrays());
        try {
            boolean[] paramsAbove = paramsUpstream(graph, order);
            ExampleRows[] rowsIn = forward(graph, order, features, b, mgr);
            List<String> outputs = graph.getConfiguration().getNetworkOutputs();
            LayerPerExample[] out = new LayerPerExample[vertices.length];
            INDArray[] eps = new INDArray[vertices.length];
            for (int p = order.length - 1; p >= 0; p--) {
                int k = order[p];
                GraphVertex v = vertices[k];
                if (v.isInputVertex() || !(v.numParams() > 0 || paramsAbove[k])) {
                    continue;
                }
                int output = outputs.indexOf(v.getVertexName());
                INDArray epsilon = eps[k];
                if (output < 0 && epsilon == null) {
                    throw new IllegalStateException(PerExampleGradients.describe(graph, k) + " received no error "
                            + "from the vertices it feeds: the fast path cannot compute the gradients above it");
                }
                INDArray[] below;
                if (v.hasLayer()) {
                    Layer layer = v.getLayer();
                    INDArray labels = output < 0 ? null : batch.getLabels(output);
                    INDArray labelMask = output < 0 || batch.getLabelsMaskArrays() == null ? null
                            : batch.getLabelsMaskArray(output);
                    INDArray e;
                    if (layer.numParams() > 0) {
                        FastLayerPath.Step step = FastBackprop.path(layer).backward(layer, epsilon,
                                new FastLayerPath.FastBatch(b, labels, labelMask, rowsIn[k], paramsAbove[k]));
                        out[k] = step.gradients();
                        e = step.epsilonBelow();
                    } else {
                        if (output >= 0) {
                            ((IOutputLayer) layer).setLabels(labels);
                        }
                        e = layer.backpropGradient(epsilon, mgr).getSecond();
                    }
                    if (!paramsAbove[k]) {
                        continue;
                    }
                    if (e == null) {
                        throw new IllegalStateException(PerExampleGradients.describe(graph, k) + " passes no error "
                                + "to the vertices below it, which have parameters upstream: the fast path cannot "
                                + "compute their gradients");
                    }
                    InputPreProcessor pre = ((LayerVertex) v).getLayerPreProcessor();
                    below = new INDArray[] {pre == null ? e : pre.backprop(e, b, mgr)};
                } else {
                    v.setEpsilon(epsilon);
                    below = v.doBackward(false, mgr).getSecond();
                }
                VertexIndices[] inputs = v.getInputVertices();
                for (int j = 0; j < inputs.length; j++) {
                    int u = inputs[j].getVertexIndex();
                    if (below[j] == null || vertices[u].isInputVertex()
                            || !(vertices[u].numParams() > 0 || paramsAbove[u])) {
                        continue;
                    }
                    eps[u] = eps[u] == null ? below[j].dup() : eps[u].add(below[j]);
                }
            }
            return out;
        } finally {
            graph.clearLayerMaskArrays();
            for (GraphVertex v : vertices) {
                v.clear();
                if (v.hasLayer()) {
                    v.getLayer().clear();
                }
            }
        }
    }

    /** Whether two row labellings are the same (both non-null). */
    private static boolean same(ExampleRows a, ExampleRows c) {
        if (c == null || a.examples() != c.examples() || !java.util.Arrays.equals(a.order(), c.order())) {
            return false;
        }
        for (int i = 0; i < a.examples(); i++) {
            if (a.start(i) != c.start(i)) {
                return false;
            }
        }
        return true;
    }

    /** Per vertex: whether any vertex it depends on (directly or not) has parameters. */
    private static boolean[] paramsUpstream(ComputationGraph graph, int[] order) {
        GraphVertex[] vertices = graph.getVertices();
        boolean[] out = new boolean[vertices.length];
        for (int k : order) {
            VertexIndices[] inputs = vertices[k].getInputVertices();
            if (inputs == null) {
                continue;
            }
            for (VertexIndices in : inputs) {
                int u = in.getVertexIndex();
                out[k] |= vertices[u].numParams() > 0 || out[u];
            }
        }
        return out;
    }

    /**
     * Runs the forward pass in topological order; returns, per layer vertex, which example each row of its 2-D
     * input (after its preprocessor) belongs to (null for other inputs).
     */
    private static ExampleRows[] forward(ComputationGraph graph, int[] order, INDArray[] features, int b,
                                         LayerWorkspaceMgr mgr) {
        GraphVertex[] vertices = graph.getVertices();
        List<String> inputNames = graph.getConfiguration().getNetworkInputs();
        INDArray[] act = new INDArray[vertices.length];
        ExampleRows[] rowsOut = new ExampleRows[vertices.length];
        ExampleRows[] rowsIn = new ExampleRows[vertices.length];
        for (int k : order) {
            GraphVertex v = vertices[k];
            if (v.isInputVertex()) {
                act[k] = features[inputNames.indexOf(v.getVertexName())];
                rowsOut[k] = act[k].rank() == 2 && act[k].size(0) == b ? ExampleRows.identity(b) : null;
                continue;
            }
            VertexIndices[] inputs = v.getInputVertices();
            if (v.hasLayer()) {
                int u = inputs[0].getVertexIndex();
                INDArray x = act[u];
                ExampleRows rows = rowsOut[u];
                InputPreProcessor pre = ((LayerVertex) v).getLayerPreProcessor();
                if (pre != null) {
                    INDArray y = pre.preProcess(x, b, mgr);
                    rows = y.rank() != 2 ? null
                            : y.size(0) == b ? ExampleRows.identity(b)
                            : ExampleRows.of(b, FastBackprop.exampleOfRows(pre, x, b, mgr));
                    x = y;
                }
                rowsIn[k] = rows;
                Layer layer = v.getLayer();
                if (rows == null && x.rank() == 2 && layer.numParams() > 0) {
                    throw new FastLayerPath.NotApplicable(PerExampleGradients.describe(graph, k) + " takes rows whose "
                            + "examples the fast path cannot follow through the vertices above it");
                }
                layer.setInputMiniBatchSize(b);
                FastLayerPath path = layer.numParams() > 0 ? FastBackprop.path(layer) : null;
                INDArray y = path != null ? path.activate(layer, x, mgr) : layer.activate(x, true, mgr);
                rowsOut[k] = y.rank() != 2 ? null
                        : rows != null && y.size(0) == x.size(0) ? rows
                        : y.size(0) == b ? ExampleRows.identity(b) : null;
                act[k] = y;
            } else {
                ExampleRows rows = rowsOut[inputs[0].getVertexIndex()];
                boolean onePerExample = true;
                for (int j = 0; j < inputs.length; j++) {
                    int u = inputs[j].getVertexIndex();
                    v.setInput(j, act[u], mgr);
                    rows = rows != null && same(rows, rowsOut[u]) ? rows : null;
                    onePerExample &= act[u].size(0) == b;
                }
                INDArray y = v.doForward(true, mgr);
                long inRows = act[inputs[0].getVertexIndex()].size(0);
                // rows kept: same rows in, same count out (merge, element-wise, subset, scale, ...); or one row
                // per example in and out (last time step, pooling, ...); otherwise unknown
                rowsOut[k] = y.rank() != 2 ? null
                        : rows != null && y.size(0) == inRows ? rows
                        : onePerExample && y.size(0) == b ? ExampleRows.identity(b) : null;
                act[k] = y;
            }
        }
        return rowsIn;
    }
}
