package org.dl4jclipping.strategy;

/**
 * The one validation used by every construction path of a strategy (builders, factories and JSON
 * deserialisation all go through the constructors that call it). Messages name the field, the value found and
 * the allowed range, for example {@code "maxNorm = -1.0 is out of range: must be finite and > 0"}.
 */
public final class Check {

    private Check() {
    }

    /** Requires {@code value} finite and strictly positive. */
    public static double positiveFinite(String field, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw outOfRange(field, value, "must be finite and > 0");
        }
        return value;
    }

    /** Requires {@code value} finite (any sign). */
    public static double finite(String field, double value) {
        if (!Double.isFinite(value)) {
            throw outOfRange(field, value, "must be finite");
        }
        return value;
    }

    /** Requires {@code low < value <= high}. */
    public static double inHalfOpen(String field, double value, double low, double high) {
        if (!(value > low && value <= high)) {
            throw outOfRange(field, value, "must be in (" + low + ", " + high + "]");
        }
        return value;
    }

    /** Requires {@code low < value < high}. */
    public static double inOpen(String field, double value, double low, double high) {
        if (!(value > low && value < high)) {
            throw outOfRange(field, value, "must be in (" + low + ", " + high + ")");
        }
        return value;
    }

    /** Requires {@code min <= value <= max}. */
    public static long inRange(String field, long value, long min, long max) {
        if (value < min || value > max) {
            throw outOfRange(field, value, "must be in [" + min + ", " + max + "]");
        }
        return value;
    }

    /** Requires {@code value >= min}. */
    public static long atLeast(String field, long value, long min) {
        if (value < min) {
            throw outOfRange(field, value, "must be >= " + min);
        }
        return value;
    }

    /** Requires a non-null value. */
    public static <T> T notNull(String field, T value) {
        if (value == null) {
            throw new IllegalArgumentException(field + " is null: must be set");
        }
        return value;
    }

    /** The exception every check throws: field, value, rule. */
    public static IllegalArgumentException outOfRange(String field, Object value, String rule) {
        return new IllegalArgumentException(field + " = " + value + " is out of range: " + rule);
    }
}
