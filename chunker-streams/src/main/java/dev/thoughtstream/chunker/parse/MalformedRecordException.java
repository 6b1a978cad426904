package dev.thoughtstream.chunker.parse;

/**
 * A record that deserialized but cannot be used (a text message without an id, a key that is not its chat, ...).
 * Thrown by the processors before they change any state; the chunker's exception handler sends the original record
 * to the dead-letter topic and processing continues. Any other exception stays fatal.
 */
public final class MalformedRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MalformedRecordException(String reason) {
        super(reason);
    }
}
