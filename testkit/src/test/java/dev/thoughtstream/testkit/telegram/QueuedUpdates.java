package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.serde.Json;

/** Updates the webhook tests put straight into an {@link UpdateQueue}. */
final class QueuedUpdates {
    private QueuedUpdates() {}

    /** A text message from {@code chatId}, queued under the next update id; returns that id. */
    static long message(UpdateQueue queue, long chatId, String text) {
        return queue.enqueue(id -> {
            ObjectNode update = Json.mapper().createObjectNode().put("update_id", id);
            ObjectNode message = update.putObject("message");
            message.putObject("chat").put("id", chatId);
            message.put("text", text);
            return update;
        });
    }
}
