package dev.thoughtstream.common.topic;

import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/** A topic's name together with the serdes of its key and value; declared once, in {@link Topics}. */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {
    public Topic {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(keySerde, "keySerde");
        Objects.requireNonNull(valueSerde, "valueSerde");
    }
}
