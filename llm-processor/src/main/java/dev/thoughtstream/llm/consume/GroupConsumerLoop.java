package dev.thoughtstream.llm.consume;

import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.kafka.CommittingConsumerLoop;
import dev.thoughtstream.common.kafka.PartitionOffsets;
import dev.thoughtstream.common.retry.Backoff;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.ScaleConfig;
import dev.thoughtstream.llm.handle.Disposition;
import dev.thoughtstream.llm.handle.ThoughtHandler;
import dev.thoughtstream.llm.handle.ThoughtRecords;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Mode {@code group}: a classic consumer group, one poll thread per instance ({@link CommittingConsumerLoop}), up to
 * {@code LLM_MAX_IN_FLIGHT} generations in flight.
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
    static final long POLL_MS = 100;
    /** How long a revocation or shutdown waits for cancelled generations to end before committing. */
    static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(10);

    static final Duration WAIT_DELAY = Duration.ofMillis(500);
    static final Duration RETRY_BASE = Duration.ofSeconds(1);
    static final Duration RETRY_MAX = Duration.ofSeconds(30);
    /** Between attempts to write a dead letter: the same doubling as a chat's retries in its lane. */
    private static final Backoff DEAD_LETTER_RETRY = Backoff.exponential(RETRY_BASE, RETRY_MAX);

    /** A polled record on its way through. */
    private record Work(TopicPartition tp, Runnable finished, ConsumerRecord<byte[], byte[]> record, Thought thought) {}

    private final Topics topics;
    private final ThoughtHandler handler;
    private final ScheduledExecutorService scheduler;
    private final ChatLanes<Work> lanes;
    private final CommittingConsumerLoop loop;
    /** Dead letters being written, by record; they are not in a chat's lane. */
    private final Map<Work, CompletableFuture<Disposition>> deadLettering = new ConcurrentHashMap<>();

    private final Set<Work> droppedDeadLetters = ConcurrentHashMap.newKeySet();

    public GroupConsumerLoop(
            Consumer<byte[], byte[]> consumer,
            Topics topics,
            ThoughtHandler handler,
            ScaleConfig scale,
            ScheduledExecutorService scheduler) {
        this.topics = Objects.requireNonNull(topics, "topics");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.lanes = new ChatLanes<>(
                scale.maxInFlight(),
                scheduler,
                item -> handler.start(item.value.record(), item.value.thought()),
                (item, d) -> item.value.finished().run(),
                WAIT_DELAY,
                RETRY_BASE,
                RETRY_MAX);
        this.loop = new CommittingConsumerLoop(
                consumer,
                topics.thoughts().name(),
                new Thoughts(),
                new CommittingConsumerLoop.Settings(
                        "thoughts", Duration.ofMillis(POLL_MS), scale.maxBuffered(), SETTLE_TIMEOUT, SETTLE_TIMEOUT),
                () -> false);
    }

    /** Runs the loop on the calling thread until {@code running} turns false (checked after each poll). */
    public void run(BooleanSupplier running) {
        loop.run(running);
    }

    /** The group has assigned this consumer its partitions and a poll has completed since. */
    public boolean isReady() {
        return loop.isReady();
    }

    /** Thoughts this instance holds and has not finished (queued, in flight, waiting, being dead-lettered). */
    public int buffered() {
        return lanes.size() + deadLettering.size();
    }

    /** Partitions paused because {@code LLM_MAX_BUFFERED} thoughts are unfinished. */
    public int pausedPartitions() {
        return loop.pausedPartitions();
    }

    private void deadLetter(Work work, String reason, int tries) {
        CompletableFuture<Disposition> result =
                handler.deadLetter(work.record(), reason, Disposition.DEAD_LETTERED, null);
        deadLettering.put(work, result);
        result.whenComplete((d, error) -> {
            if (d == Disposition.DEAD_LETTERED) {
                deadLettering.remove(work);
                work.finished().run();
                return;
            }
            if (droppedDeadLetters.remove(work)) {
                deadLettering.remove(work);
                return;
            }
            long delayMs = DEAD_LETTER_RETRY.delayMillis(tries);
            try {
                scheduler.schedule(
                        () -> {
                            if (!droppedDeadLetters.remove(work)) {
                                deadLetter(work, reason, tries + 1);
                            } else {
                                deadLettering.remove(work);
                            }
                        },
                        delayMs,
                        TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                deadLettering.remove(work);
            }
        });
    }

    /** The consumer loop's side: thoughts into their chats' lanes, unreadable records to the dead-letter topic. */
    private final class Thoughts implements CommittingConsumerLoop.Work {
        @Override
        public void accept(ConsumerRecord<byte[], byte[]> record, Runnable finished) {
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            ThoughtRecords.Read read = ThoughtRecords.read(topics, record);
            Work work = new Work(tp, finished, record, read.thought());
            if (!read.ok()) {
                deadLetter(work, read.unreadable(), 1);
                return;
            }
            lanes.submit(read.thought().chatId(), work);
        }

        @Override
        public int held() {
            return buffered();
        }

        /**
         * Queued thoughts are dropped, generations cancelled (their claims released, so the next owner starts at
         * once); dead letters being written are seen through but not retried.
         */
        @Override
        public List<CompletableFuture<Disposition>> stop(Predicate<TopicPartition> partitions) {
            List<CompletableFuture<Disposition>> running = new ArrayList<>(lanes.drop(w -> partitions.test(w.tp())));
            for (Map.Entry<Work, CompletableFuture<Disposition>> e : deadLettering.entrySet()) {
                if (partitions.test(e.getKey().tp())) {
                    droppedDeadLetters.add(e.getKey());
                    running.add(e.getValue());
                }
            }
            return running;
        }

        @Override
        public void closed() {
            lanes.close();
        }
    }
}
