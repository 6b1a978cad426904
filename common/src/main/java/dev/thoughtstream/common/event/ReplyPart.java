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
        long createdAtMs) {
    public static final int SCHEMA_VERSION = 1;

    public ReplyPart {
        Objects.requireNonNull(replyId, "replyId");
        Objects.requireNonNull(thoughtId, "thoughtId");
        Objects.requireNonNull(text, "text");
        if (seq < 0) {
            throw new IllegalArgumentException("seq must be >= 0");
        }
    }

    public static String replyIdFor(String thoughtId) {
        return "r:" + thoughtId;
    }

    /** The key under which this part is claimed and recorded; unique per reply and position. */
    public String partKey() {
        return replyId + "#" + seq;
    }
}
