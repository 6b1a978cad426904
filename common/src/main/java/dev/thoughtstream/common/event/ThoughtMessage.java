package dev.thoughtstream.common.event;

import java.util.Objects;

/**
 * One user message inside a thought.
 *
 * @param messageId  Telegram message_id
 * @param text       what the person wrote: the message's text, or the caption of a photo, video, document...
 * @param sentAtMs   Telegram's {@code date}, in milliseconds
 * @param attachment optional: when {@code text} is a caption, what it captions ({@code "photo"},
 *                   {@code "document"}, ...); null for a plain text message. The model sees only the caption.
 * @param editedAtMs optional: when the text comes from an edit, Telegram's {@code edit_date} in milliseconds;
 *                   null when the message was not edited
 */
public record ThoughtMessage(long messageId, String text, long sentAtMs, String attachment, Long editedAtMs) {
    public ThoughtMessage {
        Objects.requireNonNull(text, "text");
    }

    /** A plain, unedited text message. */
    public ThoughtMessage(long messageId, String text, long sentAtMs) {
        this(messageId, text, sentAtMs, null, null);
    }
}
