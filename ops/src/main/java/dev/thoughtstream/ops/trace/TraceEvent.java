package dev.thoughtstream.ops.trace;

/**
 * One record of a chat on one of the pipeline's topics.
 *
 * @param stage     {@code ingested} (tg.updates), {@code thought} (chat.thoughts), {@code reply-part}
 *                  (chat.replies), {@code delivery} (chat.delivered) or {@code dead-letter}
 * @param atMs      when it happened: the event's own time (received, closed, created, delivered), else the record's
 * @param topic     where it was read
 * @param partition its partition
 * @param offset    its offset
 * @param summary   one line for people
 * @param event     the event as read (StoredUpdate, Thought, ReplyPart, Delivery; for a dead letter its headers)
 */
public record TraceEvent(
        String stage, long atMs, String topic, int partition, long offset, String summary, Object event) {}
