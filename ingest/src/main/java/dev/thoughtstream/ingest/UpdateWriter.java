package dev.thoughtstream.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.topic.Topic;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a batch of raw updates to the updates topic and returns only once Kafka acknowledged every one of
 * them: Telegram's offset is confirmed by the next getUpdates, which TelegramBots sends right after the
 * consumer returns, so returning early would lose updates on a crash.
 *
 * <p>Kafka unreachable: the records not yet acknowledged are sent again with exponential backoff for as long as
 * it takes; the poller stays blocked, so nothing more is confirmed. Acknowledged records are not sent again
 * (the chunker does not deduplicate). Only {@link #close()} ends the wait, and then the batch is reported as not
 * written (the caller must not let it be confirmed).
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
    /** The fencing token of the poller lease the record was written under (absent without a lease), for audit. */
    static final String HEADER_LEASE_TOKEN = "ingest.lease_token";
    static final long FIRST_BACKOFF_MS = 100;
    /** How often a wait for acknowledgements looks whether the writer was closed meanwhile. */
    private static final long ACK_POLL_MS = 100;

    private final Producer<Long, StoredUpdate> producer;
    private final Topic<Long, StoredUpdate> topic;
    private final ClaimStore claims;
    private final String dedupPrefix;
    private final Duration dedupTtl;
    private final Duration maxBackoff;
    private final Clock clock;
    /** The poller lease's fencing token (-1: no lease), put in every record's headers. */
    private final long leaseToken;
    private final CountDownLatch closed = new CountDownLatch(1);
    /** Held for a whole {@link #writeAll}, so {@link #awaitIdle} can wait for a batch in progress. */
    private final ReentrantLock writing = new ReentrantLock();

    private final AtomicLong written = new AtomicLong();
    private final AtomicLong duplicatesSkipped = new AtomicLong();
    private final AtomicLong dedupUnavailable = new AtomicLong();
    private final AtomicLong writeRetries = new AtomicLong();
    private volatile long lastWrittenUpdateId = -1;
    /** True while the batch in progress has failed at least once (Kafka is in trouble). */
    private volatile boolean failing;

    UpdateWriter(Producer<Long, StoredUpdate> producer, Topic<Long, StoredUpdate> topic, ClaimStore claims,
            String dedupPrefix, Duration dedupTtl, Duration maxBackoff, Clock clock) {
        this(producer, topic, claims, dedupPrefix, dedupTtl, maxBackoff, clock, -1);
    }

    UpdateWriter(Producer<Long, StoredUpdate> producer, Topic<Long, StoredUpdate> topic, ClaimStore claims,
            String dedupPrefix, Duration dedupTtl, Duration maxBackoff, Clock clock, long leaseToken) {
        this.leaseToken = leaseToken;
        this.producer = producer;
        this.topic = topic;
        this.claims = claims;
        this.dedupPrefix = dedupPrefix;
        this.dedupTtl = dedupTtl;
        this.maxBackoff = maxBackoff;
        this.clock = clock;
    }

    /**
     * Writes {@code updates} (raw Update JSON objects, in Telegram's order). Returns true once all are in Kafka
     * (or were already), false only when closed before that (a batch arriving after close is not started: it
     * could not be confirmed any more, so the next poller gets it).
     */
    boolean writeAll(List<JsonNode> updates) {
        writing.lock();
        try {
            if (isClosed()) {
                return false;
            }
            failing = false;
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
                records.add(record(updateId, update));
                ids.add(updateId);
            }
            if (!sendUntilAcknowledged(records)) {
                return false;
            }
            failing = false;
            for (long id : ids) {
                remember(id);
            }
            written.addAndGet(records.size());
            if (maxId >= 0) {
                lastWrittenUpdateId = Math.max(lastWrittenUpdateId, maxId);
            }
            return true;
        } finally {
            writing.unlock();
        }
    }

    private ProducerRecord<Long, StoredUpdate> record(long updateId, JsonNode update) {
        long chatId = UpdateRecords.chatIdOf(update);
        long now = clock.millis();
        RecordHeaders headers = new RecordHeaders();
        headers.add(HEADER_UPDATE_ID, Long.toString(updateId).getBytes(StandardCharsets.UTF_8));
        headers.add(HEADER_RECEIVED_AT, Long.toString(now).getBytes(StandardCharsets.UTF_8));
        if (leaseToken >= 0) {
            headers.add(HEADER_LEASE_TOKEN, Long.toString(leaseToken).getBytes(StandardCharsets.UTF_8));
        }
        return new ProducerRecord<>(topic.name(), null, now, chatId, StoredUpdate.of(updateId, chatId, now, update),
                headers);
    }

    /**
     * Sends until every record is acknowledged; each retry sends only the records not acknowledged yet, in their
     * original order (re-sending acknowledged ones would put duplicates on the topic).
     */
    private boolean sendUntilAcknowledged(List<ProducerRecord<Long, StoredUpdate>> records) {
        List<ProducerRecord<Long, StoredUpdate>> pending = records;
        long backoffMs = FIRST_BACKOFF_MS;
        for (int attempt = 1; !pending.isEmpty(); attempt++) {
            List<ProducerRecord<Long, StoredUpdate>> failed = new ArrayList<>();
            Throwable cause;
            try {
                cause = attempt(pending, failed, attempt > 1);
            } catch (InterruptedException | InterruptException e) {
                Thread.currentThread().interrupt();
                LOG.warn("interrupted while writing {} update(s) to {}; they stay unconfirmed", pending.size(),
                        topic.name());
                return false;
            }
            if (cause == null) {
                return true;
            }
            if (failed.isEmpty()) {
                // Closed while waiting for acknowledgements of a batch that was already failing.
                LOG.warn("closing while {} update(s) were still unacknowledged by {}; they stay unconfirmed",
                        pending.size(), topic.name());
                return false;
            }
            failing = true;
            writeRetries.incrementAndGet();
            LOG.warn("cannot write {} of {} update(s) to {} ({}); not confirming them to Telegram, retrying in {} ms",
                    failed.size(), records.size(), topic.name(), cause, backoffMs);
            try {
                if (closed.await(backoffMs, TimeUnit.MILLISECONDS)) {
                    LOG.warn("closing; {} update(s) not written to {} stay unconfirmed", failed.size(), topic.name());
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            backoffMs = Math.min(backoffMs * 2, maxBackoff.toMillis());
            pending = failed;
        }
        return true;
    }

    /**
     * One attempt to write {@code records}. Returns null when all were acknowledged; otherwise the first failure,
     * with the records not acknowledged added to {@code failed} in their original order. When {@code
     * abandonOnClose} (the batch failed before, so Kafka is in trouble) and the writer is closed meanwhile, stops
     * waiting and returns a failure with {@code failed} left empty.
     *
     * <p>A chat's order must survive partial failures, and an acknowledged record cannot be taken back: if a
     * chat's first record failed (say its send waited too long for metadata) while its second was acknowledged,
     * the retry would land the first after the second. So records go out in waves holding at most one record
     * per chat, a wave is sent only when the one before was acknowledged, and a chat whose record failed sends
     * nothing more in this attempt. Chats still go in parallel; a chat's burst costs one round trip per record.
     */
    private Throwable attempt(List<ProducerRecord<Long, StoredUpdate>> records,
            List<ProducerRecord<Long, StoredUpdate>> failed, boolean abandonOnClose) throws InterruptedException {
        try {
            // Waits (up to max.block.ms) once for the topic's metadata, instead of once per record in send().
            producer.partitionsFor(topic.name());
        } catch (InterruptException e) {
            throw e;
        } catch (RuntimeException e) {
            failed.addAll(records);
            return e;
        }
        Map<Long, Deque<ProducerRecord<Long, StoredUpdate>>> byChat = new LinkedHashMap<>();
        for (ProducerRecord<Long, StoredUpdate> r : records) {
            byChat.computeIfAbsent(r.key(), chat -> new ArrayDeque<>()).add(r);
        }
        Set<ProducerRecord<Long, StoredUpdate>> acknowledged = Collections.newSetFromMap(new IdentityHashMap<>());
        Throwable cause = null;
        while (!byChat.isEmpty()) {
            List<ProducerRecord<Long, StoredUpdate>> wave = new ArrayList<>(byChat.size());
            for (Iterator<Deque<ProducerRecord<Long, StoredUpdate>>> it = byChat.values().iterator(); it.hasNext(); ) {
                Deque<ProducerRecord<Long, StoredUpdate>> chat = it.next();
                wave.add(chat.removeFirst());
                if (chat.isEmpty()) {
                    it.remove();
                }
            }
            List<Future<RecordMetadata>> acks = new ArrayList<>(wave.size());
            for (ProducerRecord<Long, StoredUpdate> r : wave) {
                acks.add(send(r));
            }
            for (int i = 0; i < wave.size(); i++) {
                ProducerRecord<Long, StoredUpdate> r = wave.get(i);
                Ack ack = awaitAck(acks.get(i), abandonOnClose);
                if (ack == Ack.ABANDONED) {
                    return new IllegalStateException("closed while waiting for Kafka");
                }
                if (ack.failure() != null) {
                    cause = cause == null ? ack.failure() : cause;
                    // The chat's later records wait for the retry, behind this one.
                    byChat.remove(r.key());
                } else {
                    acknowledged.add(r);
                }
            }
        }
        if (cause != null) {
            records.stream().filter(r -> !acknowledged.contains(r)).forEach(failed::add);
        }
        return cause;
    }

    private Future<RecordMetadata> send(ProducerRecord<Long, StoredUpdate> record) {
        try {
            return producer.send(record);
        } catch (InterruptException e) {
            throw e;
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** How waiting for one record ended: acknowledged, failed (with the cause), or abandoned on close. */
    private static final class Ack {
        static final Ack ACKNOWLEDGED = new Ack(null);
        static final Ack ABANDONED = new Ack(null);

        private final Throwable failure;

        Ack(Throwable failure) {
            this.failure = failure;
        }

        Throwable failure() {
            return failure;
        }
    }

    private Ack awaitAck(Future<RecordMetadata> ack, boolean abandonOnClose) throws InterruptedException {
        while (true) {
            try {
                ack.get(ACK_POLL_MS, TimeUnit.MILLISECONDS);
                return Ack.ACKNOWLEDGED;
            } catch (TimeoutException e) {
                if (abandonOnClose && isClosed()) {
                    return Ack.ABANDONED;
                }
            } catch (ExecutionException e) {
                return new Ack(e.getCause());
            }
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

    private boolean isClosed() {
        return closed.getCount() == 0;
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

    /** True while the batch in progress has already failed to be written (so waiting for it is pointless). */
    boolean isFailing() {
        return failing;
    }

    /**
     * After {@link #close()}: waits up to {@code timeout} for a batch in progress to finish (a healthy Kafka
     * acknowledges within milliseconds, and a batch that is written can still be confirmed). True when no batch
     * is in progress any more; none starts after close.
     */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        if (writing.tryLock(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            writing.unlock();
            return true;
        }
        return false;
    }

    /** Ends any wait for Kafka once the current attempt is known to fail; the producer belongs to the caller. */
    @Override
    public void close() {
        closed.countDown();
    }
}
