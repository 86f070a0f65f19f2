package org.dl4jclipping.keras.training;

/** Formatting of the numbers Keras writes, for the messages and the description line. */
final class Numbers {

    private Numbers() {
    }

    /**
     * The shortest text of {@code v}: Keras writes float32 values widened to double
     * ({@code 0.019999999552965164}); when {@code v} is exactly a float, the float's shortest text ({@code 0.02})
     * is shown, otherwise the double's. Integers print without a fraction ({@code 5.0} prints as {@code 5.0}).
     */
    static String format(double v) {
        if (v == (float) v) {
            return Float.toString((float) v);
        }
        return Double.toString(v);
    }
}
