package org.dl4jclipping.engine;

/**
 * Combining per-parameter norms into the norm of a group: {@code (sum_i n_i^p)^(1/p)}, or {@code max_i n_i}
 * for p = +Inf. Overflow-safe: the terms are divided by the largest norm before raising to p, so norms up to
 * {@code Double.MAX_VALUE} combine without overflow. NaN in, NaN out; +Inf in, +Inf out.
 */
public final class Norms {

    private Norms() {
    }

    /** The p-norm of the group {@code members} given each member's p-norm in {@code norms}. */
    public static double combine(double[] norms, int[] members, double p) {
        double max = 0.0;
        for (int i : members) {
            double n = norms[i];
            if (Double.isNaN(n)) {
                return Double.NaN;
            }
            max = Math.max(max, n);
        }
        if (p == Double.POSITIVE_INFINITY || max == 0.0 || Double.isInfinite(max)) {
            return max;
        }
        double sum = 0.0;
        for (int i : members) {
            double r = norms[i] / max;
            sum += p == 2.0 ? r * r : Math.pow(r, p);
        }
        return p == 2.0 ? max * Math.sqrt(sum) : max * Math.pow(sum, 1.0 / p);
    }
}
