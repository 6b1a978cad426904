package dev.thoughtstream.common.topic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;

class TopicTest {
    private static final Topic<Long, String> TOPIC = new Topic<>("t", Serdes.Long(), Serdes.String());

    @Test
    void aRecordIsAddressedToTheTopicAndWrittenByItsSerdes() {
        // when a key and value become a record
        ProducerRecord<byte[], byte[]> record = TOPIC.record(7L, "seven");

        // then it goes to the topic, in the bytes its serdes write
        assertEquals("t", record.topic());
        assertArrayEquals(Serdes.Long().serializer().serialize("t", 7L), record.key());
        assertArrayEquals(Serdes.String().serializer().serialize("t", "seven"), record.value());
    }

    @Test
    void aRawRecordIsReadBackByTheSameSerdes() {
        // given the bytes of a record on the topic
        ProducerRecord<byte[], byte[]> written = TOPIC.record(7L, "seven");
        ConsumerRecord<byte[], byte[]> read = new ConsumerRecord<>("t", 0, 0, written.key(), written.value());

        // then its key and value come back as written
        assertEquals(7L, TOPIC.key(read));
        assertEquals("seven", TOPIC.value(read));
        // and a record without a value has none
        assertNull(TOPIC.value(new ConsumerRecord<>("t", 0, 1, written.key(), null)));
    }

    @Test
    void bytesThatAreNotAKeyOfTheTopicAreASerializationError() {
        // given a key of the wrong length for a long
        ConsumerRecord<byte[], byte[]> odd = new ConsumerRecord<>("t", 0, 0, new byte[] {1, 2, 3}, null);

        // then reading it fails as the serde fails
        assertThrows(SerializationException.class, () -> TOPIC.key(odd));
    }
}
