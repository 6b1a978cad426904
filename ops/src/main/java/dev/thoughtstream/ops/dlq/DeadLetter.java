package dev.thoughtstream.ops.dlq;

import dev.thoughtstream.common.kafka.DeadLetters;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * One dead letter as the operator sees it: where it lies on the dead-letter topic, and the headers
 * {@link DeadLetters} wrote (why, from where, by which service).
 *
 * @param partition       its partition on the dead-letter topic
 * @param offset          its offset there; {@code partition:offset} names it for {@code show}
 * @param timestampMs     when it was written to the dead-letter topic
 * @param reason          {@code dlq.reason}
 * @param sourceTopic     {@code dlq.source.topic}: where the record came from, and where a redrive sends it
 * @param sourcePartition {@code dlq.source.partition}
 * @param sourceOffset    {@code dlq.source.offset}
 * @param service         {@code dlq.service}: which service gave up on it
 * @param chatId          the key as a chat id, when it is one (8 bytes)
 * @param value           the value as UTF-8 text (the events are JSON)
 * @param headers         every header, as UTF-8 text
 * @param redriven        whether a redrive already sent it back (see {@link DeadLetterQueue})
 */
public record DeadLetter(
        int partition,
        long offset,
        long timestampMs,
        String reason,
        String sourceTopic,
        String sourcePartition,
        String sourceOffset,
        String service,
        Long chatId,
        String value,
        Map<String, String> headers,
        boolean redriven) {

    public String coordinates() {
        return partition + ":" + offset;
    }

    static DeadLetter of(ConsumerRecord<byte[], byte[]> r, boolean redriven) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (Header h : r.headers()) {
            headers.put(h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
        }
        Long chatId = r.key() != null && r.key().length == Long.BYTES
                ? ByteBuffer.wrap(r.key()).getLong()
                : null;
        return new DeadLetter(
                r.partition(),
                r.offset(),
                r.timestamp(),
                DeadLetters.header(r.headers(), DeadLetters.REASON),
                DeadLetters.header(r.headers(), DeadLetters.SOURCE_TOPIC),
                DeadLetters.header(r.headers(), DeadLetters.SOURCE_PARTITION),
                DeadLetters.header(r.headers(), DeadLetters.SOURCE_OFFSET),
                DeadLetters.header(r.headers(), DeadLetters.SERVICE),
                chatId,
                r.value() == null ? null : new String(r.value(), StandardCharsets.UTF_8),
                headers,
                redriven);
    }
}
