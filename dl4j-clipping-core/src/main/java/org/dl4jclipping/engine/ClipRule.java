package org.dl4jclipping.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A strategy and the parameters it applies to: how one network clips different layers differently (a tighter
 * norm on the recurrent layers, value clipping on the embedding, ...). Within a rule, {@link Scope#GLOBAL}
 * means every member of the rule, {@link Scope#LAYER} each member layer, {@link Scope#PARAMETER} each member.
 * When one strategy covers the whole network, its only rule holds every trainable parameter.
 *
 * <p>A rule also holds the state of its stateful strategies (AutoClip's history, ZClip's statistics): one flat
 * array of {@link ClipStrategy#stateSize()} elements, split among the strategies of a chain in order. By default
 * the rule owns a fresh double array; an integration can {@link #attachState(INDArray) attach} a view of its own
 * storage instead (DL4J's updater state, which checkpoints save).
 */
public final class ClipRule {

    private final ClipStrategy strategy;
    private final int[] members;
    private final int[][] parameterGroups;
    private final int[][] layerGroups;
    private final int[][] globalGroup;
    private final List<ClipStrategy> stateful = new ArrayList<>();
    private final List<Long> offsets = new ArrayList<>();
    private INDArray[] stateViews;
    private final List<ClipStrategy> parameterStateful = new ArrayList<>();
    private final List<Long> parameterOffsets = new ArrayList<>();
    private final int[] memberOf;              // layout index -> position in members, or -1
    private final INDArray[][] parameterViews; // [strategy][member position]

    /**
     * A rule applying {@code strategy} to the parameters {@code members} (indices into the layout, in order).
     */
    public ClipRule(ClipStrategy strategy, int[] members, GradientLayout layout) {
        this.strategy = Objects.requireNonNull(strategy, "strategy");
        this.members = members.clone();
        for (int i : members) {
            Objects.checkIndex(i, layout.size());
        }
        Map<Integer, List<Integer>> byLayer = new LinkedHashMap<>();
        parameterGroups = new int[members.length][];
        for (int k = 0; k < members.length; k++) {
            parameterGroups[k] = new int[] {members[k]};
            byLayer.computeIfAbsent(layout.layerOf(members[k]), l -> new ArrayList<>()).add(members[k]);
        }
        layerGroups = byLayer.values().stream()
                .map(g -> g.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
        globalGroup = new int[][] {this.members};
        collectStateful(strategy, new long[1]);
        if (strategy.stateSize() > 0) {
            attachState(Nd4j.zeros(DataType.DOUBLE, strategy.stateSize()));
        }
        memberOf = new int[layout.size()];
        Arrays.fill(memberOf, -1);
        for (int k = 0; k < members.length; k++) {
            memberOf[members[k]] = k;
        }
        long offset = 0;
        for (ClipStrategy s : strategy.parts()) {
            if (s.parameterStateSize() > 0) {
                parameterStateful.add(s);
                parameterOffsets.add(offset);
                offset += s.parameterStateSize();
            }
        }
        parameterViews = new INDArray[parameterStateful.size()][members.length];
        for (int k = 0; k < members.length && offset > 0; k++) {
            attachParameterState(k, Nd4j.zeros(DataType.DOUBLE, offset));
        }
    }

    /**
     * Makes the rule keep the per-parameter state of its {@code k}-th member in {@code state}, a vector of exactly
     * {@code strategy().parameterStateSize()} elements (float or double; all zeros is the fresh state).
     */
    public void attachParameterState(int k, INDArray state) {
        long size = strategy.parameterStateSize();
        if (state == null || state.length() != size) {
            throw new IllegalArgumentException("parameter state has length " + (state == null ? "null"
                    : state.length()) + ", the strategy " + strategy + " needs " + size);
        }
        INDArray flat = state.reshape(size);
        for (int j = 0; j < parameterStateful.size(); j++) {
            long from = parameterOffsets.get(j);
            parameterViews[j][k] = flat.get(NDArrayIndex.interval(from, from + parameterStateful.get(j)
                    .parameterStateSize()));
        }
    }

    /** The per-parameter state view of a stateful strategy of this rule for layout parameter {@code i}. */
    INDArray parameterStateOf(ClipStrategy s, int i) {
        int k = memberOf[i];
        if (k < 0) {
            throw new IllegalArgumentException("parameter " + i + " is not a member of this rule");
        }
        for (int j = 0; j < parameterStateful.size(); j++) {
            if (parameterStateful.get(j) == s) {
                return parameterViews[j][k];
            }
        }
        throw new IllegalStateException("strategy " + s + " keeps no per-parameter state in this rule");
    }

    private void collectStateful(ClipStrategy strategy, long[] offset) {
        for (ClipStrategy s : strategy.parts()) {
            if (s.stateSize() == 0) {
                continue;
            }
            for (ClipStrategy seen : stateful) {
                if (seen == s) {
                    throw new IllegalArgumentException("strategy " + s + " appears twice in one chain: a stateful "
                            + "strategy needs its own instance per position");
                }
            }
            stateful.add(s);
            offsets.add(offset[0]);
            offset[0] += s.stateSize();
        }
    }

    /** A rule applying {@code strategy} to every parameter of {@code layout}. */
    public static ClipRule all(ClipStrategy strategy, GradientLayout layout) {
        int[] all = new int[layout.size()];
        Arrays.setAll(all, i -> i);
        return new ClipRule(strategy, all, layout);
    }

    /**
     * Makes the rule keep its strategies' state in {@code state}, a vector of exactly
     * {@code strategy().stateSize()} elements (float or double; all zeros is the fresh state).
     */
    public void attachState(INDArray state) {
        long size = strategy.stateSize();
        if (state == null || state.length() != size) {
            throw new IllegalArgumentException("state has length " + (state == null ? "null" : state.length())
                    + ", the strategy " + strategy + " needs " + size);
        }
        INDArray flat = state.reshape(size);
        stateViews = new INDArray[stateful.size()];
        for (int k = 0; k < stateful.size(); k++) {
            long from = offsets.get(k);
            stateViews[k] = flat.get(NDArrayIndex.interval(from, from + stateful.get(k).stateSize()));
        }
    }

    /** The state view of a stateful strategy of this rule. */
    INDArray stateOf(ClipStrategy s) {
        for (int k = 0; k < stateful.size(); k++) {
            if (stateful.get(k) == s) {
                return stateViews[k];
            }
        }
        throw new IllegalStateException("strategy " + s + " keeps no state in this rule");
    }

    /** The strategy. */
    public ClipStrategy strategy() {
        return strategy;
    }

    /** The parameter indices (shared array: do not modify). */
    int[] members() {
        return members;
    }

    /** The groups of a scope restricted to the members (shared arrays: do not modify). */
    int[][] groups(Scope scope) {
        return switch (scope) {
            case PARAMETER -> parameterGroups;
            case LAYER -> layerGroups;
            case GLOBAL -> globalGroup;
        };
    }
}
