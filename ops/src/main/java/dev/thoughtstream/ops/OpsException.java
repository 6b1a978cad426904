package dev.thoughtstream.ops;

/** A command could not do its work (the broker refused, a record is missing); the message says what, for the operator. */
public class OpsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OpsException(String message) {
        super(message);
    }

    public OpsException(String message, Throwable cause) {
        super(message, cause);
    }
}
