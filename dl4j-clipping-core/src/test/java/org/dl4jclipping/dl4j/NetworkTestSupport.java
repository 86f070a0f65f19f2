package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Helpers shared by the DL4J integration tests: bit-exact array comparison, DL4J's built-in clipping. */
final class NetworkTestSupport {

    private NetworkTestSupport() {
    }

    /** The elements of {@code a} in c order as doubles (a copy). */
    static double[] values(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    /** Asserts equal shapes and every element equal with {@code ==} (bit-identical for finite values). */
    static void assertBitIdentical(INDArray actual, INDArray expected, String what) {
        assertThat(actual.shape()).as("%s: shape", what).isEqualTo(expected.shape());
        assertThat(actual.equals(expected)).as("%s: INDArray.equals", what).isTrue();
        double[] a = values(actual);
        double[] e = values(expected);
        for (int i = 0; i < a.length; i++) {
            if (a[i] != e[i]) {
                throw new AssertionError(what + ": element " + i + " is " + a[i] + ", expected " + e[i]
                        + " (difference " + (a[i] - e[i]) + ")");
            }
        }
    }

    /** The largest |a - b| over all elements. */
    static double maxAbsDiff(INDArray a, INDArray b) {
        double[] x = values(a);
        double[] y = values(b);
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }

    /** The flattened updater state of a network (Adam's moments, ...). */
    static INDArray updaterState(Model model) {
        if (model instanceof MultiLayerNetwork net) {
            return net.getUpdater().getStateViewArray();
        }
        return ((ComputationGraph) model).getUpdater().getStateViewArray();
    }

    /** The listeners of a network. */
    static java.util.Collection<org.deeplearning4j.optimize.api.TrainingListener> listeners(Model model) {
        return model instanceof MultiLayerNetwork net ? net.getListeners()
                : ((ComputationGraph) model).getListeners();
    }

    static Layer[] layers(Model model) {
        return model instanceof MultiLayerNetwork net ? net.getLayers() : ((ComputationGraph) model).getLayers();
    }

    /**
     * Turns on DL4J's built-in {@link GradientNormalization} with {@code threshold} on every layer of an
     * initialised network that has parameters. DL4J reads it from the layer configuration at every step
     * ({@code BaseMultiLayerUpdater.preApply}), so setting it after {@code init()} is the same as setting it in
     * the builder; the tests that use this also check that it really clips.
     */
    static void useDl4jNormalization(Model model, GradientNormalization normalization, double threshold) {
        for (Layer layer : layers(model)) {
            if (layer.conf().getLayer() instanceof BaseLayer base) {
                base.setGradientNormalization(normalization);
                base.setGradientNormalizationThreshold(threshold);
            }
        }
    }

    /** The first throwable of type {@code type} in the cause chain of {@code t}, or null. */
    static <T extends Throwable> T causeOfType(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }

    /**
     * The rule state of the first stateful ClippingUpdater block of {@code net} (AutoClip's count and ring, ...):
     * the first {@code stateSize()} elements of the block's last strategy slot, a view into the updater state.
     */
    static INDArray ruleState(MultiLayerNetwork net) {
        for (org.deeplearning4j.nn.updater.UpdaterBlock b
                : ((org.deeplearning4j.nn.updater.BaseMultiLayerUpdater<?>) net.getUpdater()).getUpdaterBlocks()) {
            if (b.getGradientUpdater() instanceof ClippingGradientUpdater cgu && cgu.stateful()) {
                int v = b.getLayersAndVariablesInBlock().size();
                int size = ((ClippingUpdater) cgu.getConfig()).getStrategy().stateSize();
                return cgu.slot(v - 1, v).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, size));
            }
        }
        throw new AssertionError("no stateful ClippingUpdater block");
    }
}
