package dev.thoughtstream.chunker.thought;

import dev.thoughtstream.common.event.ThoughtMessage;
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
 */
public record BufferedMessage(
        long messageId,
        String text,
        long sentAtMs,
        long receivedAtMs,
        Long fromId,
        String fromFirstName,
        String attachment,
        Long editedAtMs) {

    public BufferedMessage {
        Objects.requireNonNull(text, "text");
    }

    /** This message with the text of an edit. */
    public BufferedMessage edited(String newText, long newEditedAtMs) {
        return new BufferedMessage(
                messageId, newText, sentAtMs, receivedAtMs, fromId, fromFirstName, attachment, newEditedAtMs);
    }

    public ThoughtMessage toThoughtMessage() {
        return new ThoughtMessage(messageId, text, sentAtMs, attachment, editedAtMs);
    }
}
