package dev.thoughtstream.common.kafka;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** Builds dead-letter records: the original key and value bytes, the reason and the origin in headers. */
public final class DeadLetters {
    public static final String REASON = "dlq.reason";
    public static final String SOURCE_TOPIC = "dlq.source.topic";
    public static final String SOURCE_PARTITION = "dlq.source.partition";
    public static final String SOURCE_OFFSET = "dlq.source.offset";
    public static final String SERVICE = "dlq.service";
    public static final String AT = "dlq.at";

    private DeadLetters() {}

    public static ProducerRecord<byte[], byte[]> of(
            String deadLetterTopic, ConsumerRecord<byte[], byte[]> source, String service, String reason, long nowMs) {
        RecordHeaders headers = new RecordHeaders();
        for (Header h : source.headers()) {
            headers.add(h);
        }
        headers.add(REASON, utf8(reason == null ? "unknown" : reason));
        headers.add(SOURCE_TOPIC, utf8(source.topic()));
        headers.add(SOURCE_PARTITION, utf8(Integer.toString(source.partition())));
        headers.add(SOURCE_OFFSET, utf8(Long.toString(source.offset())));
        headers.add(SERVICE, utf8(service));
        headers.add(AT, utf8(Long.toString(nowMs)));
        return new ProducerRecord<>(deadLetterTopic, null, source.key(), source.value(), headers);
    }

    public static String header(Iterable<Header> headers, String name) {
        String value = null;
        for (Header h : headers) {
            if (h.key().equals(name) && h.value() != null) {
                value = new String(h.value(), StandardCharsets.UTF_8);
            }
        }
        return value;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
