package dev.thoughtstream.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.topic.Topic;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a batch of raw updates to the updates topic and returns only once Kafka acknowledged every one of
 * them: Telegram's offset is confirmed by the next getUpdates, which TelegramBots sends right after the
 * consumer returns, so returning early would lose updates on a crash.
 *
 * <p>Kafka unreachable: the batch is retried with exponential backoff for as long as it takes; the poller
 * stays blocked, so nothing more is confirmed. Only {@link #close()} ends the wait, and then the batch is
 * reported as not written (the caller must not let it be confirmed).
 *
 * <p>Deduplication: an update id already recorded in Redis was written before (Telegram redelivers what was
 * not confirmed, e.g. after a crash between the write and the confirmation) and is skipped. The id is recorded
 * only after Kafka's acknowledgement, so a crash in between may write a duplicate but never loses one. Redis
 * down: write anyway and count it.
 */
final class UpdateWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpdateWriter.class);
    static final String HEADER_UPDATE_ID = "tg.update_id";
    static final String HEADER_RECEIVED_AT = "ingest.received_at";

    private final Producer<Long, StoredUpdate> producer;
    private final Topic<Long, StoredUpdate> topic;
    private final ClaimStore claims;
    private final String dedupPrefix;
    private final Duration dedupTtl;
    private final Duration maxBackoff;
    private final Clock clock;
    private final ObjectMapper mapper;
    private final CountDownLatch closed = new CountDownLatch(1);

    private final AtomicLong written = new AtomicLong();
    private final AtomicLong duplicatesSkipped = new AtomicLong();
    private final AtomicLong dedupUnavailable = new AtomicLong();
    private final AtomicLong writeRetries = new AtomicLong();
    private volatile long lastWrittenUpdateId = -1;

    UpdateWriter(Producer<Long, StoredUpdate> producer, Topic<Long, StoredUpdate> topic, ClaimStore claims,
            String dedupPrefix, Duration dedupTtl, Duration maxBackoff, Clock clock, ObjectMapper mapper) {
        this.producer = producer;
        this.topic = topic;
        this.claims = claims;
        this.dedupPrefix = dedupPrefix;
        this.dedupTtl = dedupTtl;
        this.maxBackoff = maxBackoff;
        this.clock = clock;
        this.mapper = mapper;
    }

    /**
     * Writes {@code updates} (raw Update JSON objects, in Telegram's order). Returns true once all are in Kafka
     * (or were already), false only when closed before that.
     */
    boolean writeAll(List<JsonNode> updates) {
        List<ProducerRecord<Long, StoredUpdate>> records = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        long maxId = -1;
        for (JsonNode update : updates) {
            long updateId = update.path("update_id").asLong(-1);
            maxId = Math.max(maxId, updateId);
            if (alreadyWritten(updateId)) {
                duplicatesSkipped.incrementAndGet();
                LOG.info("update {} was written before (redelivered by Telegram); skipping it", updateId);
                continue;
            }
            long chatId = UpdateRecords.chatIdOf(update);
            long now = clock.millis();
            RecordHeaders headers = new RecordHeaders();
            headers.add(HEADER_UPDATE_ID, Long.toString(updateId).getBytes(StandardCharsets.UTF_8));
            headers.add(HEADER_RECEIVED_AT, Long.toString(now).getBytes(StandardCharsets.UTF_8));
            records.add(new ProducerRecord<>(topic.name(), null, now, chatId,
                    StoredUpdate.of(updateId, chatId, now, update), headers));
            ids.add(updateId);
        }
        if (!sendUntilAcknowledged(records)) {
            return false;
        }
        for (long id : ids) {
            remember(id);
        }
        written.addAndGet(records.size());
        if (maxId >= 0) {
            lastWrittenUpdateId = Math.max(lastWrittenUpdateId, maxId);
        }
        return true;
    }

    private boolean sendUntilAcknowledged(List<ProducerRecord<Long, StoredUpdate>> records) {
        long backoffMs = 100;
        while (true) {
            try {
                List<Future<RecordMetadata>> acks = new ArrayList<>(records.size());
                for (ProducerRecord<Long, StoredUpdate> r : records) {
                    acks.add(producer.send(r));
                }
                producer.flush();
                for (Future<RecordMetadata> ack : acks) {
                    ack.get();
                }
                return true;
            } catch (ExecutionException | RuntimeException e) {
                writeRetries.incrementAndGet();
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                LOG.warn("cannot write {} update(s) to {} ({}); not confirming them to Telegram, retrying in {} ms",
                        records.size(), topic.name(), cause.toString(), backoffMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            try {
                if (closed.await(backoffMs, TimeUnit.MILLISECONDS)) {
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            backoffMs = Math.min(backoffMs * 2, maxBackoff.toMillis());
        }
    }

    private boolean alreadyWritten(long updateId) {
        try {
            return claims.get(key(updateId)).isPresent();
        } catch (RuntimeException e) {
            dedupUnavailable.incrementAndGet();
            LOG.warn("dedup store unavailable ({}); writing update {} without the duplicate check", e.toString(), updateId);
            return false;
        }
    }

    private void remember(long updateId) {
        try {
            claims.put(key(updateId), "1", dedupTtl);
        } catch (RuntimeException e) {
            dedupUnavailable.incrementAndGet();
            LOG.warn("dedup store unavailable ({}); update {} may be written again if Telegram redelivers it",
                    e.toString(), updateId);
        }
    }

    private String key(long updateId) {
        return dedupPrefix + updateId;
    }

    long lastWrittenUpdateId() {
        return lastWrittenUpdateId;
    }

    long written() {
        return written.get();
    }

    long duplicatesSkipped() {
        return duplicatesSkipped.get();
    }

    long dedupUnavailable() {
        return dedupUnavailable.get();
    }

    long writeRetries() {
        return writeRetries.get();
    }

    JsonNode toTree(Object update) {
        return mapper.valueToTree(update);
    }

    /** Ends any wait for Kafka; the producer itself belongs to the caller. */
    @Override
    public void close() {
        closed.countDown();
    }
}
