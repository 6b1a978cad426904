package dev.thoughtstream.common.event;

import java.util.Objects;

/**
 * One bubble of a reply. The value of the replies topic (key = chat id); parts of a reply are produced in
 * {@code seq} order and the one with {@code last = true} ends it.
 *
 * @param replyId       deterministic from the thought ({@link #replyIdFor(String)}), so a redelivered thought
 *                      yields the same ids
 * @param thoughtId     the thought this answers, or a command's id for command replies
 * @param lastMessageId the newest user message id the reply answers; staleness is judged by it
 * @param seq           0-based position in the reply
 * @param last          true on the final part
 * @param createdAtMs   when the part was produced
 * @param lastMessageAtMs optional: when the person last wrote to the thought the reply answers (the latest of its
 *                      messages' Telegram {@code date} and {@code edit_date}, in milliseconds of whole seconds), where
 *                      their wait for the reply begins; null in replies to no thought (commands, notices) and in parts
 *                      of writers that predate it. Readers that do not know it ignore it.
 */
public record ReplyPart(
        int schemaVersion,
        String replyId,
        String thoughtId,
        long chatId,
        long lastMessageId,
        int seq,
        boolean last,
        String text,
        long createdAtMs,
        Long lastMessageAtMs) {
    public static final int SCHEMA_VERSION = 1;

    public ReplyPart {
        Objects.requireNonNull(replyId, "replyId");
        Objects.requireNonNull(thoughtId, "thoughtId");
        Objects.requireNonNull(text, "text");
        if (seq < 0) {
            throw new IllegalArgumentException("seq must be >= 0");
        }
    }

    /** A part of a reply to no thought, or whose thought's time is unknown: {@code lastMessageAtMs} is null. */
    public ReplyPart(
            int schemaVersion,
            String replyId,
            String thoughtId,
            long chatId,
            long lastMessageId,
            int seq,
            boolean last,
            String text,
            long createdAtMs) {
        this(schemaVersion, replyId, thoughtId, chatId, lastMessageId, seq, last, text, createdAtMs, null);
    }

    public static String replyIdFor(String thoughtId) {
        return "r:" + thoughtId;
    }

    /** The key under which this part is claimed and recorded; unique per reply and position. */
    public String partKey() {
        return replyId + "#" + seq;
    }
}
