package dev.thoughtstream.common.serde;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thoughtstream.common.topic.Topic;
import org.apache.kafka.common.serialization.Serde;

/**
 * Builds the JSON (de)serialisers of topics' records before the first record needs them. Jackson introspects a type
 * the first time it writes or reads one (reflection, class loading, caching); on a busy machine that was a good part
 * of the first message's extra delay after a start, paid while the person waits. Done at start, it is paid before
 * the service says it is ready.
 */
public final class SerdeWarmUp {
    private SerdeWarmUp() {}

    /** Prepares the key and value serdes of every topic given; serdes that are not {@link JsonSerde} need none. */
    public static void warmUp(Topic<?, ?>... topics) {
        for (Topic<?, ?> topic : topics) {
            warmUp(topic.keySerde());
            warmUp(topic.valueSerde());
        }
    }

    private static void warmUp(Serde<?> serde) {
        if (serde instanceof JsonSerde<?> json) {
            ObjectMapper mapper = Json.mapper();
            // Both build the (cached) serialiser or deserialiser of the type and of the types it holds.
            mapper.canSerialize(json.type());
            mapper.canDeserialize(mapper.constructType(json.type()));
        }
    }
}
