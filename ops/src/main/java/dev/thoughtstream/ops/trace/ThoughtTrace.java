package dev.thoughtstream.ops.trace;

import java.util.List;

/**
 * One thought of the chat from its messages to their delivery, with the time each stage took.
 *
 * @param thoughtId          the thought
 * @param messageIds         its messages' Telegram ids
 * @param ingestedAtMs       when ingest received the first of them (null when the update is not in the window)
 * @param closedAtMs         when the chunker closed the thought
 * @param firstPartAtMs      when the first reply part was produced, null when none was
 * @param firstSentAtMs      when the first part reached Telegram, null when none did
 * @param ingestToClosedMs   ingested → thought closed
 * @param closedToFirstPartMs thought closed → first part produced
 * @param firstPartToSentMs  first part produced → first part sent
 * @param parts              the reply's parts, in order, each with its outcome
 */
public record ThoughtTrace(
        String thoughtId,
        List<Long> messageIds,
        Long ingestedAtMs,
        long closedAtMs,
        Long firstPartAtMs,
        Long firstSentAtMs,
        Long ingestToClosedMs,
        Long closedToFirstPartMs,
        Long firstPartToSentMs,
        List<Part> parts) {
    public ThoughtTrace {
        messageIds = List.copyOf(messageIds);
        parts = List.copyOf(parts);
    }

    /**
     * One reply part and what became of it.
     *
     * @param outcome SENT, DROPPED_STALE, FAILED, or PENDING when chat.delivered has no outcome for it yet
     * @param reason  why it was dropped or failed (or what became of the rest of a partly sent part)
     */
    public record Part(
            String replyId,
            int seq,
            boolean last,
            String text,
            long createdAtMs,
            String outcome,
            String reason,
            Long deliveredAtMs) {}
}
