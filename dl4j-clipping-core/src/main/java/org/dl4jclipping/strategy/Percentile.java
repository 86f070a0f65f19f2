package org.dl4jclipping.strategy;

import java.util.Arrays;

/**
 * The p-th percentile with numpy's default ("linear") method, computed as numpy 1.22+ computes it: sort, then
 * the virtual index {@code n*q + (1 - q) - 1} with {@code q = p / 100}, then numpy's {@code _lerp} between the
 * two neighbours ({@code a + t*(b - a)}, or {@code b - (1 - t)*(b - a)} when {@code t >= 0.5}).
 */
public final class Percentile {

    private Percentile() {
    }

    /**
     * The {@code p}-th percentile of {@code values[0..n)}, sorting that range in place.
     *
     * @param p in [0, 100]
     */
    public static double ofSorting(double[] values, int n, double p) {
        if (n < 1) {
            throw new IllegalArgumentException("n = " + n + " is out of range: must be >= 1");
        }
        Arrays.sort(values, 0, n);
        double q = p / 100.0;
        double virtual = n * q + (1.0 - q) - 1.0;
        double below = Math.floor(virtual);
        int lo = (int) Math.max(0, Math.min(n - 1, below));
        int hi = Math.min(n - 1, lo + 1);
        double t = virtual - below;
        double a = values[lo];
        double b = values[hi];
        double diff = b - a;
        return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
    }
}
