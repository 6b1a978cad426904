package dev.thoughtstream.llm.consume;

import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.kafka.PartitionOffsets;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.ScaleConfig;
import dev.thoughtstream.llm.handle.Disposition;
import dev.thoughtstream.llm.handle.ThoughtHandler;
import dev.thoughtstream.llm.handle.ThoughtRecords;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mode {@code group}: a classic consumer group, one poll thread per instance, up to {@code LLM_CONCURRENCY}
 * generations in flight.
 *
 * <ul>
 *   <li>Order: every thought goes into its chat's lane ({@link ChatLanes}); a chat's thoughts run one after another
 *       in offset order, other chats run alongside, so a slow or failing model call holds up its own chat only.</li>
 *   <li>The poll loop never waits for a generation: it polls every {@value #POLL_MS} ms, and pauses its partitions
 *       while {@code LLM_MAX_BUFFERED} thoughts are unfinished (resuming at half), so {@code max.poll.interval.ms}
 *       is never at risk however long the model takes.</li>
 *   <li>Offsets: committed only up to the last contiguous finished record of each partition
 *       ({@link PartitionOffsets}); an unfinished thought is retried locally, never skipped.</li>
 *   <li>Rebalance: revoked partitions' queued thoughts are dropped and their generations cancelled (their claims
 *       released so the new owner can start at once), then what is contiguous is committed.</li>
 * </ul>
 */
public final class GroupConsumerLoop {
    private static final Logger LOG = LoggerFactory.getLogger(GroupConsumerLoop.class);
    static final long POLL_MS = 100;
    /** How long a revocation or shutdown waits for cancelled generations to end before committing. */
    static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(10);
    static final Duration WAIT_DELAY = Duration.ofMillis(500);
    static final Duration RETRY_BASE = Duration.ofSeconds(1);
    static final Duration RETRY_MAX = Duration.ofSeconds(30);

    /** A polled record on its way through. */
    private record Work(TopicPartition tp, long offset, PartitionOffsets.Track track,
            ConsumerRecord<byte[], byte[]> record, Thought thought) {}

    private final Consumer<byte[], byte[]> consumer;
    private final Topics topics;
    private final ThoughtHandler handler;
    private final ScheduledExecutorService scheduler;
    private final int maxBuffered;
    private final ChatLanes<Work> lanes;
    private final PartitionOffsets offsets = new PartitionOffsets();
    private final ConcurrentLinkedQueue<Work> finished = new ConcurrentLinkedQueue<>();
    /** Dead letters being written, by record; they are not in a chat's lane. */
    private final Map<Work, CompletableFuture<Disposition>> deadLettering = new ConcurrentHashMap<>();
    private final Set<Work> droppedDeadLetters = ConcurrentHashMap.newKeySet();

    public GroupConsumerLoop(Consumer<byte[], byte[]> consumer, Topics topics, ThoughtHandler handler, ScaleConfig scale,
            ScheduledExecutorService scheduler) {
        this.consumer = Objects.requireNonNull(consumer, "consumer");
        this.topics = Objects.requireNonNull(topics, "topics");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.maxBuffered = scale.maxBuffered();
        this.lanes = new ChatLanes<>(scale.concurrency(), scheduler,
                item -> handler.start(item.value.record(), item.value.thought()),
                (item, d) -> finished.add(item.value), WAIT_DELAY, RETRY_BASE, RETRY_MAX);
    }

