package dev.thoughtstream.testkit.llm;

import java.util.List;
import java.util.Objects;

/**
 * Decides the reply text of {@link FakeLlmServer} from the conversation a client sent. Called on a server thread,
 * possibly concurrently; implementations must be thread-safe. An exception becomes an HTTP 500 for that request.
 */
@FunctionalInterface
public interface Responder {

    /** The reply to {@code messages} (never empty for a valid request). Must not return {@code null}. */
    String reply(List<LlmMessage> messages);

    /**
     * The default: a deterministic reply of several sentences derived from the last user message, starting with
     * {@code "You said: <short echo>."} and sometimes split into paragraphs by blank lines.
     */
    static Responder echo() {
        return EchoResponder.INSTANCE;
    }

    /** Always replies {@code text}. */
    static Responder fixed(String text) {
        Objects.requireNonNull(text, "text");
        return messages -> text;
    }
}
