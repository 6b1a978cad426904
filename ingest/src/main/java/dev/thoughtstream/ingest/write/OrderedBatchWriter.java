package dev.thoughtstream.ingest.write;

import dev.thoughtstream.common.retry.Backoff;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.InterruptException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a batch of chat-keyed records to one topic and returns once Kafka acknowledged every one, retrying what
 * failed with {@link Backoff} until it is written, the deadline passes or the writer is closed. Acknowledged records
 * are never sent again (the chunker does not deduplicate), and each chat's records land in their order even when
 * part of a batch fails (see {@link #attempt}).
 */
final class OrderedBatchWriter<V> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OrderedBatchWriter.class);
    /** No deadline: retry for as long as it takes (the long poller). */
    static final long NO_DEADLINE = Long.MAX_VALUE;
    /** How often a wait for acknowledgements looks whether the writer was closed meanwhile. */
    private static final long ACK_POLL_MS = 100;

    private final Producer<Long, V> producer;
    private final SendNow sendNow;
    private final String topicName;
    private final Backoff backoff;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicLong retries = new AtomicLong();
    /** True while the batch in progress has failed at least once (Kafka is in trouble). */
    private volatile boolean failing;

    /**
     * @param producer belongs to the caller, who closes it after this writer
     * @param sendNow  has what the producer holds sent at once; closed with this writer
     * @param backoff  the waits between attempts
     */
    OrderedBatchWriter(Producer<Long, V> producer, SendNow sendNow, String topicName, Backoff backoff) {
        this.producer = producer;
        this.sendNow = sendNow;
        this.topicName = topicName;
        this.backoff = backoff;
    }

    /**
     * Sends until every record is acknowledged; each retry sends only the records not acknowledged yet, in their
     * original order. Gives up at {@code deadline} ({@link System#nanoTime()}, or {@link #NO_DEADLINE}), handing each
     * record still in flight to {@code lateAck} (may be null) with the future of its acknowledgement, which Kafka may
     * still complete either way.
     */
    WriteOutcome write(
            List<ProducerRecord<Long, V>> records,
            long deadline,
            BiConsumer<ProducerRecord<Long, V>, CompletableFuture<RecordMetadata>> lateAck) {
        List<ProducerRecord<Long, V>> pending = records;
        Backoff.Sequence waits = backoff.sequence();
        for (int attempt = 1; !pending.isEmpty(); attempt++) {
            List<ProducerRecord<Long, V>> failed = new ArrayList<>();
            Throwable cause;
            try {
                cause = attempt(pending, failed, attempt > 1, deadline, lateAck);
            } catch (InterruptedException | InterruptException e) {
                Thread.currentThread().interrupt();
                LOG.warn(
                        "interrupted while writing {} record(s) to {}; they stay unconfirmed",
                        pending.size(),
                        topicName);
                return WriteOutcome.CLOSED;
            }
            if (cause == null) {
                failing = false;
                return WriteOutcome.WRITTEN;
            }
            if (cause instanceof DeadlinePassed) {
                LOG.warn(
                        "{} record(s) not acknowledged by {} in time; answering the webhook delivery with an error so "
                                + "Telegram retries it",
                        pending.size(),
                        topicName);
                return WriteOutcome.TIMED_OUT;
            }
            if (failed.isEmpty()) {
                // Closed while waiting for acknowledgements of a batch that was already failing.
                LOG.warn(
                        "closing while {} record(s) were still unacknowledged by {}; they stay unconfirmed",
                        pending.size(),
                        topicName);
                return WriteOutcome.CLOSED;
            }
            failing = true;
            retries.incrementAndGet();
            long backoffMs = waits.nextMillis();
            long remainingMs = deadline == NO_DEADLINE
                    ? Long.MAX_VALUE
                    : TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            LOG.warn(
                    "cannot write {} of {} record(s) to {} ({}); not confirming them to Telegram, retrying in {} ms",
                    failed.size(),
                    records.size(),
                    topicName,
                    cause,
                    Math.min(backoffMs, Math.max(0, remainingMs)));
            if (remainingMs <= backoffMs) {
                return WriteOutcome.TIMED_OUT;
            }
            try {
                if (closed.await(backoffMs, TimeUnit.MILLISECONDS)) {
                    LOG.warn("closing; {} record(s) not written to {} stay unconfirmed", failed.size(), topicName);
                    return WriteOutcome.CLOSED;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return WriteOutcome.CLOSED;
            }
            pending = failed;
        }
        return WriteOutcome.WRITTEN;
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
    private Throwable attempt(
            List<ProducerRecord<Long, V>> records,
            List<ProducerRecord<Long, V>> failed,
            boolean abandonOnClose,
            long deadline,
            BiConsumer<ProducerRecord<Long, V>, CompletableFuture<RecordMetadata>> lateAck)
            throws InterruptedException {
        try {
            // Waits (up to max.block.ms) once for the topic's metadata, instead of once per record in send().
            producer.partitionsFor(topicName);
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
                acks.add(send(r));
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
                            lateAck.accept(wave.get(j), acks.get(j));
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

    private CompletableFuture<RecordMetadata> send(ProducerRecord<Long, V> record) {
        CompletableFuture<RecordMetadata> ack = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, failure) -> {
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

    private boolean isClosed() {
        return closed.getCount() == 0;
    }

    /** True while the batch in progress has already failed to be written. */
    boolean isFailing() {
        return failing;
    }

    /** A new batch starts: whatever failed before is no reason to give up waiting for this one. */
    void startBatch() {
        failing = false;
    }

    /** Failed attempts so far (each was retried, or ended the write). */
    long retries() {
        return retries.get();
    }

    /** Ends any wait for Kafka once the current attempt is known to fail; the producer belongs to the caller. */
    @Override
    public void close() {
        closed.countDown();
        sendNow.close();
    }
}
