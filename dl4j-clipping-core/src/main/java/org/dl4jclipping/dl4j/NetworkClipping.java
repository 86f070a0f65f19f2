package org.dl4jclipping.dl4j;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.ClipRule;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.GradientLayout;
import org.dl4jclipping.engine.ParamGradient;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * The clipping of one network: its layout of trainable parameters read from DL4J's updater blocks, one
 * {@link ClipRule} per distinct strategy, and the {@link ClippingGradientUpdater}s to arm each step.
 *
 * <p>Built on the first step and rebuilt when the network's updater object changes (after {@code setUpdater},
 * {@code clear()}, a restore into the same object). Every parameter view comes from the updater blocks, so the
 * layout is exactly what DL4J will update.
 */
final class NetworkClipping {

    private final WeakReference<BaseMultiLayerUpdater<?>> updater; // weak: the updater holds the network
    private final GradientLayout layout;
    private final Clipper clipper;
    private final List<ClippingGradientUpdater> gradientUpdaters;
    private final boolean miniBatch;

    private NetworkClipping(BaseMultiLayerUpdater<?> updater, GradientLayout layout, Clipper clipper,
                            List<ClippingGradientUpdater> gradientUpdaters, boolean miniBatch) {
        this.updater = new WeakReference<>(updater);
        this.layout = layout;
        this.clipper = clipper;
        this.gradientUpdaters = gradientUpdaters;
        this.miniBatch = miniBatch;
    }

    /** The updater of a MultiLayerNetwork or ComputationGraph (created if it does not exist yet). */
    static BaseMultiLayerUpdater<?> updaterOf(Model model) {
        if (model instanceof MultiLayerNetwork net) {
            return (BaseMultiLayerUpdater<?>) net.getUpdater();
        }
        if (model instanceof ComputationGraph graph) {
            return graph.getUpdater();
        }
        throw new IllegalArgumentException("ClippingListener supports MultiLayerNetwork and ComputationGraph, not "
                + model.getClass().getName());
    }

    static long iterationOf(Model model) {
        if (model instanceof MultiLayerNetwork net) {
            return net.getIterationCount();
        }
        return ((ComputationGraph) model).getIterationCount();
    }

    /** Whether this clipping still matches the network's current updater. */
    boolean matches(BaseMultiLayerUpdater<?> current) {
        return current == updater.get();
    }

    /** Reads the layout and the strategies from the network's updater blocks. */
    static NetworkClipping of(Model model) {
        BaseMultiLayerUpdater<?> updater = updaterOf(model);
        boolean miniBatch = model.conf().isMiniBatch();
        GradientLayout.Builder layout = GradientLayout.builder();
        Map<ClipStrategy, List<Integer>> members = new LinkedHashMap<>();
        Map<ClippingGradientUpdater, Boolean> gradientUpdaters = new IdentityHashMap<>();
        Map<ClipStrategy, INDArray> states = new LinkedHashMap<>();
        Map<ClipStrategy, List<INDArray>> parameterStates = new LinkedHashMap<>();
        outputLayers(model).forEach(layout::outputLayer);
        int index = 0;
        for (UpdaterBlock block : updater.getUpdaterBlocks()) {
            List<UpdaterBlock.ParamState> inBlock = block.getLayersAndVariablesInBlock();
            for (int k = 0; k < inBlock.size(); k++) {
                UpdaterBlock.ParamState ps = inBlock.get(k);
                Trainable layer = ps.getLayer();
                String param = ps.getParamName();
                IUpdater config = layer.getConfig().getUpdaterByParam(param);
                if (config instanceof NoOp || ps.getGradView().length() == 0) {
                    continue; // not trained: BatchNorm statistics, frozen layers
                }
                String name = layerName(layer);
                INDArray values = shapedParam(layer, param, ps.getParamView());
                INDArray grad = shapedLike(ps.getGradView(), values);
                boolean summed = miniBatch && layer.updaterDivideByMinibatch(param);
                layout.add(new ParamGradient(name, param, grad, values, summed, isWeight(layer, param, grad)));
                if (config instanceof ClippingUpdater clipping) {
                    rejectDl4jNormalization(layer, name, clipping);
                    members.computeIfAbsent(clipping.getStrategy(), s -> new ArrayList<>()).add(index);
                    GradientUpdater<?> gu = block.getGradientUpdater();
                    if (gu instanceof ClippingGradientUpdater cgu) {
                        gradientUpdaters.put(cgu, Boolean.TRUE);
                        if (cgu.stateful()) {
                            ClipStrategy strategy = clipping.getStrategy();
                            int ruleSize = strategy.stateSize();
                            int parameterSize = strategy.parameterStateSize();
                            if (ruleSize > 0) {
                                // the last slot of the rule's first block keeps the rule's adaptive state
                                states.putIfAbsent(strategy, cgu.slot(inBlock.size() - 1, inBlock.size())
                                        .get(NDArrayIndex.interval(0, ruleSize)));
                            }
                            if (parameterSize > 0) {
                                parameterStates.computeIfAbsent(strategy, x -> new ArrayList<>()).add(
                                        cgu.slot(k, inBlock.size()).get(NDArrayIndex.interval(ruleSize,
                                                ruleSize + parameterSize)));
                            }
                        }
                    }
                }
                index++;
            }
        }
        GradientLayout built = layout.build();
        List<ClipRule> rules = new ArrayList<>();
        members.forEach((strategy, idx) -> {
            ClipRule rule = new ClipRule(strategy, idx.stream().mapToInt(Integer::intValue).toArray(), built);
            if (states.containsKey(strategy)) {
                rule.attachState(states.get(strategy));
            }
            List<INDArray> own = parameterStates.getOrDefault(strategy, List.of());
            for (int k = 0; k < own.size(); k++) {
                rule.attachParameterState(k, own.get(k)); // members in the order they were added
            }
            rules.add(rule);
        });
        return new NetworkClipping(updater, built, new Clipper(rules, built),
                List.copyOf(gradientUpdaters.keySet()), miniBatch);
    }

