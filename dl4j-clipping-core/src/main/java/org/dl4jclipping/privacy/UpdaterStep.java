package org.dl4jclipping.privacy;

import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Applies the network's own DL4J updater to the gradient already in its flattened gradient buffer, as DL4J's
 * {@code StochasticGradientDescent} does after backpropagation: the updater blocks (regularization, any
 * {@code IUpdater}: SGD, Adam, ...), then {@code params -= update}, the layers' constraints, and the iteration count
 * plus one. The gradient in the buffer is already the mean DP-SGD wants, so the updater's division by the minibatch
 * size is handed a size of 1 (an exact no-op, {@code x / 1 = x}). DL4J's {@code GradientNormalization}, if a layer
 * configures one, still runs inside the updater (post-processing: harmless for privacy, but it rescales the noisy
 * gradient; leave it off). Training listeners are not called.
 */
final class UpdaterStep {

    private UpdaterStep() {
    }

    static void apply(MultiLayerNetwork net) {
        INDArray flat = net.getFlattenedGradients();
        DefaultGradient gradient = new DefaultGradient(flat);
        for (LayerViews v : LayerViews.of(net, flat)) {
            v.byKey().forEach((key, view) -> gradient.setGradientFor(v.layer() + "_" + key, view));
        }
        Updater updater = net.getUpdater();
        if (!(updater instanceof BaseMultiLayerUpdater<?> u)) {
            throw new IllegalStateException("The network's updater is " + updater + ", not DL4J's "
                    + "MultiLayerUpdater: private training applies the updater itself and needs DL4J's own");
        }
        int iteration = net.getIterationCount();
        int epoch = net.getEpochCount();
        u.update(gradient, iteration, epoch, 1, LayerWorkspaceMgr.noWorkspaces());
        INDArray params = net.params();
        params.subi(flat.reshape(params.shape()));
        net.applyConstraints(iteration, epoch);
        net.setIterationCount(iteration + 1);
    }
}
