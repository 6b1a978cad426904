package dev.thoughtstream.common.event;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * A Telegram update as ingest received it: the value of the updates topic (key = chat id).
 *
 * @param schemaVersion {@link #SCHEMA_VERSION} when written
 * @param updateId      Telegram's update_id
 * @param chatId        the chat the update belongs to (the sender's user id for chat-less updates)
 * @param receivedAtMs  when ingest received it, epoch milliseconds
 * @param update        the Update object as received, enough to replay it
 */
public record StoredUpdate(int schemaVersion, long updateId, long chatId, long receivedAtMs, JsonNode update) {
    public static final int SCHEMA_VERSION = 1;

    public StoredUpdate {
        Objects.requireNonNull(update, "update");
    }

    public static StoredUpdate of(long updateId, long chatId, long receivedAtMs, JsonNode update) {
        return new StoredUpdate(SCHEMA_VERSION, updateId, chatId, receivedAtMs, update);
    }
}
