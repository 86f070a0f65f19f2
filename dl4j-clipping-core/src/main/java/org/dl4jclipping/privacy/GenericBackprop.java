package org.dl4jclipping.privacy;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The generic exact path: each example alone through DL4J's own {@code computeGradientAndScore} (its features,
 * labels and masks, of every input and output of a graph, cut to that one example), its gradient copied out. Works
 * for every layer whose gradient for one example does not depend on the others; costs one forward and one backward
 * pass per example. It is also the reference the fast paths are tested against.
 */
final class GenericBackprop {

    private GenericBackprop() {
    }

    /** Per layer (null where a layer has no parameters), the per-example gradients as a [B, n] matrix. */
    static LayerPerExample[] run(MultiLayerNetwork net, DataSet batch) {
        int b = batch.getFeatures() == null ? 0 : (int) batch.getFeatures().size(0);
        INDArray g = Nd4j.create(net.params().dataType(), b, net.numParams());
        try {
            for (int i = 0; i < b; i++) {
                net.setInput(example(batch.getFeatures(), i));
                net.setLabels(example(batch.getLabels(), i));
                net.setLayerMaskArrays(example(batch.getFeaturesMaskArray(), i),
                        example(batch.getLabelsMaskArray(), i));
                net.computeGradientAndScore();
                g.getRow(i).assign(net.getFlattenedGradients().reshape(net.numParams()));
            }
        } finally {
            net.clearLayerMaskArrays();
            net.clear();
        }
        return split(DpModel.of(net), g);
    }

    /**
     * Per layer vertex (indexed as {@code graph.getVertices()}, null where a vertex has no parameters), the
     * per-example gradients as a [B, n] matrix.
     */
    static LayerPerExample[] run(ComputationGraph graph, MultiDataSet batch) {
        int b = PerExampleGradients.batchSize(batch);
        INDArray g = Nd4j.create(graph.params().dataType(), b, graph.numParams());
        try {
            for (int i = 0; i < b; i++) {
                graph.setInputs(examples(batch.getFeatures(), i));
                graph.setLabels(examples(batch.getLabels(), i));
                graph.setLayerMaskArrays(examples(batch.getFeaturesMaskArrays(), i),
                        examples(batch.getLabelsMaskArrays(), i));
                graph.computeGradientAndScore();
                g.getRow(i).assign(graph.getFlattenedGradients().reshape(graph.numParams()));
            }
        } finally {
            graph.clearLayerMaskArrays();
            graph.clear();
        }
        return split(DpModel.of(graph), g);
    }

    private static LayerPerExample[] split(DpModel model, INDArray g) {
        LayerPerExample[] out = new LayerPerExample[model.slots()];
        for (LayerViews v : model.views(Nd4j.create(model.dataType(), 1, model.numParams()))) {
            out[v.layer()] = new MatrixRows(g.get(NDArrayIndex.all(),
                    NDArrayIndex.interval(v.offset(), v.offset() + v.flat().length())).dup());
        }
        return out;
    }

    /** Example {@code i} of {@code x} as a batch of one (rank kept); null stays null. */
    static INDArray example(INDArray x, int i) {
        if (x == null) {
            return null;
        }
        return x.get(NDArrayIndex.interval(i, i + 1)).dup();
    }

    /** Example {@code i} of each array (null arrays stay null; a null array of arrays stays null). */
    static INDArray[] examples(INDArray[] xs, int i) {
        if (xs == null) {
            return null;
        }
        INDArray[] out = new INDArray[xs.length];
        for (int k = 0; k < xs.length; k++) {
            out[k] = example(xs[k], i);
        }
        return out;
    }
}
