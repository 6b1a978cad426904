package dev.thoughtstream.common.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The poll loop of a classic consumer whose records are finished out of order, in the background: the emitter's
 * delivery lanes and the llm-processor's group mode. What both need the same way lives here:
 *
 * <ul>
 *   <li><b>Hand over.</b> Every polled record goes to the service's {@link Work} together with a callback that marks
 *       it finished; the callback may run on any thread. The poll thread never waits for a record's work, so
 *       {@code max.poll.interval.ms} is never at risk however long the work takes.</li>
 *   <li><b>Commit.</b> After every poll, each partition is committed up to its first unfinished record
 *       ({@link PartitionOffsets}): a crash re-reads only what was not finished, and never skips it.</li>
 *   <li><b>Backpressure.</b> While the service holds {@code maxHeld} records or more, every assigned partition is
 *       paused; they resume once it holds half of that. Memory stays bounded by about {@code maxHeld} plus one
 *       poll's records, however slow the work is.</li>
 *   <li><b>Rebalance.</b> Revoked partitions: their work is stopped, the loop waits (at most
 *       {@code revokeTimeout}) for what still runs, and commits what became contiguous before the partitions go.
 *       Lost partitions: their work is stopped, nothing waits and nothing is committed (they are someone else's
 *       already).</li>
 *   <li><b>Shutdown.</b> When {@code running} turns false: all work is stopped, the loop waits (at most
 *       {@code closeTimeout}) and commits. After a halt (a crash stand-in) it does none of that.</li>
 * </ul>
 *
 * <p>The loop does not close the consumer: each service closes it its own way. {@link #run} on one thread; the
 * callbacks handed to the work are thread-safe.
 */
public final class CommittingConsumerLoop {
    private static final Logger LOG = LoggerFactory.getLogger(CommittingConsumerLoop.class);

    /** What the service does with the records. */
    public interface Work {
        /**
         * Takes a polled record over; returns at once. {@code finished} is run once the record is finished (its
         * offset may then be committed), on any thread; a record whose work was stopped need not run it.
         */
        void accept(ConsumerRecord<byte[], byte[]> record, Runnable finished);

        /** Records held and not finished (queued, running, waiting): what backpressure measures. */
        int held();

        /**
         * Stops the work of the records whose partition {@code partitions} selects (revoked, lost, or all at
         * shutdown): queued records are forgotten, running ones are cancelled or left to end. Returns what still
         * runs, for the loop to wait for; a record finished meanwhile is still committed.
         */
        List<? extends CompletableFuture<?>> stop(Predicate<TopicPartition> partitions);

        /** Shutdown, after {@link #stop} of everything and the wait, before the last commit. */
        default void closed() {}
    }

    /**
     * @param what          what the records are, for logs ("parts", "thoughts")
     * @param pollTimeout   the longest one poll waits
     * @param maxHeld       partitions pause while the work holds this many records, and resume at half
     * @param revokeTimeout how long a revocation waits for the revoked partitions' running work
     * @param closeTimeout  how long shutdown waits for the running work
     */
    public record Settings(
            String what, Duration pollTimeout, int maxHeld, Duration revokeTimeout, Duration closeTimeout) {
        public Settings {
            Objects.requireNonNull(what, "what");
            Objects.requireNonNull(pollTimeout, "pollTimeout");
            Objects.requireNonNull(revokeTimeout, "revokeTimeout");
            Objects.requireNonNull(closeTimeout, "closeTimeout");
            if (maxHeld < 1) {
                throw new IllegalArgumentException("maxHeld must be >= 1 but was " + maxHeld);
            }
        }
    }

    /** A record's place, kept by the callback handed to the work. */
    private record Done(TopicPartition tp, PartitionOffsets.Track track, long offset) {}

    private final Consumer<byte[], byte[]> consumer;
    private final String topic;
    private final Work work;
    private final Settings settings;
    private final BooleanSupplier halted;
    private final PartitionOffsets offsets = new PartitionOffsets();
    private final ConcurrentLinkedQueue<Done> finished = new ConcurrentLinkedQueue<>();
    /** Partitions paused for backpressure, as the poll thread last saw them. */
    private volatile int pausedPartitions;
    /** The group has given this consumer its assignment (possibly empty: more members than partitions). */
    private volatile boolean assigned;
    /** A poll has completed since the assignment: the consumer fetches, and a new record is seen at the next poll. */
    private volatile boolean polledSinceAssigned;

    /**
     * @param consumer a classic consumer with auto-commit off; not closed here
     * @param topic    the one topic to subscribe to
     * @param work     what is done with each record
     * @param settings timeouts and the backpressure limit
     * @param halted   true once the service stopped dead (a crash stand-in): a revocation then neither waits nor
     *                 commits, and shutdown does nothing
     */
    public CommittingConsumerLoop(
            Consumer<byte[], byte[]> consumer, String topic, Work work, Settings settings, BooleanSupplier halted) {
        this.consumer = Objects.requireNonNull(consumer, "consumer");
        this.topic = Objects.requireNonNull(topic, "topic");
        this.work = Objects.requireNonNull(work, "work");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.halted = Objects.requireNonNull(halted, "halted");
    }

    /**
     * Subscribes and runs on the calling thread until {@code running} turns false (checked after every poll; a
     * {@link Consumer#wakeup()} makes that prompt), then shuts down. Throws what the consumer throws, after the
     * shutdown.
     */
    public void run(BooleanSupplier running) {
        consumer.subscribe(List.of(topic), new Rebalance());
        try {
            while (running.getAsBoolean()) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(settings.pollTimeout());
                } catch (WakeupException e) {
                    continue; // a stop wakes the poll; the loop condition decides
                }
                if (assigned) {
                    polledSinceAssigned = true;
                }
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                    Done done = new Done(tp, offsets.received(tp, record.offset()), record.offset());
                    work.accept(record, () -> finished.add(done));
                }
                commitFinished(null);
                applyBackpressure();
            }
        } finally {
            if (!halted.getAsBoolean()) {
                shutdown();
            }
        }
    }

    /**
     * Ready to take a record sent now: the group has assigned this consumer its partitions and a poll has completed
     * since (its positions are known and it fetches). A service that says ready before that would let the first
     * message wait for the group's join, the offset lookup and the first fetch.
     */
    public boolean isReady() {
        return polledSinceAssigned;
    }

    /** Partitions paused because the work holds too many records. */
    public int pausedPartitions() {
        return pausedPartitions;
    }

    private void shutdown() {
        try {
            awaitAll(work.stop(tp -> true), settings.closeTimeout());
            work.closed();
            commitFinished(null);
        } catch (RuntimeException e) {
            LOG.warn(
                    "could not commit the finished {} on stopping; they are read again (and recognised as done)",
                    settings.what(),
                    e);
        }
    }

    /** Applies finished records and commits what became contiguous, for {@code partitions} (all when null). */
    private void commitFinished(Collection<TopicPartition> partitions) {
        Done done;
        while ((done = finished.poll()) != null) {
            offsets.finished(done.tp(), done.track(), done.offset());
        }
        offsets.commit(consumer, partitions);
    }

    private void applyBackpressure() {
        int held = work.held();
        Set<TopicPartition> paused = consumer.paused();
        pausedPartitions = paused.size();
        if (held >= settings.maxHeld()) {
            Set<TopicPartition> toPause = new HashSet<>(consumer.assignment());
            toPause.removeAll(paused);
            if (!toPause.isEmpty()) {
                LOG.debug("{} {} held (limit {}): pausing {}", held, settings.what(), settings.maxHeld(), toPause);
                consumer.pause(toPause);
                pausedPartitions = paused.size() + toPause.size();
            }
        } else if (!paused.isEmpty() && held <= settings.maxHeld() / 2) {
            LOG.debug("{} {} held: resuming {}", held, settings.what(), paused);
            consumer.resume(paused);
            pausedPartitions = 0;
        }
    }

    private void awaitAll(List<? extends CompletableFuture<?>> running, Duration timeout) {
        if (running.isEmpty()) {
            return;
        }
        try {
            CompletableFuture.allOf(new ArrayList<>(running).toArray(CompletableFuture[]::new))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn(
                    "{} stopped {} still running after {} ms; going on without them",
                    running.size(),
                    settings.what(),
                    timeout.toMillis());
        } catch (ExecutionException e) {
            LOG.warn("stopped work on {} failed while ending", settings.what(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty() || halted.getAsBoolean()) {
                return;
            }
            LOG.info(
                    "partitions revoked: {}; stopping their {} and committing what is finished",
                    partitions,
                    settings.what());
            awaitAll(work.stop(partitions::contains), settings.revokeTimeout());
            commitFinished(partitions);
            offsets.remove(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            LOG.warn(
                    "partitions lost: {}; stopping their {} (their new owner takes them)", partitions, settings.what());
            work.stop(partitions::contains);
            offsets.remove(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            LOG.info("partitions assigned: {}", partitions);
            assigned = true;
        }
    }
}
