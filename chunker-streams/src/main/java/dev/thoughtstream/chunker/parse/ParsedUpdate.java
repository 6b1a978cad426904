package dev.thoughtstream.chunker.parse;

import dev.thoughtstream.chunker.thought.BufferedMessage;
import java.util.Objects;

/** What the chunker makes of one Telegram update; see {@link UpdateParser}. */
public sealed interface ParsedUpdate {

    /** Something a person sent in a chat: the part of an update the chunker acts on. */
    sealed interface ChatMessage extends ParsedUpdate {
        long chatId();

        long messageId();
    }

    /**
     * A message with words in it: a text message, or a photo, document... with a caption, new or edited.
     *
     * @param sentAtMs     Telegram's {@code date} in milliseconds
     * @param attachment   when {@code text} is a caption: the kind of content it captions ({@code "photo"}, ...)
     * @param editedAtMs   for an {@code edited_message}: Telegram's {@code edit_date} in milliseconds; else null
     * @param mediaGroupId the album the message belongs to, if any
     */
    record TextMessage(
            long chatId,
            long messageId,
            String text,
            long sentAtMs,
            Long fromId,
            String fromFirstName,
            String attachment,
            Long editedAtMs,
            String mediaGroupId)
            implements ChatMessage {
        public TextMessage {
            Objects.requireNonNull(text, "text");
        }

        /** A new, plain text message. */
        public TextMessage(long chatId, long messageId, String text, long sentAtMs, Long fromId, String fromFirstName) {
            this(chatId, messageId, text, sentAtMs, fromId, fromFirstName, null, null, null);
        }

        public boolean isEdit() {
            return editedAtMs != null;
        }

        public BufferedMessage toBuffered(long receivedAtMs) {
            return new BufferedMessage(
                    messageId, text, sentAtMs, receivedAtMs, fromId, fromFirstName, attachment, editedAtMs);
        }
    }

    /**
     * A new message without words: a sticker, a voice note, a photo without caption... The chunker cannot pass it
     * to the model and answers it politely instead.
     *
     * @param kind         the content ({@code "sticker"}, {@code "voice"}, ...)
     * @param mediaGroupId the album the message belongs to, if any
     */
    record NonTextMessage(long chatId, long messageId, String kind, String mediaGroupId) implements ChatMessage {
        public NonTextMessage {
            Objects.requireNonNull(kind, "kind");
        }
    }

    /** A well-formed update the chunker does not act on; {@code kind} says what it was. */
    record Ignored(String kind) implements ParsedUpdate {
        public Ignored {
            Objects.requireNonNull(kind, "kind");
        }
    }

    /** An update that claims to be a message but is not usable; {@code reason} goes to the dead letter. */
    record Malformed(String reason) implements ParsedUpdate {
        public Malformed {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
