package dev.thoughtstream.common.serde;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** The project's one Jackson configuration. */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            // Newer writers may add fields; older readers keep working.
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            // A missing number in an event is a bad record, not a silent zero.
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
            .configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private Json() {}

    /** Thread-safe once configured; do not reconfigure it. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }
}
