package dev.thoughtstream.chunker;

import dev.thoughtstream.common.kafka.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.errors.ErrorHandlerContext;

/**
 * What both exception handlers add to the dead-letter records that Kafka Streams builds (KIP-1034): the
 * project's own {@link DeadLetters} headers, so every service's dead letters read the same, and the count.
 * Streams' records already carry the original key and value bytes and its {@code __streams.errors.*} headers.
 */
final class DeadLetterSupport {
    static final String SERVICE = "chunker-streams";
    /** Streams property under which the handlers find the {@link Clock} for the {@code dlq.at} header. */
    static final String CLOCK_CONFIG = "thoughtstream.chunker.clock";

    private static final int MAX_REASON_CHARS = 2000;

    private final DeadLetterCounter counter;
    private final Clock clock;

    private DeadLetterSupport(DeadLetterCounter counter, Clock clock) {
        this.counter = counter;
        this.clock = clock;
    }

    /** Without a counter or clock in the properties (a bare TopologyTestDriver), private ones are used. */
    static DeadLetterSupport from(Map<String, ?> configs) {
        Object counter = configs.get(DeadLetterCounter.CONFIG);
        Object clock = configs.get(CLOCK_CONFIG);
        return new DeadLetterSupport(
                counter instanceof DeadLetterCounter c ? c : new DeadLetterCounter(),
                clock instanceof Clock c ? c : Clock.systemUTC());
    }

    List<ProducerRecord<byte[], byte[]>> decorate(
            List<ProducerRecord<byte[], byte[]>> records, ErrorHandlerContext context, Exception exception) {
        String reason = reason(exception);
        long now = clock.millis();
        for (ProducerRecord<byte[], byte[]> record : records) {
            Headers headers = record.headers();
            headers.add(DeadLetters.REASON, utf8(reason));
            headers.add(DeadLetters.SOURCE_TOPIC, utf8(String.valueOf(context.topic())));
            headers.add(DeadLetters.SOURCE_PARTITION, utf8(Integer.toString(context.partition())));
            headers.add(DeadLetters.SOURCE_OFFSET, utf8(Long.toString(context.offset())));
            headers.add(DeadLetters.SERVICE, utf8(SERVICE));
            headers.add(DeadLetters.AT, utf8(Long.toString(now)));
        }
        counter.record(context.topic());
        return records;
    }

    static String reason(Exception exception) {
        String message = exception.getMessage();
        String reason = message == null ? exception.getClass().getName() : message;
        return reason.length() <= MAX_REASON_CHARS ? reason : reason.substring(0, MAX_REASON_CHARS) + "...";
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
