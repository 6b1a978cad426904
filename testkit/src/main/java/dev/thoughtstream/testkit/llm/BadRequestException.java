package dev.thoughtstream.testkit.llm;

/** A chat request the server refuses with HTTP 400; the message goes into the error body. */
final class BadRequestException extends Exception {
    private static final long serialVersionUID = 1L;

    BadRequestException(String message) {
        super(message);
    }
}
