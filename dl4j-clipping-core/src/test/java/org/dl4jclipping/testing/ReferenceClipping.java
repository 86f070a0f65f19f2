package org.dl4jclipping.testing;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Scope;
import org.dl4jclipping.strategy.AdaGC;
import org.dl4jclipping.strategy.ClipByNorm;
import org.dl4jclipping.strategy.ClipByValue;
import org.dl4jclipping.strategy.ClipChain;
import org.dl4jclipping.strategy.NonFinitePolicy;
import org.dl4jclipping.strategy.SkipSpikes;
import org.dl4jclipping.strategy.ZeroOut;

/**
 * A straightforward double-precision reference of every fixed strategy, written from {@code semantics.md} and
 * not from the production code: plain loops over {@code double[]}, plain sums, no caching, no shortcuts.
 *
 * <p>Gradients are given as one {@code double[]} per parameter (elements in any fixed order) and the layer index
 * of each parameter. The reference reads only the strategies' configuration values.
 */
public final class ReferenceClipping {

    /** The outcome of one reference step. */
    public static final class Outcome {
        public final double[][] grads;
        public boolean skipped;
        public boolean failed;
        public final long[] clipped;
        public final long[] zeroed;

        Outcome(double[][] input) {
            grads = new double[input.length][];
            for (int i = 0; i < input.length; i++) {
                grads[i] = input[i].clone();
            }
            clipped = new long[input.length];
            zeroed = new long[input.length];
        }
    }

    private ReferenceClipping() {
    }

    /** Applies {@code strategy} to copies of {@code grads}, as one step of the engine would. */
    public static Outcome apply(ClipStrategy strategy, double[][] grads, int[] layerOf) {
        Outcome out = new Outcome(grads);
        // semantics.md: a non-finite gradient with no policy configured fails the step
        if (!hasPolicy(strategy) && anyNonFinite(out.grads)) {
            out.failed = true;
            return out;
        }
        step(strategy, out, layerOf);
        return out;
    }

    private static boolean hasPolicy(ClipStrategy s) {
        if (s instanceof NonFinitePolicy) {
            return true;
        }
        return s instanceof ClipChain c && c.getStrategies().stream().anyMatch(ReferenceClipping::hasPolicy);
    }

    private static void step(ClipStrategy s, Outcome out, int[] layerOf) {
        if (out.failed || out.skipped) {
            return;
        }
        if (s instanceof ClipChain c) {
            for (ClipStrategy member : c.getStrategies()) {
                step(member, out, layerOf);
            }
        } else if (s instanceof ClipByValue v) {
            for (int i = 0; i < out.grads.length; i++) {
                double[] g = out.grads[i];
                for (int k = 0; k < g.length; k++) {
                    double x = g[k];
                    double y = Math.min(Math.max(x, v.getLo()), v.getHi()); // NaN stays NaN
                    if (y != x && !Double.isNaN(x)) {
                        out.clipped[i]++;
                    }
                    g[k] = y;
                }
            }
        } else if (s instanceof ZeroOut z) {
            for (int i = 0; i < out.grads.length; i++) {
                double[] g = out.grads[i];
                for (int k = 0; k < g.length; k++) {
                    if (Math.abs(g[k]) > z.getThreshold()) {
                        g[k] = 0.0;
                        out.zeroed[i]++;
                    }
                }
            }
        } else if (s instanceof NonFinitePolicy p) {
            switch (p.getAction()) {
                case FAIL -> out.failed = anyNonFinite(out.grads);
                case SKIP_STEP -> out.skipped = anyNonFinite(out.grads);
                case ZERO -> {
                    for (int i = 0; i < out.grads.length; i++) {
                        double[] g = out.grads[i];
                        for (int k = 0; k < g.length; k++) {
                            if (!Double.isFinite(g[k])) {
                                g[k] = 0.0;
                                out.zeroed[i]++;
                            }
                        }
                    }
                }
                default -> throw new IllegalStateException();
            }
        } else if (s instanceof ClipByNorm n) {
            for (int[] group : groups(n.getScope(), layerOf)) {
                double norm = groupNorm(out.grads, group, n.getP());
                if (!Double.isFinite(norm)) {
                    out.failed = true;
                    return;
                }
                double scale = Math.min(1.0, n.getMaxNorm() / (norm + 1e-6));
                for (int i : group) {
                    for (int k = 0; k < out.grads[i].length; k++) {
                        out.grads[i][k] *= scale;
                    }
                }
            }
        } else if (s instanceof AdaGC a) {
            // the first step of a fresh AdaGC (t = 1 < warmupSteps): h = min(lambdaAbs / (G + eps), 1) on all
            double norm = groupNorm(out.grads, groups(Scope.GLOBAL, layerOf).get(0), 2.0);
            if (!Double.isFinite(norm)) {
                out.failed = true;
                return;
            }
            double scale = Math.min(1.0, a.getLambdaAbs() / (norm + a.getEps()));
            for (double[] g : out.grads) {
                for (int k = 0; k < g.length; k++) {
                    g[k] *= scale;
                }
            }
        } else if (!(s instanceof SkipSpikes)) { // a fresh spike window takes every step unchanged
            throw new IllegalArgumentException("no reference for " + s);
        }
    }

