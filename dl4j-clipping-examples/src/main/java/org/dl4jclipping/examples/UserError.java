package org.dl4jclipping.examples;

/**
 * A problem the user can fix (a missing or malformed file, an option that cannot be used): printed as one message,
 * without a stack trace, and the program exits with code 2.
 */
public final class UserError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