    /** Runs the loop on the calling thread until {@code running} turns false (checked after each poll). */
    public void run(BooleanSupplier running) {
        consumer.subscribe(List.of(topics.thoughts().name()), new Rebalance());
        try {
            while (running.getAsBoolean()) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(Duration.ofMillis(POLL_MS));
                } catch (WakeupException e) {
                    continue; // close() wakes us; the loop condition ends it
                }
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    accept(record);
                }
                commitFinished(null);
                applyBackpressure();
            }
        } finally {
            shutdown();
        }
    }

    /** Thoughts this instance holds and has not finished (queued, in flight, waiting, being dead-lettered). */
    public int buffered() {
        return lanes.size() + deadLettering.size();
    }

    private void accept(ConsumerRecord<byte[], byte[]> record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        PartitionOffsets.Track track = offsets.received(tp, record.offset());
        ThoughtRecords.Read read = ThoughtRecords.read(topics, record);
        Work work = new Work(tp, record.offset(), track, record, read.thought());
        if (!read.ok()) {
            deadLetter(work, read.unreadable(), 1);
            return;
        }
        lanes.submit(read.thought().chatId(), work);
    }

    private void deadLetter(Work work, String reason, int tries) {
        CompletableFuture<Disposition> result =
                handler.deadLetter(work.record(), reason, Disposition.DEAD_LETTERED, null);
        deadLettering.put(work, result);
        result.whenComplete((d, error) -> {
            if (d == Disposition.DEAD_LETTERED) {
                deadLettering.remove(work);
                finished.add(work);
                return;
            }
            if (droppedDeadLetters.remove(work)) {
                deadLettering.remove(work);
                return;
            }
            long delayMs = Math.min(RETRY_MAX.toMillis(), RETRY_BASE.toMillis() << Math.min(tries - 1, 10));
            try {
                scheduler.schedule(() -> {
                    if (!droppedDeadLetters.remove(work)) {
                        deadLetter(work, reason, tries + 1);
                    } else {
                        deadLettering.remove(work);
                    }
                }, delayMs, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                deadLettering.remove(work);
            }
        });
    }

    /** Applies finished records and commits what became contiguous, for {@code partitions} (all when null). */
    private void commitFinished(Collection<TopicPartition> partitions) {
        Work f;
        while ((f = finished.poll()) != null) {
            offsets.finished(f.tp(), f.track(), f.offset());
        }
        offsets.commit(consumer, partitions);
    }

    private void applyBackpressure() {
        int buffered = buffered();
        Set<TopicPartition> paused = consumer.paused();
        if (buffered >= maxBuffered) {
            Set<TopicPartition> toPause = new HashSet<>(consumer.assignment());
            toPause.removeAll(paused);
            if (!toPause.isEmpty()) {
                LOG.debug("{} thoughts unfinished (limit {}): pausing {}", buffered, maxBuffered, toPause);
                consumer.pause(toPause);
            }
        } else if (!paused.isEmpty() && buffered <= maxBuffered / 2) {
            LOG.debug("{} thoughts unfinished: resuming {}", buffered, paused);
            consumer.resume(paused);
        }
    }

    /** Stops the work of {@code partitions}, waits for it to settle, and returns the partitions' dead letters. */
    private void dropWork(Collection<TopicPartition> partitions, boolean wait) {
        List<CompletableFuture<Disposition>> running = new ArrayList<>(lanes.drop(w -> partitions.contains(w.tp())));
        for (Map.Entry<Work, CompletableFuture<Disposition>> e : deadLettering.entrySet()) {
            if (partitions.contains(e.getKey().tp())) {
                droppedDeadLetters.add(e.getKey());
                running.add(e.getValue());
            }
        }
        if (wait) {
            awaitAll(running);
        }
    }

    private static void awaitAll(List<CompletableFuture<Disposition>> futures) {
        if (futures.isEmpty()) {
            return;
        }
        try {
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
                    .get(SETTLE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("{} cancelled attempts had not ended after {}; moving on without them", futures.size(),
                    SETTLE_TIMEOUT);
        } catch (ExecutionException e) {
            LOG.warn("a cancelled attempt failed while ending", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void shutdown() {
        try {
            awaitAll(lanes.close());
            List<CompletableFuture<Disposition>> dead = new ArrayList<>(deadLettering.values());
            droppedDeadLetters.addAll(deadLettering.keySet());
            awaitAll(dead);
            commitFinished(null);
        } catch (RuntimeException e) {
            LOG.warn("could not commit the finished thoughts on shutdown; they will be answered again (no second "
                    + "model call once done)", e);
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            LOG.info("partitions revoked: {}; cancelling their work and committing what is finished", partitions);
            dropWork(partitions, true);
            commitFinished(partitions);
            offsets.remove(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            LOG.warn("partitions lost: {}; cancelling their work (their new owner answers it)", partitions);
            dropWork(partitions, false);
            offsets.remove(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            LOG.info("partitions assigned: {}", partitions);
        }
    }
}
