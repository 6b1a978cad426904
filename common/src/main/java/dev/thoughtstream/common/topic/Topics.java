package dev.thoughtstream.common.topic;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.serde.JsonSerde;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Every topic of the pipeline, declared once. All chat-keyed topics use the chat id as a {@code Long} key and
 * must have the same partition count, so that a chat's updates, thoughts, replies and deliveries are
 * co-partitioned.
 */
public final class Topics {
    public static final String UPDATES = "tg.updates";
    public static final String THOUGHTS = "chat.thoughts";
    public static final String REPLIES = "chat.replies";
    public static final String DELIVERED = "chat.delivered";
    public static final String DEAD_LETTERS = "pipeline.dead-letters";

    private final String prefix;
    private final Topic<Long, StoredUpdate> updates;
    private final Topic<Long, Thought> thoughts;
    private final Topic<Long, ReplyPart> replies;
    private final Topic<Long, Delivery> delivered;
    private final Topic<byte[], byte[]> deadLetters;

    private Topics(String prefix) {
        this.prefix = prefix;
        this.updates = new Topic<>(prefix + UPDATES, Serdes.Long(), new JsonSerde<>(StoredUpdate.class));
        this.thoughts = new Topic<>(prefix + THOUGHTS, Serdes.Long(), new JsonSerde<>(Thought.class));
        this.replies = new Topic<>(prefix + REPLIES, Serdes.Long(), new JsonSerde<>(ReplyPart.class));
        this.delivered = new Topic<>(prefix + DELIVERED, Serdes.Long(), new JsonSerde<>(Delivery.class));
        // Dead letters keep the original bytes untouched; the reason travels in headers (DeadLetters).
        this.deadLetters = new Topic<>(prefix + DEAD_LETTERS, Serdes.ByteArray(), Serdes.ByteArray());
    }

    public static Topics withPrefix(String prefix) {
        return new Topics(prefix == null ? "" : prefix);
    }

    public String prefix() {
        return prefix;
    }

    public Topic<Long, StoredUpdate> updates() {
        return updates;
    }

    public Topic<Long, Thought> thoughts() {
        return thoughts;
    }

    public Topic<Long, ReplyPart> replies() {
        return replies;
    }

    public Topic<Long, Delivery> delivered() {
        return delivered;
    }

    public Topic<byte[], byte[]> deadLetters() {
        return deadLetters;
    }

    public List<String> allNames() {
        return List.of(updates.name(), thoughts.name(), replies.name(), delivered.name(), deadLetters.name());
    }
}
