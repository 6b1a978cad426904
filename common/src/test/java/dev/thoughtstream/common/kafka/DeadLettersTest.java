package dev.thoughtstream.common.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class DeadLettersTest {

    @Test
    void aDeadLetterKeepsTheOriginalBytesAndSaysWhyAndWhereFrom() {
        byte[] key = {0, 0, 0, 0, 0, 0, 0, 42};
        byte[] value = "{broken".getBytes(StandardCharsets.UTF_8);
        var source = new ConsumerRecord<>("chat.thoughts", 2, 17L, key, value);
        source.headers().add("trace", "abc".getBytes(StandardCharsets.UTF_8));

        ProducerRecord<byte[], byte[]> dead =
                DeadLetters.of("pipeline.dead-letters", source, "llm-processor", "cannot read Thought", 1234L);

        assertEquals("pipeline.dead-letters", dead.topic());
        assertArrayEquals(key, dead.key());
        assertArrayEquals(value, dead.value());
        assertEquals("cannot read Thought", DeadLetters.header(dead.headers(), DeadLetters.REASON));
        assertEquals("chat.thoughts", DeadLetters.header(dead.headers(), DeadLetters.SOURCE_TOPIC));
        assertEquals("2", DeadLetters.header(dead.headers(), DeadLetters.SOURCE_PARTITION));
        assertEquals("17", DeadLetters.header(dead.headers(), DeadLetters.SOURCE_OFFSET));
        assertEquals("llm-processor", DeadLetters.header(dead.headers(), DeadLetters.SERVICE));
        assertEquals("abc", DeadLetters.header(dead.headers(), "trace"));
    }
}
