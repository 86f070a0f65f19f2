package org.dl4jclipping.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.dl4jclipping.strategy.ClipStrategy;
import org.dl4jclipping.strategy.Scope;

/**
 * A strategy and the parameters it applies to: how one network clips different layers differently (a tighter
 * norm on the recurrent layers, value clipping on the embedding, ...). Within a rule, {@link Scope#GLOBAL}
 * means every member of the rule, {@link Scope#LAYER} each member layer, {@link Scope#PARAMETER} each member.
 * When one strategy covers the whole network, its only rule holds every trainable parameter.
 */
public final class ClipRule {

    private final ClipStrategy strategy;
    private final int[] members;
    private final int[][] parameterGroups;
    private final int[][] layerGroups;
    private final int[][] globalGroup;

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
    }

    /** A rule applying {@code strategy} to every parameter of {@code layout}. */
    public static ClipRule all(ClipStrategy strategy, GradientLayout layout) {
        int[] all = new int[layout.size()];
        Arrays.setAll(all, i -> i);
        return new ClipRule(strategy, all, layout);
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
