package org.dl4jclipping.keras;

/**
 * A Keras file or configuration that cannot be imported as it is: the message names the file or layer, the
 * option and its value, and what to do instead. Unchecked, like DL4J's own configuration errors.
 */
public class KerasImportException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** An import error with its message. */
    public KerasImportException(String message) {
        super(message);
    }

    /** An import error caused by another exception (DL4J's, HDF5's). */
    public KerasImportException(String message, Throwable cause) {
        super(message, cause);
    }
}
