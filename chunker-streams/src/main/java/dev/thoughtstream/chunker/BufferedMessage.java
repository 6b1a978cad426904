package dev.thoughtstream.chunker;

import dev.thoughtstream.common.event.ThoughtMessage;
import java.util.Objects;

/**
 * A user's text message while its thought is still open.
 *
 * @param messageId     Telegram's message_id
 * @param text          the text as written
 * @param sentAtMs      Telegram's {@code date}, in milliseconds (Telegram gives whole seconds)
 * @param receivedAtMs  the chunker's wall-clock time when the message reached it
 * @param fromId        the sender's user id, when Telegram gave one
 * @param fromFirstName the sender's first name, when Telegram gave one
 */
public record BufferedMessage(
        long messageId, String text, long sentAtMs, long receivedAtMs, Long fromId, String fromFirstName) {

    public BufferedMessage {
        Objects.requireNonNull(text, "text");
    }

    public ThoughtMessage toThoughtMessage() {
        return new ThoughtMessage(messageId, text, sentAtMs);
    }
}
