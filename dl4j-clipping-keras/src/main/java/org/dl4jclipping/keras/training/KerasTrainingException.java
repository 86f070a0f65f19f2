package org.dl4jclipping.keras.training;

/**
 * A Keras training configuration that cannot be imported as it is: an unknown optimizer, a field DL4J cannot
 * express, a malformed value. The message names the optimizer, the field, the value found, why it is refused and
 * what to do instead.
 */
public class KerasTrainingException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** An exception with the full message (what, where, what to do). */
    public KerasTrainingException(String message) {
        super(message);
    }

    /** An exception with the full message and the error that caused it. */
    public KerasTrainingException(String message, Throwable cause) {
        super(message, cause);
    }
}
