package dev.thoughtstream.common.redis;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The staleness signal: each chat's newest ingested user message id. ingest records every user message once
 * Kafka has it; the llm-processor and the emitter ask whether the thought a piece of work answers has been
 * superseded, and are told promptly (pub/sub) when a chat gets a newer message, so they can cancel work in flight.
 *
 * <p>Telegram message ids grow within a chat, so "newer" is "larger id". An edit keeps its message's id and does
 * not supersede anything.
 */
public interface ChatActivity extends AutoCloseable {

    /** Called when a chat gets a newer user message; on a signal thread, so it must be quick and not block. */
    @FunctionalInterface
    interface Listener {
        void newerMessage(long chatId, long messageId);
    }

    /**
     * Records that {@code messageId} of {@code chatId} was ingested; if it is newer than what was known, stores it
     * and tells every subscriber. Returns true when it was the newest.
     */
    boolean recordIngested(long chatId, long messageId);

    /**
     * {@link #recordIngested(long, long)} for several chats at once (chat id → its newest message id), as ingest
     * records a batch; on Redis one round trip. Returns the chats whose register was raised (and announced).
     */
    default Set<Long> recordIngested(Map<Long, Long> newestByChat) {
        Set<Long> raised = new LinkedHashSet<>();
        newestByChat.forEach((chat, message) -> {
            if (recordIngested(chat, message)) {
                raised.add(chat);
            }
        });
        return raised;
    }

    /** The newest ingested user message id of the chat, if any is known. */
    OptionalLong newest(long chatId);

    /** True when the chat has a user message newer than {@code lastMessageId}, i.e. an answer to it is stale. */
    default boolean isSuperseded(long chatId, long lastMessageId) {
        OptionalLong newest = newest(chatId);
        return newest.isPresent() && newest.getAsLong() > lastMessageId;
    }

    /** Adds a listener for newer messages of any chat. */
    void subscribe(Listener listener);

    @Override
    void close();
}
