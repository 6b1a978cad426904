package dev.thoughtstream.llm.consume;

import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.ScaleConfig;
import dev.thoughtstream.llm.handle.Disposition;
import dev.thoughtstream.llm.handle.ThoughtHandler;
import dev.thoughtstream.llm.handle.ThoughtRecords;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mode {@code share}: one share consumer on its own thread, taking a batch of up to {@link ScaleConfig#shareBatch()}
 * thoughts at a time and handling them all at once ({@link ScaleConfig#shareConsumers()} of these per instance).
 *
 * <p>Kafka's share consumer in explicit acknowledgement mode has strict rules: every record of a poll is acknowledged
 * before the next poll, a record renewed (RENEW) comes back in a later poll and holds up new ones meanwhile, and only
 * the consumer that acquired a record can acknowledge it. So this worker polls again only when each record of its
 * batch is acknowledged: ACCEPT once its thought is finished, REJECT for poison (dead-lettered first), RELEASE when the
 * handling did not finish it, RENEW while it still runs or waits for another handling's claim (looking again every
 * {@value #WAIT_DELAY_MS} ms rather than releasing it, which would spend a delivery per look). It fetches with
 * {@code share.acquire.mode=record_limit}, so it never acquires a record it cannot start. The rules, the table of
 * acknowledgements and why there are several consumers per instance: docs/llm-processor.md, "Mode share".
 */
public final class ShareWorker {
    private static final Logger LOG = LoggerFactory.getLogger(ShareWorker.class);
    static final long WAIT_DELAY_MS = 500;
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final int DEFAULT_LOCK_MS = 30_000;
    private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);

    /** A record this consumer holds (acquired and not yet acknowledged for good). */
    private final class Held {
        ConsumerRecord<byte[], byte[]> record;
        final Thought thought;
        /** The current handling's result; null while waiting to look at a claim again. */
        CompletableFuture<Disposition> result;

        long retryAtNanos;
        long renewAtNanos;
        /** Returned by the last poll: it must be acknowledged (for good or RENEW) before the next poll. */
        boolean returned;

        Held(ConsumerRecord<byte[], byte[]> record, Thought thought) {
            this.record = record;
            this.thought = thought;
        }
    }

    private final ShareConsumer<byte[], byte[]> consumer;
    private final Topics topics;
    private final ThoughtHandler handler;
    private final int maxDeliveries;
    private final CountDownLatch stopping;
    private final Map<String, Held> held = new LinkedHashMap<>();
    private long renewAfterNanos = TimeUnit.MILLISECONDS.toNanos(DEFAULT_LOCK_MS / 2);
    /** A poll has completed: the consumer has joined the share group and fetches. */
    private volatile boolean polled;

    public ShareWorker(
            ShareConsumer<byte[], byte[]> consumer,
            Topics topics,
            ThoughtHandler handler,
            ScaleConfig scale,
            CountDownLatch stopping) {
        this.consumer = Objects.requireNonNull(consumer, "consumer");
        this.topics = Objects.requireNonNull(topics, "topics");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.maxDeliveries = scale.maxDeliveries();
        this.stopping = Objects.requireNonNull(stopping, "stopping");
    }

    private static String id(ConsumerRecord<?, ?> r) {
        return r.topic() + "-" + r.partition() + "@" + r.offset();
    }

    /**
     * A poll has completed. A share consumer shows no assignment (the broker hands out records, not partitions), so
     * this is the most its readiness can say: it has joined and asked for records once.
     */
    public boolean hasPolled() {
        return polled;
    }

    /** Runs until {@code running} turns false; then releases what it holds and closes nothing (the caller does). */
    public void run(BooleanSupplier running) {
        consumer.setAcknowledgementCommitCallback(this::acknowledged);
        consumer.subscribe(List.of(topics.thoughts().name()));
        try {
            while (running.getAsBoolean()) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(POLL_TIMEOUT);
                } catch (WakeupException e) {
                    continue; // close() wakes us; the loop condition ends it
                }
                polled = true;
                consumer.acquisitionLockTimeoutMs()
                        .ifPresent(ms -> renewAfterNanos = TimeUnit.MILLISECONDS.toNanos(ms / 2));
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    take(record);
                }
                settle(running);
            }
        } finally {
            shutdown();
        }
    }

    private void take(ConsumerRecord<byte[], byte[]> record) {
        long now = System.nanoTime();
        Held h = held.get(id(record));
        if (h != null) {
            // Renewed: the same delivery again, with its lock extended.
            h.record = record;
            h.returned = true;
            h.renewAtNanos = now + renewAfterNanos;
            return;
        }
        int deliveries = record.deliveryCount().map(Short::intValue).orElse(1);
        ThoughtRecords.Read read = ThoughtRecords.read(topics, record);
        h = new Held(record, read.thought());
        h.returned = true;
        h.renewAtNanos = now + renewAfterNanos;
        if (!read.ok()) {
            h.result = handler.deadLetter(record, read.unreadable(), Disposition.DEAD_LETTERED, null);
        } else if (deliveries >= maxDeliveries) {
            h.result = handler.deadLetter(
                    record,
                    "delivered " + deliveries + " times (" + ScaleConfig.MAX_DELIVERIES + "=" + maxDeliveries
                            + ") without being finished",
                    Disposition.DEAD_LETTERED,
                    read.thought());
        } else {
            h.result = handler.start(record, read.thought()).result();
        }
        held.put(id(record), h);
        forgetLost(now);
    }

    /**
     * A held record that polls stopped returning for longer than a lock lost its lock (a failed renewal): Kafka may
     * give it to another consumer, and only its handling, which goes on, still matters (it marks the claim done).
     */
    private void forgetLost(long now) {
        for (Iterator<Held> it = held.values().iterator(); it.hasNext(); ) {
            Held h = it.next();
            if (!h.returned && now - h.renewAtNanos > 2 * renewAfterNanos) {
                LOG.warn(
                        "{} was not returned after its renewal; its lock is lost and the record may go to another "
                                + "consumer",
                        id(h.record));
                it.remove();
            }
        }
    }

    /**
     * Waits until a returned record's handling ends or its renewal is due, then acknowledges every returned record:
     * for good when its handling finished or gave up, RENEW otherwise.
     */
    private void settle(BooleanSupplier running) {
        while (true) {
            List<Held> returned = new ArrayList<>();
            for (Held h : held.values()) {
                if (h.returned) {
                    returned.add(h);
                }
            }
            if (returned.isEmpty()) {
                return;
            }
            long now = System.nanoTime();
            boolean stop = !running.getAsBoolean();
            boolean progressed = false;
            for (Held h : returned) {
                if (h.result == null && (stop || now >= h.retryAtNanos)) {
                    h.result = stop
                            ? CompletableFuture.completedFuture(Disposition.RETRY)
                            : handler.start(h.record, h.thought).result();
                }
                if (h.result != null && h.result.isDone()) {
                    decide(h, h.result.isCompletedExceptionally() ? Disposition.RETRY : h.result.join(), stop);
                    progressed = true;
                }
            }
            if (progressed) {
                // Now rather than with the next poll, which waits for the rest of the batch.
                commitAsync();
                continue;
            }
            long deadline = Long.MAX_VALUE;
            List<CompletableFuture<Disposition>> pending = new ArrayList<>();
            for (Held h : returned) {
                deadline = Math.min(deadline, h.renewAtNanos);
                if (h.result == null) {
                    deadline = Math.min(deadline, h.retryAtNanos);
                } else {
                    pending.add(h.result);
                }
            }
            if (now >= minRenewAt(returned)) {
                for (Held h : returned) {
                    consumer.acknowledge(h.record, AcknowledgeType.RENEW);
                    h.returned = false;
                    LOG.debug("{} still in progress: renewing its lock", id(h.record));
                }
                // Synchronously: once the broker has answered, the next poll returns the renewed records without
                // fetching new ones (it would while a renewal is outstanding, and could not hand them out).
                try {
                    consumer.commitSync(COMMIT_TIMEOUT);
                } catch (RuntimeException e) {
                    LOG.warn("renewing the locks of {} records failed: {}", returned.size(), e.toString());
                }
                return;
            }
            awaitAny(pending, deadline - now);
        }
    }

    private static long minRenewAt(List<Held> returned) {
        return returned.stream().mapToLong(h -> h.renewAtNanos).min().orElse(Long.MAX_VALUE);
    }

    /** Waits up to {@code nanos} for one of {@code results}; wakes early when the worker is stopping. */
    private void awaitAny(List<CompletableFuture<Disposition>> results, long nanos) {
        if (nanos <= 0) {
            return;
        }
        try {
            if (results.isEmpty()) {
                // Only claims to look at again later: the stopping latch doubles as an interruptible timer.
                stopping.await(nanos, TimeUnit.NANOSECONDS);
            } else {
                CompletableFuture.anyOf(results.toArray(CompletableFuture[]::new))
                        .get(nanos, TimeUnit.NANOSECONDS);
            }
        } catch (TimeoutException e) {
            // The renewal is due.
        } catch (ExecutionException e) {
            // The handling's result carries it; decide() sees it.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a thought", e);
        }
    }

    /** Acknowledges {@code h} for good, or schedules another look at its claim. */
    private void decide(Held h, Disposition d, boolean stop) {
        if (d == Disposition.WAIT && !stop) {
            h.result = null;
            h.retryAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_DELAY_MS);
            return;
        }
        AcknowledgeType type;
        if (d == Disposition.DEAD_LETTERED) {
            type = AcknowledgeType.REJECT;
        } else if (d.finished()) {
            type = AcknowledgeType.ACCEPT;
        } else {
            type = AcknowledgeType.RELEASE;
        }
        consumer.acknowledge(h.record, type);
        held.remove(id(h.record));
        LOG.debug(
                "{} acknowledged {} ({}), delivery {}",
                id(h.record),
                type,
                d,
                h.record.deliveryCount().orElse((short) 1));
    }

    private void commitAsync() {
        try {
            consumer.commitAsync();
        } catch (RuntimeException e) {
            // The acknowledgements stay pending and go with the next poll or commit.
            LOG.warn("could not send acknowledgements now: {}", e.toString());
        }
    }

    private void acknowledged(Map<TopicIdPartition, Set<Long>> offsets, Exception error) {
        if (error != null) {
            // The broker keeps the records: they come back (the claim makes the redelivery a duplicate).
            LOG.warn("acknowledgements of {} failed: {}", offsets, error.toString());
        }
    }

    /** Acknowledges what it can (records returned by the last poll) and commits; the rest Kafka releases on close. */
    private void shutdown() {
        try {
            List<CompletableFuture<Disposition>> pending = new ArrayList<>();
            for (Held h : held.values()) {
                if (h.returned && h.result != null) {
                    pending.add(h.result);
                }
            }
            try {
                CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
                        .get(SETTLE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                LOG.warn("handlings had not ended {} after shutdown; releasing their records", SETTLE_TIMEOUT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (Held h : new ArrayList<>(held.values())) {
                if (!h.returned) {
                    continue;
                }
                Disposition d = h.result != null && h.result.isDone() && !h.result.isCompletedExceptionally()
                        ? h.result.join()
                        : Disposition.RETRY;
                decide(h, d, true);
            }
            held.clear();
            consumer.commitSync(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.warn("could not acknowledge on shutdown; Kafka releases the records when the lock expires", e);
        }
    }
}
