package org.dl4jclipping.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * The trainable parameters of a network and their unclipped mean gradient for one minibatch, read straight from
 * DL4J ({@code computeGradientAndScore} on a clone, divided by the batch size as DL4J's updater does), for the
 * reference side of the integration tests. Parameters whose updater is {@code NoOp} are left out.
 */
public final class UnclippedGradient {

    /** One trainable parameter: its gradient-map key, layer index, updater, values and mean gradient. */
    public record Param(String key, int layer, IUpdater updater, double[] values, double[] meanGradient) {
    }

    public final List<Param> params = new ArrayList<>();
    /** Keys of the parameters that are not trained (NoOp). */
    public final List<String> untrained = new ArrayList<>();

    private UnclippedGradient() {
    }

    /** Reads the parameters and the mean gradient of {@code fixture}'s minibatch, without changing the network. */
    public static UnclippedGradient of(Networks.Fixture fixture) {
        Model model = fixture.model();
        UnclippedGradient u = new UnclippedGradient();
        Gradient g;
        Layer[] layers;
        boolean graph = model instanceof ComputationGraph;
        if (graph) {
            ComputationGraph cg = ((ComputationGraph) model).clone();
            cg.setInputs(fixture.multiData().getFeatures());
            cg.setLabels(fixture.multiData().getLabels());
            cg.computeGradientAndScore();
            g = cg.gradient();
            layers = cg.getLayers();
        } else {
            MultiLayerNetwork net = ((MultiLayerNetwork) model).clone();
            net.setInput(fixture.data().getFeatures());
            net.setLabels(fixture.data().getLabels());
            net.setLayerMaskArrays(fixture.data().getFeaturesMaskArray(), fixture.data().getLabelsMaskArray());
            net.computeGradientAndScore();
            g = net.gradient();
            layers = net.getLayers();
        }
        int batch = fixture.batchSize();
        Map<String, INDArray> grads = g.gradientForVariable();
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            String prefix = graph ? layer.conf().getLayer().getLayerName() : String.valueOf(l);
            for (Map.Entry<String, INDArray> e : layer.paramTable().entrySet()) {
                String key = prefix + "_" + e.getKey();
                IUpdater up = layer.conf().getLayer().getUpdaterByParam(e.getKey());
                if (up instanceof NoOp || !grads.containsKey(key)) {
                    u.untrained.add(key);
                    continue;
                }
                double[] mean = values(grads.get(key));
                boolean divide = layer.updaterDivideByMinibatch(e.getKey());
                for (int k = 0; k < mean.length; k++) {
                    mean[k] = divide ? mean[k] / batch : mean[k];
                }
                u.params.add(new Param(key, l, up, values(e.getValue()), mean));
            }
        }
        return u;
    }

    /** The mean gradients, one array per trainable parameter. */
    public double[][] gradients() {
        return params.stream().map(Param::meanGradient).toArray(double[][]::new);
    }

    /** The layer index of each trainable parameter. */
    public int[] layerOf() {
        return params.stream().mapToInt(Param::layer).toArray();
    }

    /** All values of a parameter array in c order, as doubles. */
    public static double[] values(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    /** The current values of the parameter {@code key} of {@code model} ({@code layer_param}). */
    public static double[] paramValues(Model model, String key) {
        return values(model.getParam(key));
    }
}
