package dev.thoughtstream.llm.handle;

import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads thoughts from raw records, so an unreadable one can be dead-lettered with the reason instead of failing. */
public final class ThoughtRecords {
    private static final Logger LOG = LoggerFactory.getLogger(ThoughtRecords.class);

    private ThoughtRecords() {}

    /** A record's thought, or why there is none. */
    public record Read(Thought thought, String unreadable) {
        public boolean ok() {
            return thought != null;
        }
    }

    public static Read read(Topics topics, ConsumerRecord<byte[], byte[]> record) {
        Long key;
        Thought thought;
        try {
            key = topics.thoughts().key(record);
            thought = topics.thoughts().value(record);
        } catch (SerializationException e) {
            return new Read(null, e.getMessage());
        }
        if (thought == null) {
            return new Read(null, "record has no value; a thought was expected");
        }
        if (key != null && key != thought.chatId()) {
            LOG.warn(
                    "thought {} at {}-{}@{} is keyed {} but belongs to chat {}; replying under the chat id",
                    thought.thoughtId(),
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    key,
                    thought.chatId());
        }
        return new Read(thought, null);
    }
}
