package org.dl4jclipping.dl4j;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.strategy.Check;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * Layer-wise clipping rules chosen by layer name, layer index or layer type, applied to a built configuration:
 * each matching layer's updater becomes a {@link ClippingUpdater} around the updater it had (replacing the
 * strategy if it already clipped). The first rule that matches a layer wins; layers no rule matches keep their
 * updater.
 *
 * <pre>{@code
 * MultiLayerConfiguration conf = LayerClipping.rules()
 *     .type(LSTM.class, Clip.layerNorm(0.5))        // every LSTM layer
 *     .name("embedding", Clip.value(1.0))
 *     .index(0, Clip.zeroOut(10))
 *     .applyTo(builder.build());
 * }</pre>
 *
 * Apply it after {@code build()} and before {@code new MultiLayerNetwork(conf)}; add the
 * {@link ClippingListener} to the network as usual. Layers whose parameters are {@code NoOp} (frozen) are left as
 * they are. Wrapper layers ({@code LastTimeStep}, {@code Bidirectional}, ...) match by their own type and name and
 * by their wrapped layer's type; the rule is applied to the layers they wrap. Parameters whose layers carry equal
 * strategies are clipped together as one rule (global norm over them).
 */
public final class LayerClipping {

    private record Rule(Predicate<Selected> matches, ClipStrategy strategy) {
    }

    private record Selected(String name, int index, Layer layer) {
    }

    private final List<Rule> rules = new ArrayList<>();

    private LayerClipping() {
    }

    /** An empty set of rules. */
    public static LayerClipping rules() {
        return new LayerClipping();
    }

    /** Layers named {@code name} (MultiLayerNetwork layers are named {@code layer0}, {@code layer1}, ...). */
    public LayerClipping name(String name, ClipStrategy strategy) {
        Check.notNull("name", name);
        return add(s -> name.equals(s.name()), strategy);
    }

    /** The layer at {@code index} (MultiLayerNetwork; in a ComputationGraph the vertex order). */
    public LayerClipping index(int index, ClipStrategy strategy) {
        Check.atLeast("index", index, 0);
        return add(s -> s.index() == index, strategy);
    }

    /** Layers of {@code type} (a DL4J layer configuration class such as {@code LSTM.class}), or wrapping one. */
    public LayerClipping type(Class<? extends Layer> type, ClipStrategy strategy) {
        Check.notNull("type", type);
        return add(s -> isOrWraps(s.layer(), type), strategy);
    }

    /** Every layer that no earlier rule matched. */
    public LayerClipping otherwise(ClipStrategy strategy) {
        return add(s -> true, strategy);
    }

    private LayerClipping add(Predicate<Selected> matches, ClipStrategy strategy) {
        rules.add(new Rule(matches, Check.notNull("strategy", strategy)));
        return this;
    }

    /** Applies the rules to every layer of {@code conf}; returns {@code conf}. */
    public MultiLayerConfiguration applyTo(MultiLayerConfiguration conf) {
        for (int i = 0; i < conf.getConfs().size(); i++) {
            Layer layer = conf.getConf(i).getLayer();
            String name = layer.getLayerName() != null ? layer.getLayerName() : "layer" + i;
            apply(new Selected(name, i, layer));
        }
        return conf;
    }

    /** Applies the rules to every layer vertex of {@code conf}; returns {@code conf}. */
    public ComputationGraphConfiguration applyTo(ComputationGraphConfiguration conf) {
        int index = 0;
        for (var e : conf.getVertices().entrySet()) {
            GraphVertex v = e.getValue();
            if (v instanceof LayerVertex lv) {
                apply(new Selected(e.getKey(), index, lv.getLayerConf().getLayer()));
            }
            index++;
        }
        return conf;
    }

    private void apply(Selected s) {
        for (Rule r : rules) {
            if (r.matches().test(s)) {
                setStrategy(s.layer(), r.strategy());
                return;
            }
        }
    }

    private static boolean isOrWraps(Layer layer, Class<? extends Layer> type) {
        if (type.isInstance(layer)) {
            return true;
        }
        if (layer instanceof BaseWrapperLayer w) {
            return isOrWraps(w.getUnderlying(), type);
        }
        if (layer instanceof Bidirectional b) {
            return isOrWraps(b.getFwd(), type);
        }
        return false;
    }

    private static void setStrategy(Layer layer, ClipStrategy strategy) {
        if (layer instanceof FrozenLayer) {
            return;
        }
        if (layer instanceof BaseWrapperLayer w) {
            setStrategy(w.getUnderlying(), strategy);
        } else if (layer instanceof Bidirectional b) {
            setStrategy(b.getFwd(), strategy);
            setStrategy(b.getBwd(), strategy);
        } else if (layer instanceof BaseLayer base) {
            base.setIUpdater(wrap(base.getIUpdater(), strategy));
            if (base.getBiasUpdater() != null) {
                base.setBiasUpdater(wrap(base.getBiasUpdater(), strategy));
            }
        }
    }

    private static IUpdater wrap(IUpdater current, ClipStrategy strategy) {
        if (current == null || current instanceof NoOp) {
            return current;
        }
        IUpdater inner = current instanceof ClippingUpdater c ? c.getUpdater() : current;
        return new ClippingUpdater(inner, strategy);
    }
}
