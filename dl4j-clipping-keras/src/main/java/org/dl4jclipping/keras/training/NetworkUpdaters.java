package org.dl4jclipping.keras.training;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * Puts one updater on every trained layer of an initialised network and gives the network a fresh updater state.
 *
 * <p>Every {@link BaseLayer} gets {@code updater} as its updater and no separate bias updater (Keras trains
 * biases with the same optimizer), through the wrappers DL4J's Keras import produces ({@link Bidirectional}: both
 * directions; {@link BaseWrapperLayer}s such as {@code LastTimeStep}, {@code TimeDistributed},
 * {@code MaskZeroLayer}: the wrapped layer). Layers that are not trained keep what they have: frozen layers
 * ({@link FrozenLayer}, {@link FrozenLayerWithBackprop}) and layers whose updater is {@link NoOp}. A layer with
 * parameters that is none of these fails, naming it. Then the network gets a new {@code MultiLayerUpdater} /
 * {@code ComputationGraphUpdater}: the state of the previous updater (from DL4J's import, a different optimizer)
 * is dropped, and the new state starts as DL4J initialises it, or at {@code initialState} everywhere when given
 * (the updaters whose Keras state starts elsewhere, see {@link UpdaterMapping#initialState()}).
 */
public final class NetworkUpdaters {

    private NetworkUpdaters() {
    }

    /**
     * Installs {@code updater} on every trained layer of {@code net}.
     *
     * @return the names of the layers that got it, in order (a Bidirectional layer counts once)
     * @throws IllegalStateException if {@code net} is not initialised, or a layer with parameters cannot take it
     */
    public static List<String> install(MultiLayerNetwork net, IUpdater updater, Double initialState) {
        if (net.getLayers() == null) {
            throw new IllegalStateException("the network is not initialised: call net.init() before installing the "
                    + "Keras optimizer");
        }
        List<String> names = new ArrayList<>();
        List<NeuralNetConfiguration> confs = net.getLayerWiseConfigurations().getConfs();
        for (int i = 0; i < confs.size(); i++) {
            Layer layer = confs.get(i).getLayer();
            if (set(layer, updater, net.getLayer(i).numParams() > 0)) {
                names.add(name(layer, i));
            }
        }
        MultiLayerUpdater u = new MultiLayerUpdater(net);
        fill(u.getStateViewArray(), initialState);
        net.setUpdater(u);
        return names;
    }

    /**
     * Installs {@code updater} on every trained layer vertex of {@code graph}.
     *
     * @return the names of the layers that got it, in topological order
     * @throws IllegalStateException if {@code graph} is not initialised, or a layer with parameters cannot take it
     */
    public static List<String> install(ComputationGraph graph, IUpdater updater, Double initialState) {
        if (graph.getVertices() == null) {
            throw new IllegalStateException("the graph is not initialised: call graph.init() before installing the "
                    + "Keras optimizer");
        }
        List<String> names = new ArrayList<>();
        for (org.deeplearning4j.nn.graph.vertex.GraphVertex v : graph.getVertices()) {
            GraphVertex conf = graph.getConfiguration().getVertices().get(v.getVertexName());
            if (conf instanceof LayerVertex lv
                    && set(lv.getLayerConf().getLayer(), updater, v.hasLayer() && v.getLayer().numParams() > 0)) {
                names.add(v.getVertexName());
            }
        }
        ComputationGraphUpdater u = new ComputationGraphUpdater(graph);
        fill(u.getStateViewArray(), initialState);
        graph.setUpdater(u);
        return names;
    }

    private static boolean set(Layer layer, IUpdater updater, boolean hasParams) {
        if (layer instanceof FrozenLayer || layer instanceof FrozenLayerWithBackprop) {
            return false;
        }
        if (layer instanceof Bidirectional b) {
            boolean f = set(b.getFwd(), updater, hasParams);
            boolean w = set(b.getBwd(), updater, hasParams);
            return f || w;
        }
        if (layer instanceof BaseWrapperLayer w) {
            return set(w.getUnderlying(), updater, hasParams);
        }
        if (layer instanceof BaseLayer b) {
            if (b.getIUpdater() instanceof NoOp) {
                return false;
            }
            b.setIUpdater(updater.clone());
            b.setBiasUpdater(null);
            return true;
        }
        if (hasParams) {
            throw new IllegalStateException("layer " + layer.getLayerName() + " (" + layer.getClass().getSimpleName()
                    + ") has parameters but no updater setting this import knows: the Keras optimizer cannot be "
                    + "installed on it. Set its updater yourself, or freeze it");
        }
        return false;
    }

    private static void fill(INDArray state, Double initialState) {
        if (initialState != null && state != null) {
            state.assign(initialState);
        }
    }

    private static String name(Layer layer, int index) {
        return layer.getLayerName() != null ? layer.getLayerName() : "layer" + index;
    }
}