    /**
     * DL4J's own {@code GradientNormalization} on a layer we clip would run after our clipping, inside the updater,
     * so the update would not be what our report says: refuse it, naming both and what to remove.
     */
    private static void rejectDl4jNormalization(Trainable layer, String name, ClippingUpdater clipping) {
        GradientNormalization normalization = layer.getConfig().getGradientNormalization();
        if (normalization != null && normalization != GradientNormalization.None) {
            throw new IllegalStateException("Layer '" + name + "' is clipped twice: DL4J's gradientNormalization("
                    + normalization + ", threshold " + layer.getConfig().getGradientNormalizationThreshold()
                    + ") and this library's ClippingUpdater (" + clipping.getStrategy() + "). DL4J would apply its "
                    + "normalization after ours, so the update would not be the one the clipping report describes. "
                    + "Remove .gradientNormalization(...) and .gradientNormalizationThreshold(...) from the layer "
                    + "and from the global NeuralNetConfiguration.Builder, or give the layer a plain updater.");
        }
    }

    /** Whether DL4J's parameter initializer calls {@code param} a weight (units for AGC), by key, not shape. */
    private static boolean isWeight(Trainable layer, String param, INDArray grad) {
        if (layer instanceof Layer l && l.conf() != null && l.conf().getLayer() != null) {
            org.deeplearning4j.nn.conf.layers.Layer conf = l.conf().getLayer();
            return conf.initializer().isWeightParam(conf, param);
        }
        return ParamGradient.isWeightByName(param, grad);
    }

    /**
     * The parameter in its own shape ({@code [nIn, nOut]}, {@code [out, in, kh, kw]}, ...), as the layer's
     * parameter table holds it: unit-wise strategies need the shape; the updater block's view is a flat row.
     */
    private static INDArray shapedParam(Trainable layer, String param, INDArray flat) {
        INDArray shaped = layer.paramTable(false).get(param);
        return shaped != null && shaped.length() == flat.length() && sameMemory(shaped, flat) ? shaped : flat;
    }

    /**
     * The flat gradient row viewed in the parameter's shape and order (DL4J lays out a parameter's gradient in the
     * flattened gradient exactly as the parameter in the flattened parameters), or the flat row when ND4J could
     * only give a copy.
     */
    private static INDArray shapedLike(INDArray flatGrad, INDArray values) {
        if (values.rank() == flatGrad.rank() && java.util.Arrays.equals(values.shape(), flatGrad.shape())) {
            return flatGrad;
        }
        INDArray shaped = flatGrad.reshape(values.ordering(), values.shape());
        return sameMemory(shaped, flatGrad) ? shaped : flatGrad;
    }

    private static boolean sameMemory(INDArray a, INDArray b) {
        return a.data().addressPointer().address() == b.data().addressPointer().address();
    }

    /** MultiLayerNetwork: the last layer; ComputationGraph: the layers named as network outputs. */
    private static List<String> outputLayers(Model model) {
        if (model instanceof MultiLayerNetwork net) {
            Layer[] layers = net.getLayers();
            return layers.length == 0 ? List.of() : List.of(layerName(layers[layers.length - 1]));
        }
        return ((ComputationGraph) model).getConfiguration().getNetworkOutputs();
    }

    private static String layerName(Trainable layer) {
        String name = layer.getConfig().getLayerName();
        if (name == null && layer instanceof Layer l) {
            name = String.valueOf(l.getIndex());
        }
        return name;
    }

    /** Clips the step's gradient (still the minibatch sum) and arms the block updaters. */
    ClipReport clip(Model model) {
        double divisor = miniBatch ? Math.max(1, model.batchSize()) : 1.0;
        long iteration = iterationOf(model);
        ClipReport report = clipper.clip(iteration, divisor, model.score());
        for (ClippingGradientUpdater gu : gradientUpdaters) {
            gu.arm(iteration, report.skipped());
        }
        return report;
    }

    /** Sets every trainable gradient of the step to 0 (a skipped step: no NaN reaches any updater). */
    void zeroGradients() {
        for (ParamGradient p : layout.params()) {
            p.gradient().assign(0);
        }
    }

    GradientLayout layout() {
        return layout;
    }
}
