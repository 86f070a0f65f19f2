package org.dl4jclipping.constraint;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.deeplearning4j.nn.api.layers.LayerConstraint;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.dl4jclipping.strategy.Check;

/**
 * Network-wide weight clipping: adds weight constraints to every layer of a built configuration, keeping each
 * layer's own constraints.
 *
 * <pre>{@code
 * MultiLayerConfiguration conf = WeightClipping.everyLayer(builder.build(), new WeightValueClip(0.01));
 * MultiLayerNetwork net = new MultiLayerNetwork(conf);
 * net.init();
 * }</pre>
 *
 * <p>Why not DL4J's own global {@code NeuralNetConfiguration.Builder.constrainAllParameters(...)} or
 * {@code constrainWeights(...)}: in 1.0.0-M2.1 {@code LayerValidation.generalValidation} copies the global
 * all-parameter constraints by iterating the (empty) list it is filling instead of the configured one, so
 * {@code constrainAllParameters} does nothing; and it copies global constraints only into layers that have
 * none of their own, so one layer with its own {@code .constrainWeights(...)} silently loses every global
 * constraint. This class works on the built configuration instead, after DL4J's validation.
 *
 * <p>What it does, per layer with weights (DL4J's {@code initializer().weightKeys(layer)} non-empty): appends a
 * {@code clone()} of each given constraint with its parameter set to the layer's weight keys ({@code W}, and
 * {@code RW} for recurrent layers; never biases, never BatchNormalization's gamma, beta or running statistics,
 * which DL4J does not list as weights). Layers without weights are left alone. Bidirectional layers get the
 * constraints on both directions; wrapper layers (LastTimeStep, TimeDistributed, MaskZeroLayer) on the wrapped
 * layer; frozen layers ({@code FrozenLayer}, {@code FrozenLayerWithBackprop}) get none, as they are not trained
 * and DL4J never applies their constraints. Each call appends again: call it once per configuration (a repeated
 * idempotent constraint costs time, not correctness).
 *
 * <p>When: after {@code build()} and before {@code new MultiLayerNetwork(conf)} / {@code new
 * ComputationGraph(conf)}. The constraints then live in the configuration: they survive JSON,
 * {@code ModelSerializer}, {@code clone()} and ParallelWrapper workers like any layer constraint.
 */
public final class WeightClipping {

    private WeightClipping() {
    }

    /**
     * Adds {@code constraints} (on weights) to every layer with weights of {@code conf}.
     *
     * @param conf        a built configuration, changed in place
     * @param constraints the constraints to add (each layer gets its own clones), at least one
     * @return {@code conf}, for chaining
     */
    public static MultiLayerConfiguration everyLayer(MultiLayerConfiguration conf, LayerConstraint... constraints) {
        check(conf, constraints);
        for (NeuralNetConfiguration layerConf : conf.getConfs()) {
            addTo(layerConf.getLayer(), constraints);
        }
        return conf;
    }

    /**
     * Adds {@code constraints} (on weights) to every layer vertex with weights of {@code conf}.
     *
     * @param conf        a built configuration, changed in place
     * @param constraints the constraints to add (each layer gets its own clones), at least one
     * @return {@code conf}, for chaining
     */
    public static ComputationGraphConfiguration everyLayer(ComputationGraphConfiguration conf,
                                                           LayerConstraint... constraints) {
        check(conf, constraints);
        for (GraphVertex vertex : conf.getVertices().values()) {
            if (vertex instanceof LayerVertex lv) {
                addTo(lv.getLayerConf().getLayer(), constraints);
            }
        }
        return conf;
    }

    private static void check(Object conf, LayerConstraint[] constraints) {
        Check.notNull("conf", conf);
        Check.notNull("constraints", constraints);
        if (constraints.length == 0) {
            throw Check.outOfRange("constraints.length", 0, "must be >= 1");
        }
        for (int i = 0; i < constraints.length; i++) {
            Check.notNull("constraints[" + i + "]", constraints[i]);
        }
    }

    private static void addTo(Layer layer, LayerConstraint[] constraints) {
        if (layer == null || layer instanceof FrozenLayer || layer instanceof FrozenLayerWithBackprop) {
            return;
        }
        if (layer instanceof Bidirectional b) {
            addTo(b.getFwd(), constraints);
            addTo(b.getBwd(), constraints);
            return;
        }
        if (layer instanceof BaseWrapperLayer w) {
            addTo(w.getUnderlying(), constraints);
            return;
        }
        List<String> weightKeys = layer.initializer().weightKeys(layer);
        if (weightKeys.isEmpty()) {
            return;
        }
        List<LayerConstraint> all = new ArrayList<>();
        if (layer.getConstraints() != null) {
            all.addAll(layer.getConstraints());
        }
        for (LayerConstraint c : constraints) {
            LayerConstraint copy = c.clone();
            copy.setParams(new HashSet<>(weightKeys));
            all.add(copy);
        }
        layer.setConstraints(all);
    }
}
