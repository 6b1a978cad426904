package dev.thoughtstream.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.topic.Topic;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
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
 *
 * <p>Rules: each new update is judged by {@link IntakeRules} first; only what the verdict says is written (an update
 * may be dropped, or cut to the size cap), and a notice for the person goes to the replies topic in the same batch.
 * The batch counts as written once Kafka acknowledged both. Every judged update id is then remembered, written or
 * not, so a redelivery is not judged (or answered) again.
 *
 * <p>Staleness signal: once a batch is acknowledged, each written {@code message} tells {@link ChatActivity} its
 * chat's newest message id (never before: a message that could still be lost must not make a reply stale; never for
 * a dropped one: group chatter or a flood must not cancel the bot's reply, nor make its own notice stale).
 *
 * <p>Redis round trips: a batch costs the same few whatever its size: one dedup lookup for all its updates, one
 * flood-window call for all its messages (in {@link IntakeRules#judgeAll}), then after the acknowledgement one
 * staleness record for all its chats and one dedup record for all its ids. (Only notices, which are rare, ask Redis
 * one at a time.)
 *
 * <p>Two callers: the long poller ({@link #writeAll}, waits for as long as it takes) and the webhook
 * ({@link #writeWithin}, gives up at a deadline so Telegram can be answered and retry). Batches are written one at a
 * time.
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

    /** How a bounded write ended. */
    enum Outcome {
        /** Everything the batch needed is in Kafka. */
        WRITTEN,
        /** The deadline passed first; nothing of the batch is remembered (what Kafka still acknowledges later is). */
        TIMED_OUT,
        /** Closed (or interrupted) first. */
        CLOSED
    }

    private static final long NO_DEADLINE = Long.MAX_VALUE;

    private final Producer<Long, StoredUpdate> producer;
    private final SendNow sendUpdates;
    private final Topic<Long, StoredUpdate> topic;
    private final Producer<Long, ReplyPart> noticeProducer;
    private final SendNow sendNotices;
    private final Topic<Long, ReplyPart> replies;
    private final IntakeRules rules;
    /** Null: the staleness signal is not fed. */
    private final ChatActivity activity;
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
    private final AtomicLong activityRecorded = new AtomicLong();
    private final AtomicLong activityUnavailable = new AtomicLong();
    private volatile long lastWrittenUpdateId = -1;
    /** True while the batch in progress has failed at least once (Kafka is in trouble). */
    private volatile boolean failing;

    /**
     * @param noticeProducer writes the rules' notices to {@code replies}; both producers belong to the caller
     * @param activity       told of each written user message; null: not fed
     */
    UpdateWriter(Producer<Long, StoredUpdate> producer, Topic<Long, StoredUpdate> topic,
            Producer<Long, ReplyPart> noticeProducer, Topic<Long, ReplyPart> replies, IntakeRules rules,
            ChatActivity activity, ClaimStore claims, String dedupPrefix, Duration dedupTtl, Duration maxBackoff,
            Clock clock) {
        this(producer, topic, noticeProducer, replies, rules, activity, claims, dedupPrefix, dedupTtl, maxBackoff,
                clock, -1);
    }

    /**
     * @param leaseToken the poller lease's fencing token, put in the {@value #HEADER_LEASE_TOKEN} header of every
     *                   record written (audit: which term wrote it); negative: no lease, no header
     */
    UpdateWriter(Producer<Long, StoredUpdate> producer, Topic<Long, StoredUpdate> topic,
            Producer<Long, ReplyPart> noticeProducer, Topic<Long, ReplyPart> replies, IntakeRules rules,
            ChatActivity activity, ClaimStore claims, String dedupPrefix, Duration dedupTtl, Duration maxBackoff,
            Clock clock, long leaseToken) {
        this.leaseToken = leaseToken;
        this.producer = producer;
        this.sendUpdates = new SendNow(producer, "updates");
        this.topic = topic;
        this.noticeProducer = noticeProducer;
        this.sendNotices = new SendNow(noticeProducer, "notices");
        this.replies = replies;
        this.rules = rules;
        this.activity = activity;
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
        return write(updates, NO_DEADLINE) == Outcome.WRITTEN;
    }

    /**
     * Like {@link #writeAll} but gives up after {@code timeout} (including the wait for a batch in progress), for a
     * webhook delivery that must be answered while Telegram still listens. A record Kafka acknowledges after the
     * deadline is still remembered for deduplication, so Telegram's retry of it is skipped.
     */
    Outcome writeWithin(List<JsonNode> updates, Duration timeout) {
        return write(updates, System.nanoTime() + timeout.toNanos());
    }

    private Outcome write(List<JsonNode> updates, long deadline) {
        try {
            if (deadline == NO_DEADLINE) {
                writing.lock();
            } else if (!writing.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return Outcome.TIMED_OUT;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.CLOSED;
        }
        try {
            if (isClosed()) {
                return Outcome.CLOSED;
            }
            failing = false;
            List<ProducerRecord<Long, StoredUpdate>> records = new ArrayList<>();
            List<ProducerRecord<Long, ReplyPart>> notices = new ArrayList<>();
            List<JsonNode> toWrite = new ArrayList<>();
            List<Long> ids = new ArrayList<>();
            List<IngestResult> results = new ArrayList<>();
            long maxId = -1;
            List<JsonNode> fresh = new ArrayList<>(updates.size());
            List<Optional<String>> seen = lookUpWritten(updates);
            Set<Long> inBatch = new HashSet<>();
            for (int i = 0; i < updates.size(); i++) {
                JsonNode update = updates.get(i);
                long updateId = update.path("update_id").asLong(-1);
                maxId = Math.max(maxId, updateId);
                if (seen != null && seen.get(i).isPresent()) {
                    duplicatesSkipped.incrementAndGet();
                    results.add(IngestResult.DUPLICATE);
                    LOG.info("update {} was written before (redelivered by Telegram); skipping it", updateId);
                } else if (!inBatch.add(updateId)) {
                    // The same update twice in one batch (a webhook retry meeting its first delivery): written once.
                    duplicatesSkipped.incrementAndGet();
                    results.add(IngestResult.DUPLICATE);
                    LOG.info("update {} is twice in one batch; writing it once", updateId);
                } else {
                    fresh.add(update);
                }
            }
            List<IntakeRules.Verdict> verdicts = rules.judgeAll(fresh);
            for (int i = 0; i < fresh.size(); i++) {
                long updateId = fresh.get(i).path("update_id").asLong(-1);
                IntakeRules.Verdict verdict = verdicts.get(i);
                results.add(verdict.result());
                ids.add(updateId);
                if (verdict.toWrite() != null) {
                    records.add(record(updateId, verdict.toWrite()));
                    toWrite.add(verdict.toWrite());
                }
                if (verdict.notice() != null) {
                    ReplyPart n = verdict.notice();
                    notices.add(new ProducerRecord<>(replies.name(), null, n.createdAtMs(), n.chatId(), n));
                }
            }
            // Notices first: if the deadline passes between the two, Telegram's retry sends the notice again
            // (same reply id, sent once by the emitter) instead of writing an acknowledged update twice.
            Outcome outcome = sendUntilAcknowledged(noticeProducer, sendNotices, replies.name(), notices, deadline,
                    null);
            if (outcome == Outcome.WRITTEN) {
                outcome = sendUntilAcknowledged(producer, sendUpdates, topic.name(), records, deadline,
                        this::rememberLate);
            }
            if (outcome != Outcome.WRITTEN) {
                return outcome;
            }
            failing = false;
            // The staleness signal first: a newer message should cancel stale work as early as it safely can.
            recordActivity(toWrite);
            rememberAll(ids);
            written.addAndGet(records.size());
            results.forEach(rules::count);
            if (maxId >= 0) {
                lastWrittenUpdateId = Math.max(lastWrittenUpdateId, maxId);
            }
            return Outcome.WRITTEN;
        } finally {
            writing.unlock();
        }
    }

    /** A record of a timed-out webhook batch that Kafka acknowledged after all: Telegram's retry must skip it. */
    private void rememberLate(ProducerRecord<Long, StoredUpdate> record) {
        LOG.info("update {} reached {} after its webhook delivery was answered; remembering it so Telegram's retry is "
                + "skipped", record.value().updateId(), topic.name());
        remember(record.value().updateId());
    }

    /**
     * Tells the staleness signal about the new user messages written, now that Kafka has them: each chat's newest,
     * all chats of the batch in one call (one round trip on Redis). Edits keep their message's id and supersede
     * nothing, so only {@code message} counts. Redis down: counted and skipped (fail open); downstream then answers
     * what it would have skipped.
     */
    private void recordActivity(List<JsonNode> written) {
        if (activity == null) {
            return;
        }
        Map<Long, Long> newest = new LinkedHashMap<>();
        int messages = 0;
        for (JsonNode update : written) {
            JsonNode message = update.path("message");
            JsonNode messageId = message.path("message_id");
            JsonNode chatId = message.path("chat").path("id");
            if (!messageId.canConvertToLong() || !chatId.canConvertToLong()) {
                continue;
            }
            newest.merge(chatId.asLong(), messageId.asLong(), Math::max);
            messages++;
        }
        if (newest.isEmpty()) {
            return;
        }
        try {
            activity.recordIngested(newest);
            activityRecorded.addAndGet(messages);
        } catch (RuntimeException e) {
            activityUnavailable.addAndGet(messages);
            LOG.warn("{} message(s) of {} chat(s) are in Kafka but the staleness signal could not record them ({}); "
                    + "older replies of those chats will not be cancelled for them (chats {})", messages,
                    newest.size(), e.toString(), newest.keySet());
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
     * original order (re-sending acknowledged ones would put duplicates on the topic). Gives up at {@code deadline}
     * ({@link System#nanoTime()}), handing each record still in flight to {@code lateAck} for when Kafka
     * acknowledges it after all.
     */
    private <V> Outcome sendUntilAcknowledged(Producer<Long, V> to, SendNow sendNow, String topicName,
            List<ProducerRecord<Long, V>> records, long deadline, Consumer<ProducerRecord<Long, V>> lateAck) {
        List<ProducerRecord<Long, V>> pending = records;
        long backoffMs = FIRST_BACKOFF_MS;
        for (int attempt = 1; !pending.isEmpty(); attempt++) {
            List<ProducerRecord<Long, V>> failed = new ArrayList<>();
            Throwable cause;
            try {
                cause = attempt(to, sendNow, topicName, pending, failed, attempt > 1, deadline, lateAck);
            } catch (InterruptedException | InterruptException e) {
                Thread.currentThread().interrupt();
                LOG.warn("interrupted while writing {} record(s) to {}; they stay unconfirmed", pending.size(),
                        topicName);
                return Outcome.CLOSED;
            }
            if (cause == null) {
                return Outcome.WRITTEN;
            }
            if (cause instanceof DeadlinePassed) {
                LOG.warn("{} record(s) not acknowledged by {} in time; answering the webhook delivery with an error so "
                        + "Telegram retries it", pending.size(), topicName);
                return Outcome.TIMED_OUT;
            }
            if (failed.isEmpty()) {
                // Closed while waiting for acknowledgements of a batch that was already failing.
                LOG.warn("closing while {} record(s) were still unacknowledged by {}; they stay unconfirmed",
                        pending.size(), topicName);
                return Outcome.CLOSED;
            }
            failing = true;
            writeRetries.incrementAndGet();
            long remainingMs = deadline == NO_DEADLINE ? Long.MAX_VALUE
                    : TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            LOG.warn("cannot write {} of {} record(s) to {} ({}); not confirming them to Telegram, retrying in {} ms",
                    failed.size(), records.size(), topicName, cause, Math.min(backoffMs, Math.max(0, remainingMs)));
            if (remainingMs <= backoffMs) {
                return Outcome.TIMED_OUT;
            }
            try {
                if (closed.await(backoffMs, TimeUnit.MILLISECONDS)) {
                    LOG.warn("closing; {} record(s) not written to {} stay unconfirmed", failed.size(), topicName);
                    return Outcome.CLOSED;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Outcome.CLOSED;
            }
            backoffMs = Math.min(backoffMs * 2, maxBackoff.toMillis());
            pending = failed;
        }
        return Outcome.WRITTEN;
    }

    /** The failure {@link #attempt} reports when the deadline passed while acknowledgements were awaited. */
    private static final class DeadlinePassed extends Exception {
        private static final long serialVersionUID = 1L;

        DeadlinePassed() {
            super("deadline passed", null, false, false);
        }
    }

    /**
     * One attempt to write {@code records}. Returns null when all were acknowledged; otherwise the first failure,
     * with the records not acknowledged added to {@code failed} in their original order. When {@code
     * abandonOnClose} (the batch failed before, so Kafka is in trouble) and the writer is closed meanwhile, stops
     * waiting and returns a failure with {@code failed} left empty. When the deadline passes, stops waiting and
     * returns {@link DeadlinePassed}, after handing the records in flight to {@code lateAck}.
     *
     * <p>A chat's order must survive partial failures, and an acknowledged record cannot be taken back: if a
     * chat's first record failed (say its send waited too long for metadata) while its second was acknowledged,
     * the retry would land the first after the second. So records go out in waves holding at most one record
     * per chat, a wave is sent only when the one before was acknowledged, and a chat whose record failed sends
     * nothing more in this attempt. Chats still go in parallel; a chat's burst costs one round trip per record.
     */
    private <V> Throwable attempt(Producer<Long, V> to, SendNow sendNow, String topicName,
            List<ProducerRecord<Long, V>> records, List<ProducerRecord<Long, V>> failed, boolean abandonOnClose,
            long deadline, Consumer<ProducerRecord<Long, V>> lateAck) throws InterruptedException {
        try {
            // Waits (up to max.block.ms) once for the topic's metadata, instead of once per record in send().
            to.partitionsFor(topicName);
        } catch (InterruptException e) {
            throw e;
        } catch (RuntimeException e) {
            failed.addAll(records);
            return e;
        }
        Map<Long, Deque<ProducerRecord<Long, V>>> byChat = new LinkedHashMap<>();
        for (ProducerRecord<Long, V> r : records) {
            byChat.computeIfAbsent(r.key(), chat -> new ArrayDeque<>()).add(r);
        }
        Set<ProducerRecord<Long, V>> acknowledged = Collections.newSetFromMap(new IdentityHashMap<>());
        Throwable cause = null;
        while (!byChat.isEmpty()) {
            List<ProducerRecord<Long, V>> wave = new ArrayList<>(byChat.size());
            for (Iterator<Deque<ProducerRecord<Long, V>>> it = byChat.values().iterator(); it.hasNext(); ) {
                Deque<ProducerRecord<Long, V>> chat = it.next();
                wave.add(chat.removeFirst());
                if (chat.isEmpty()) {
                    it.remove();
                }
            }
            List<CompletableFuture<RecordMetadata>> acks = new ArrayList<>(wave.size());
            for (ProducerRecord<Long, V> r : wave) {
                acks.add(send(to, r));
            }
            // The whole wave in one request per broker, now (see SendNow).
            sendNow.request();
            for (int i = 0; i < wave.size(); i++) {
                ProducerRecord<Long, V> r = wave.get(i);
                Ack ack = awaitAck(acks.get(i), abandonOnClose, deadline);
                if (ack == Ack.ABANDONED) {
                    return new IllegalStateException("closed while waiting for Kafka");
                }
                if (ack == Ack.DEADLINE) {
                    if (lateAck != null) {
                        for (int j = i; j < wave.size(); j++) {
                            ProducerRecord<Long, V> inFlight = wave.get(j);
                            acks.get(j).thenRunAsync(() -> lateAck.accept(inFlight));
                        }
                    }
                    return new DeadlinePassed();
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

    private static <V> CompletableFuture<RecordMetadata> send(Producer<Long, V> to, ProducerRecord<Long, V> record) {
        CompletableFuture<RecordMetadata> ack = new CompletableFuture<>();
        try {
            to.send(record, (metadata, failure) -> {
                if (failure != null) {
                    ack.completeExceptionally(failure);
                } else {
                    ack.complete(metadata);
                }
            });
        } catch (InterruptException e) {
            throw e;
        } catch (RuntimeException e) {
            ack.completeExceptionally(e);
        }
        return ack;
    }

    /** How waiting for one record ended: acknowledged, failed (with the cause), abandoned on close, or too late. */
    private static final class Ack {
        static final Ack ACKNOWLEDGED = new Ack(null);
        static final Ack ABANDONED = new Ack(null);
        static final Ack DEADLINE = new Ack(null);

        private final Throwable failure;

        Ack(Throwable failure) {
            this.failure = failure;
        }

        Throwable failure() {
            return failure;
        }
    }

    private Ack awaitAck(CompletableFuture<RecordMetadata> ack, boolean abandonOnClose, long deadline)
            throws InterruptedException {
        while (true) {
            long waitMs = ACK_POLL_MS;
            if (deadline != NO_DEADLINE) {
                long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                waitMs = Math.max(0, Math.min(waitMs, remainingMs));
            }
            try {
                ack.get(waitMs, TimeUnit.MILLISECONDS);
                return Ack.ACKNOWLEDGED;
            } catch (TimeoutException e) {
                if (abandonOnClose && isClosed()) {
                    return Ack.ABANDONED;
                }
                if (deadline != NO_DEADLINE && System.nanoTime() - deadline >= 0) {
                    return Ack.DEADLINE;
                }
            } catch (ExecutionException e) {
                return new Ack(e.getCause());
            }
        }
    }

    /**
     * Which of {@code updates} were written before, in their order, with one dedup lookup for the whole batch (one
     * round trip on Redis); null when the dedup store is unreachable (then all are written, and each is counted).
     */
    private List<Optional<String>> lookUpWritten(List<JsonNode> updates) {
        List<String> keys = new ArrayList<>(updates.size());
        for (JsonNode update : updates) {
            keys.add(key(update.path("update_id").asLong(-1)));
        }
        try {
            return claims.getAll(keys);
        } catch (RuntimeException e) {
            dedupUnavailable.addAndGet(updates.size());
            LOG.warn("dedup store unavailable ({}); writing {} update(s) without the duplicate check", e.toString(),
                    updates.size());
            return null;
        }
    }

    /** Remembers every judged update id of the batch, in one call (one round trip on Redis). */
    private void rememberAll(List<Long> updateIds) {
        if (updateIds.isEmpty()) {
            return;
        }
        List<String> keys = new ArrayList<>(updateIds.size());
        updateIds.forEach(id -> keys.add(key(id)));
        try {
            claims.putAll(keys, "1", dedupTtl);
        } catch (RuntimeException e) {
            dedupUnavailable.addAndGet(updateIds.size());
            LOG.warn("dedup store unavailable ({}); {} update(s) ({} to {}) may be written again if Telegram "
                    + "redelivers them", e.toString(), updateIds.size(), updateIds.get(0),
                    updateIds.get(updateIds.size() - 1));
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

    long activityRecorded() {
        return activityRecorded.get();
    }

    long activityUnavailable() {
        return activityUnavailable.get();
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

    /** Ends any wait for Kafka once the current attempt is known to fail; the producers belong to the caller. */
    @Override
    public void close() {
        closed.countDown();
        sendUpdates.close();
        sendNotices.close();
    }
}
