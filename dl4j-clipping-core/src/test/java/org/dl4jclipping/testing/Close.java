package org.dl4jclipping.testing;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * Element-wise agreement between production and reference: {@code |a - b| <= tol * max(|a|, |b|) + floor},
 * with {@code tol} 1e-6 for float data and 1e-12 for double (the accuracy this library promises) and a floor at
 * the type's smallest normal number (results below it are subnormal and lose relative precision in any code).
 * NaN equals NaN, infinities equal themselves.
 */
public final class Close {

    private Close() {
    }

    public static double tolerance(DataType dt) {
        return dt == DataType.FLOAT ? 1e-6 : 1e-12;
    }

    public static double floor(DataType dt) {
        return dt == DataType.FLOAT ? Float.MIN_NORMAL : Double.MIN_NORMAL;
    }

    public static boolean close(double a, double b, DataType dt) {
        if (Double.isNaN(a) || Double.isNaN(b)) {
            return Double.isNaN(a) && Double.isNaN(b);
        }
        if (Double.isInfinite(a) || Double.isInfinite(b)) {
            return a == b;
        }
        return Math.abs(a - b) <= tolerance(dt) * Math.max(Math.abs(a), Math.abs(b)) + floor(dt);
    }

    /** The first index where two arrays differ beyond tolerance, as a message; null when they agree. */
    public static String firstDifference(double[][] actual, double[][] expected, DataType dt) {
        for (int i = 0; i < expected.length; i++) {
            if (actual[i].length != expected[i].length) {
                return "parameter " + i + ": length " + actual[i].length + " != " + expected[i].length;
            }
            for (int k = 0; k < expected[i].length; k++) {
                if (!close(actual[i][k], expected[i][k], dt)) {
                    return "parameter " + i + " element " + k + ": actual " + actual[i][k] + ", expected "
                            + expected[i][k];
                }
            }
        }
        return null;
    }
}
