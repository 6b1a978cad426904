package dev.thoughtstream.chunker.thought;

import dev.thoughtstream.common.event.ThoughtMessage;
import java.util.Map;
import java.util.Objects;

/**
 * A user's message while its thought is still open.
 *
 * @param messageId     Telegram's message_id
 * @param text          the text as written (or as last edited); a caption when {@code attachment} is set
 * @param sentAtMs      Telegram's {@code date}, in milliseconds (Telegram gives whole seconds)
 * @param receivedAtMs  the chunker's wall-clock time when the message reached it
 * @param fromId        the sender's user id, when Telegram gave one
 * @param fromFirstName the sender's first name, when Telegram gave one
 * @param attachment    what the text captions ({@code "photo"}, ...), or null for a text message
 * @param editedAtMs    Telegram's {@code edit_date} in milliseconds of the edit the text comes from, or null
 * @param trace         the trace context its update carried ({@code traceparent}, ...), so the thought's trace can
 *                      continue the first message's when it closes, however much later; null when tracing is off
 *                      (and in state written before the field existed)
 */
public record BufferedMessage(
        long messageId,
        String text,
        long sentAtMs,
        long receivedAtMs,
        Long fromId,
        String fromFirstName,
        String attachment,
        Long editedAtMs,
        Map<String, String> trace) {

    public BufferedMessage {
        Objects.requireNonNull(text, "text");
        trace = trace == null || trace.isEmpty() ? null : Map.copyOf(trace);
    }

    /** Without a trace context. */
    public BufferedMessage(
            long messageId,
            String text,
            long sentAtMs,
            long receivedAtMs,
            Long fromId,
            String fromFirstName,
            String attachment,
            Long editedAtMs) {
        this(messageId, text, sentAtMs, receivedAtMs, fromId, fromFirstName, attachment, editedAtMs, null);
    }

    /** This message with the text of an edit (the trace stays the original message's). */
    public BufferedMessage edited(String newText, long newEditedAtMs) {
        return new BufferedMessage(
                messageId, newText, sentAtMs, receivedAtMs, fromId, fromFirstName, attachment, newEditedAtMs, trace);
    }

    /** This message with the trace context of its update (null: none). */
    public BufferedMessage withTrace(Map<String, String> context) {
        return new BufferedMessage(
                messageId, text, sentAtMs, receivedAtMs, fromId, fromFirstName, attachment, editedAtMs, context);
    }

    public ThoughtMessage toThoughtMessage() {
        return new ThoughtMessage(messageId, text, sentAtMs, attachment, editedAtMs);
    }
}
