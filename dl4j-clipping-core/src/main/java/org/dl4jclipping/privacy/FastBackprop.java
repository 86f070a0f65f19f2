package org.dl4jclipping.privacy;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The fast path: one forward pass and one backward pass over a {@code MultiLayerNetwork}, run layer by layer as
 * {@code MultiLayerNetwork} runs them (input preprocessors, masks, {@code activate(input, true)},
 * {@code backpropGradient}), but keeping each layer's input and output error so that every layer with parameters
 * hands over its per-example gradients ({@link FastLayerPath}). Layers without parameters pass the error down through
 * DL4J's own {@code backpropGradient}.
 *
 * <p>Which example each row of a flattened time series belongs to is found by passing an array of example indices
 * through the same preprocessor, so any row order DL4J chooses is followed.
 */
final class FastBackprop {

    /** The fast paths, tried in order: the built-in ones, then those other modules provide as services. */
    static final List<FastLayerPath> PATHS = paths();

    private FastBackprop() {
    }

    /**
     * Why the fast path cannot run {@code net}, one entry per layer ("layer 1 (lstm): LSTM has no fast path");
     * empty when it can.
     */
    static List<String> uncovered(MultiLayerNetwork net) {
        List<String> out = new ArrayList<>();
        Layer[] layers = net.getLayers();
        for (int k = 0; k < layers.length; k++) {
            if (layers[k].numParams() > 0 && path(layers[k]) == null) {
                out.add(PerExampleGradients.describe(net, k) + " has no fast path");
            }
        }
        if (!(layers[layers.length - 1] instanceof IOutputLayer)) {
            out.add(PerExampleGradients.describe(net, layers.length - 1) + " is not an output layer");
        }
        return out;
    }

    private static List<FastLayerPath> paths() {
        List<FastLayerPath> out = new ArrayList<>(List.of(new DensePath(), new RnnOutputPath(), new EmbeddingPath()));
        ServiceLoader.load(FastLayerPath.class, FastBackprop.class.getClassLoader()).forEach(out::add);
        return List.copyOf(out);
    }

    static FastLayerPath path(Layer layer) {
        for (FastLayerPath p : PATHS) {
            if (p.handles(layer)) {
                return p;
            }
        }
        return null;
    }

    /** The per-example gradients of every layer ({@code null} where a layer has no parameters). */
    static LayerPerExample[] run(MultiLayerNetwork net, DataSet batch) {
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        Layer[] layers = net.getLayers();
        INDArray features = batch.getFeatures();
        int b = (int) features.size(0);
        net.setLayerMaskArrays(batch.getFeaturesMaskArray(), batch.getLabelsMaskArray());
        try {
            ExampleRows[] rowsIn = forward(net, features, b, mgr);
            LayerPerExample[] out = new LayerPerExample[layers.length];
            INDArray eps = null;
            for (int k = layers.length - 1; k >= 0; k--) {
                Layer layer = layers[k];
                if (layer.numParams() > 0) {
                    FastLayerPath.Step step = path(layer).backward(layer, eps, new FastLayerPath.FastBatch(b,
                            batch.getLabels(), batch.getLabelsMaskArray(), rowsIn[k], hasParamsBelow(layers, k)));
                    out[k] = step.gradients();
                    eps = step.epsilonBelow();
                } else {
                    if (k == layers.length - 1) {
                        ((IOutputLayer) layer).setLabels(batch.getLabels());
                    }
                    eps = layer.backpropGradient(eps, mgr).getSecond();
                }
                if (k == 0 || !hasParamsBelow(layers, k)) {
                    break;
                }
                if (eps == null) {
                    throw new IllegalStateException(PerExampleGradients.describe(net, k) + " passes no error to the "
                            + "layers below it, which have parameters: the fast path cannot compute their gradients");
                }
                InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(k);
                if (pre != null) {
                    eps = pre.backprop(eps, b, mgr);
                }
            }
            return out;
        } finally {
            net.clearLayerMaskArrays();
            for (Layer layer : layers) {
                layer.clear();
            }
        }
    }

    private static boolean hasParamsBelow(Layer[] layers, int k) {
        for (int j = 0; j < k; j++) {
            if (layers[j].numParams() > 0) {
                return true;
            }
        }
        return false;
    }

    /** Runs the forward pass; returns, per layer, which example each row of its 2-D input belongs to. */
    private static ExampleRows[] forward(MultiLayerNetwork net, INDArray features, int b, LayerWorkspaceMgr mgr) {
        Layer[] layers = net.getLayers();
        ExampleRows[] rowsIn = new ExampleRows[layers.length];
        INDArray x = features;
        ExampleRows rows = x.rank() == 2 ? ExampleRows.identity(b) : null;
        for (int k = 0; k < layers.length; k++) {
            InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(k);
            if (pre != null) {
                INDArray y = pre.preProcess(x, b, mgr);
                rows = y.rank() != 2 ? null
                        : y.size(0) == b ? ExampleRows.identity(b)
                        : ExampleRows.of(b, exampleOfRows(pre, x, b, mgr));
                x = y;
            }
            rowsIn[k] = rows;
            layers[k].setInputMiniBatchSize(b);
            FastLayerPath path = layers[k].numParams() > 0 ? path(layers[k]) : null;
            INDArray out = path != null ? path.activate(layers[k], x, mgr) : layers[k].activate(x, true, mgr);
            rows = out.rank() != 2 ? null
                    : rows != null && out.size(0) == x.size(0) ? rows
                    : out.size(0) == b ? ExampleRows.identity(b) : null;
            x = out;
        }
        return rowsIn;
    }

    /** Passes an array filled with each example's index through {@code pre}: the example of each output row. */
    static int[] exampleOfRows(InputPreProcessor pre, INDArray x, int b, LayerWorkspaceMgr mgr) {
        INDArray ids = x.ulike();
        for (int i = 0; i < b; i++) {
            ids.get(NDArrayIndex.point(i)).assign(i);
        }
        double[] column = pre.preProcess(ids, b, mgr).getColumn(0).toDoubleVector();
        int[] out = new int[column.length];
        for (int r = 0; r < out.length; r++) {
            out[r] = (int) column[r];
        }
        return out;
    }
}
