package dev.thoughtstream.chunker;

import java.util.Objects;

/** What the chunker makes of one Telegram update; see {@link UpdateParser}. */
public sealed interface ParsedUpdate {

    /**
     * A plain text message: what a thought is made of.
     *
     * @param sentAtMs Telegram's {@code date} in milliseconds
     */
    record TextMessage(long chatId, long messageId, String text, long sentAtMs, Long fromId, String fromFirstName)
            implements ParsedUpdate {
        public TextMessage {
            Objects.requireNonNull(text, "text");
        }

        public BufferedMessage toBuffered(long receivedAtMs) {
            return new BufferedMessage(messageId, text, sentAtMs, receivedAtMs, fromId, fromFirstName);
        }
    }

    /** A well-formed update the chunker does not act on (yet); {@code kind} says what it was. */
    record Ignored(String kind) implements ParsedUpdate {
        public Ignored {
            Objects.requireNonNull(kind, "kind");
        }
    }

    /** An update that claims to be a text message but is not usable; {@code reason} goes to the dead letter. */
    record Malformed(String reason) implements ParsedUpdate {
        public Malformed {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
