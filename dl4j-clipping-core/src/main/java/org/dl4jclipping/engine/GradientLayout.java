package org.dl4jclipping.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The trainable parameters of one network, in order, grouped by layer: what a clipping step works on.
 *
 * <p>Immutable. Built once per network (the gradient views are stable), then reused every step. Layers keep the
 * order in which their first parameter was added; the groups of every {@link Scope} are computed here once.
 *
 * <pre>{@code
 * GradientLayout layout = GradientLayout.builder()
 *     .add("0", "W", gradW, paramW)
 *     .add("0", "b", gradB, paramB)
 *     .build();
 * }</pre>
 */
public final class GradientLayout {

    private final List<ParamGradient> params;
    private final List<String> layers;
    private final int[] layerOf;
    private final int[][] parameterGroups;
    private final int[][] layerGroups;
    private final int[][] globalGroup;
    private final java.util.Set<String> outputLayers;

    private GradientLayout(List<ParamGradient> params, java.util.Set<String> outputLayers) {
        this.params = List.copyOf(params);
        Map<String, List<Integer>> byLayer = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            byLayer.computeIfAbsent(params.get(i).layer(), k -> new ArrayList<>()).add(i);
        }
        this.layers = List.copyOf(byLayer.keySet());
        this.layerOf = new int[params.size()];
        this.layerGroups = new int[layers.size()][];
        int l = 0;
        for (List<Integer> members : byLayer.values()) {
            layerGroups[l] = members.stream().mapToInt(Integer::intValue).toArray();
            for (int i : layerGroups[l]) {
                layerOf[i] = l;
            }
            l++;
        }
        this.parameterGroups = new int[params.size()][];
        int[] all = new int[params.size()];
        for (int i = 0; i < all.length; i++) {
            parameterGroups[i] = new int[] {i};
            all[i] = i;
        }
        this.globalGroup = new int[][] {all};
        this.outputLayers = outputLayers.isEmpty() && !layers.isEmpty()
                ? java.util.Set.of(layers.get(layers.size() - 1)) : java.util.Set.copyOf(outputLayers);
    }

    /**
     * Whether layer {@code l} (an index into {@link #layers()}) is an output layer: as marked by
     * {@link Builder#outputLayer(String)}, or by default the last layer.
     */
    public boolean isOutputLayer(int l) {
        return outputLayers.contains(layers.get(l));
    }

    /** A builder that adds parameters in order. */
    public static Builder builder() {
        return new Builder();
    }

    /** Number of parameters. */
    public int size() {
        return params.size();
    }

    /** Parameter {@code i}, in the order added. */
    public ParamGradient param(int i) {
        return params.get(i);
    }

    /** All parameters, in order (unmodifiable). */
    public List<ParamGradient> params() {
        return params;
    }

    /** Layer names, in order of first appearance (unmodifiable). */
    public List<String> layers() {
        return layers;
    }

    /** Index into {@link #layers()} of parameter {@code i}'s layer. */
    public int layerOf(int i) {
        return layerOf[i];
    }

    /**
     * The groups of a scope, as arrays of parameter indices: one per parameter, one per layer, or one holding
     * every parameter. Shared arrays: callers must not modify them.
     */
    public int[][] groups(Scope scope) {
        return switch (scope) {
            case PARAMETER -> parameterGroups;
            case LAYER -> layerGroups;
            case GLOBAL -> globalGroup;
        };
    }

    /** Total number of gradient elements. */
    public long totalLength() {
        long n = 0;
        for (ParamGradient p : params) {
            n += p.gradient().length();
        }
        return n;
    }

    @Override
    public String toString() {
        return "GradientLayout" + Collections.unmodifiableList(params.stream().map(ParamGradient::key).toList());
    }

    /** Adds parameters in order; {@link #build()} freezes them. */
    public static final class Builder {
        private final List<ParamGradient> params = new ArrayList<>();
        private final java.util.Set<String> outputLayers = new java.util.LinkedHashSet<>();

        private Builder() {
        }

        /** Marks {@code layer} as an output layer (when none is marked, the last layer is). */
        public Builder outputLayer(String layer) {
            outputLayers.add(layer);
            return this;
        }

        /** Adds one parameter; {@code parameter} may be {@code null} when no strategy reads weights. */
        public Builder add(String layer, String param, INDArray gradient, INDArray parameter) {
            return add(new ParamGradient(layer, param, gradient, parameter));
        }

        /**
         * Adds one parameter whose view holds the minibatch sum of its gradient (see
         * {@link ParamGradient#batchSummed()}).
         */
        public Builder addSummed(String layer, String param, INDArray gradient, INDArray parameter) {
            return add(new ParamGradient(layer, param, gradient, parameter, true));
        }

        /** Adds one parameter. Names must be unique within a layer. */
        public Builder add(ParamGradient p) {
            for (ParamGradient q : params) {
                if (q.layer().equals(p.layer()) && q.param().equals(p.param())) {
                    throw new IllegalArgumentException("parameter " + p.key() + " was added twice");
                }
            }
            params.add(p);
            return this;
        }

        /** The immutable layout. */
        public GradientLayout build() {
            return new GradientLayout(params, outputLayers);
        }
    }
}
