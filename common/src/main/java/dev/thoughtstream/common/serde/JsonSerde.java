package dev.thoughtstream.common.serde;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The one JSON serde for every event record. Null in, null out (tombstones pass through); unreadable bytes
 * raise {@link SerializationException} naming the topic and the type, so the caller can dead-letter them.
 */
public final class JsonSerde<T> implements Serde<T>, Serializer<T>, Deserializer<T> {
    private final Class<T> type;
    private final ObjectMapper mapper;

    public JsonSerde(Class<T> type) {
        this.type = Objects.requireNonNull(type, "type");
        this.mapper = Json.mapper();
    }

    public Class<T> type() {
        return type;
    }

    @Override
    public byte[] serialize(String topic, T data) {
        if (data == null) {
            return null;
        }
        try {
            return mapper.writeValueAsBytes(data);
        } catch (JsonProcessingException e) {
            throw new SerializationException(
                    "cannot write " + type.getSimpleName() + " for topic " + topic + ": " + e.getOriginalMessage(), e);
        }
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            T value = mapper.readValue(data, type);
            if (value == null) {
                throw new SerializationException(
                        "cannot read " + type.getSimpleName() + " from topic " + topic + ": JSON null");
            }
            return value;
        } catch (JsonProcessingException e) {
            throw new SerializationException(
                    "cannot read " + type.getSimpleName() + " from topic " + topic + ": " + e.getOriginalMessage(), e);
        } catch (IOException | RuntimeException e) {
            if (e instanceof SerializationException se) {
                throw se;
            }
            throw new SerializationException(
                    "cannot read " + type.getSimpleName() + " from topic " + topic + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        // Configured by construction (the target type); nothing to read from client configs.
    }

    @Override
    public void close() {
        // Stateless: nothing to release; Serde, Serializer and Deserializer all declare close().
    }
}