    /** The groups of a scope: one per parameter, one per layer (in order of first appearance), or all. */
    public static List<int[]> groups(Scope scope, int[] layerOf) {
        List<int[]> groups = new ArrayList<>();
        switch (scope) {
            case PARAMETER -> {
                for (int i = 0; i < layerOf.length; i++) {
                    groups.add(new int[] {i});
                }
            }
            case LAYER -> {
                Set<Integer> layers = new LinkedHashSet<>();
                for (int l : layerOf) {
                    layers.add(l);
                }
                for (int l : layers) {
                    List<Integer> members = new ArrayList<>();
                    for (int i = 0; i < layerOf.length; i++) {
                        if (layerOf[i] == l) {
                            members.add(i);
                        }
                    }
                    groups.add(members.stream().mapToInt(Integer::intValue).toArray());
                }
            }
            case GLOBAL -> {
                int[] all = new int[layerOf.length];
                for (int i = 0; i < all.length; i++) {
                    all[i] = i;
                }
                groups.add(all);
            }
            default -> throw new IllegalStateException();
        }
        return groups;
    }

    /** {@code (sum over the group's elements of |x|^p)^(1/p)}, or the max of |x| for p = +Inf. */
    public static double groupNorm(double[][] grads, int[] group, double p) {
        double acc = 0.0;
        boolean inf = false;
        double carry = 0.0; // compensated (Neumaier) summation: a plain sum of 60,000 terms drifts by 1e-12
        for (int i : group) {
            for (double x : grads[i]) {
                double a = Math.abs(x);
                if (Double.isNaN(a)) {
                    return Double.NaN;
                }
                if (Double.isInfinite(a)) {
                    inf = true;
                } else if (p == Double.POSITIVE_INFINITY) {
                    acc = Math.max(acc, a);
                } else {
                    double term = Math.pow(a, p);
                    double t = acc + term;
                    carry += Math.abs(acc) >= Math.abs(term) ? (acc - t) + term : (term - t) + acc;
                    acc = t;
                }
            }
        }
        if (inf) {
            return Double.POSITIVE_INFINITY;
        }
        return p == Double.POSITIVE_INFINITY ? acc : Math.pow(acc + carry, 1.0 / p);
    }

    /** The L2 norm of one array. */
    public static double norm2(double[] g) {
        return groupNorm(new double[][] {g}, new int[] {0}, 2.0);
    }

    private static boolean anyNonFinite(double[][] grads) {
        for (double[] g : grads) {
            for (double x : g) {
                if (!Double.isFinite(x)) {
                    return true;
                }
            }
        }
        return false;
    }
}
