package dev.thoughtstream.common.event;

import java.util.Objects;

/**
 * What happened to one reply part. The value of the delivered topic (key = chat id); the chunker builds the
 * bot's side of the context from {@link Outcome#SENT} only.
 *
 * @param telegramMessageId Telegram's message id when SENT, else null
 * @param text              the text as sent (or as it would have been)
 * @param reason            why it was dropped or failed, else null
 */
public record Delivery(
        int schemaVersion,
        String replyId,
        String thoughtId,
        long chatId,
        int seq,
        Outcome outcome,
        Long telegramMessageId,
        String text,
        String reason,
        long atMs) {
    public static final int SCHEMA_VERSION = 1;

    /**
     * How the reason of a message that may have reached the person starts, though its fate is unknown (no answer,
     * a gateway timeout, an attempt that died during its send): such a part is FAILED (or, after some of its messages
     * went out, SENT with the reason for the rest), and is not sent again, to avoid a duplicate.
     */
    public static final String MAYBE_SENT = "maybe sent: ";

    public enum Outcome {
        SENT,
        DROPPED_STALE,
        FAILED
    }

    public Delivery {
        Objects.requireNonNull(replyId, "replyId");
        Objects.requireNonNull(outcome, "outcome");
    }

    /** True when (some of) the part may have reached the person though it is not known to have ({@link #MAYBE_SENT}). */
    public boolean mayHaveBeenSent() {
        return reason != null && reason.contains(MAYBE_SENT);
    }

    public static Delivery sent(ReplyPart part, long telegramMessageId, long atMs) {
        return of(part, Outcome.SENT, telegramMessageId, part.text(), null, atMs);
    }

    /**
     * A part sent as several messages of which only the first few went out before the rest was dropped or
     * failed: still SENT (the person saw it), with the id of its first message, the text that went out and, in
     * {@code reason}, what became of the rest.
     */
    public static Delivery partlySent(ReplyPart part, long firstMessageId, String textSent, String reason, long atMs) {
        return of(part, Outcome.SENT, firstMessageId, textSent, reason, atMs);
    }

    public static Delivery dropped(ReplyPart part, String reason, long atMs) {
        return of(part, Outcome.DROPPED_STALE, null, part.text(), reason, atMs);
    }

    public static Delivery failed(ReplyPart part, String reason, long atMs) {
        return of(part, Outcome.FAILED, null, part.text(), reason, atMs);
    }

    /** The one place a part's identity is copied into its outcome. */
    private static Delivery of(
            ReplyPart part, Outcome outcome, Long telegramMessageId, String text, String reason, long atMs) {
        return new Delivery(
                SCHEMA_VERSION,
                part.replyId(),
                part.thoughtId(),
                part.chatId(),
                part.seq(),
                outcome,
                telegramMessageId,
                text,
                reason,
                atMs);
    }
}
