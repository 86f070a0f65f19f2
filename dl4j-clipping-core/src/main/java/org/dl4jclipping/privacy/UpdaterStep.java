package org.dl4jclipping.privacy;

import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Applies the network's own DL4J updater ({@code MultiLayerUpdater}, or {@code ComputationGraphUpdater} for a graph)
 * to the gradient already in its flattened gradient buffer, as DL4J's {@code StochasticGradientDescent} does after
 * backpropagation: the updater blocks (regularization, any {@code IUpdater}: SGD, Adam, ...), then
 * {@code params -= update}, the layers' constraints, and the iteration count plus one. The gradient in the buffer is
 * already the mean DP-SGD wants, so the updater's division by the minibatch size is handed a size of 1 (an exact
 * no-op, {@code x / 1 = x}). The gradient handed to the updater names each parameter as the network's own
 * backpropagation does ({@code "<layer index>_W"}, or {@code "<vertex name>_W"} in a graph). DL4J's
 * {@code GradientNormalization}, if a layer configures one, still runs inside the updater (post-processing: harmless
 * for privacy, but it rescales the noisy gradient; leave it off). Training listeners are not called.
 */
final class UpdaterStep {

    private UpdaterStep() {
    }

    static void apply(MultiLayerNetwork net) {
        apply(DpModel.of(net));
    }

    static void apply(ComputationGraph graph) {
        apply(DpModel.of(graph));
    }

    static void apply(DpModel model) {
        INDArray flat = model.flattenedGradients();
        DefaultGradient gradient = new DefaultGradient(flat);
        for (LayerViews v : model.views(flat)) {
            String prefix = model.gradientPrefix(v.layer());
            v.byKey().forEach((key, view) -> gradient.setGradientFor(prefix + "_" + key, view));
        }
        var updater = model.dl4jUpdater();
        int iteration = model.iterationCount();
        int epoch = model.epochCount();
        updater.update(gradient, iteration, epoch, 1, LayerWorkspaceMgr.noWorkspaces());
        INDArray params = model.model().params();
        params.subi(flat.reshape(params.shape()));
        model.model().applyConstraints(iteration, epoch);
        model.setIterationCount(iteration + 1);
    }
}
