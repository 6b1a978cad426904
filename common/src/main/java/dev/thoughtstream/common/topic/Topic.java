package dev.thoughtstream.common.topic;

import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serde;

/**
 * A topic's name together with the serdes of its key and value; declared once, in {@link Topics}. The services'
 * clients carry raw bytes (one producer also writes dead letters, the original bytes of another topic's record), so
 * they turn keys and values into bytes and back here, with the topic's own serdes.
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {
    public Topic {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(keySerde, "keySerde");
        Objects.requireNonNull(valueSerde, "valueSerde");
    }

    /** A record of {@code key} and {@code value} to this topic, written by its serdes. */
    public ProducerRecord<byte[], byte[]> record(K key, V value) {
        return new ProducerRecord<>(
                name,
                keySerde.serializer().serialize(name, key),
                valueSerde.serializer().serialize(name, value));
    }

    /**
     * The key of a record read from this topic.
     *
     * @throws org.apache.kafka.common.errors.SerializationException when its bytes are not a key of this topic
     */
    public K key(ConsumerRecord<byte[], byte[]> record) {
        return keySerde.deserializer().deserialize(record.topic(), record.key());
    }

    /**
     * The value of a record read from this topic; null for a record without one.
     *
     * @throws org.apache.kafka.common.errors.SerializationException when its bytes are not a value of this topic
     */
    public V value(ConsumerRecord<byte[], byte[]> record) {
        return valueSerde.deserializer().deserialize(record.topic(), record.value());
    }
}
