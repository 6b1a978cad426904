package dev.thoughtstream.bench.restore;

import dev.thoughtstream.chunker.ChunkerConfig;
import dev.thoughtstream.chunker.ChunkerTopology;
import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.topic.Topics;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.CloseOptions.GroupMembershipOperation;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chunker instance for the restore benchmark: the chunker's own topology ({@link ChunkerTopology#buildTopology})
 * with its own Kafka Streams settings ({@link ChunkerTopology#streamsProperties}: exactly-once v2, the state
 * directory, threads), which is what {@code ChunkerService} runs. It is built here rather than through
 * {@code ChunkerService} because a {@link RestoreTimings} listener must be attached before the start, and the
 * store must be read through interactive queries; {@code ChunkerService} exposes neither. Closing leaves the group,
 * as {@code ChunkerService} does, so the next instance is assigned the partitions at once.
 */
final class ChunkerInstance implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkerInstance.class);
    private static final Set<KafkaStreams.State> NOT_GOING_TO_RUN = EnumSet.of(
            KafkaStreams.State.PENDING_SHUTDOWN,
            KafkaStreams.State.NOT_RUNNING,
            KafkaStreams.State.PENDING_ERROR,
            KafkaStreams.State.ERROR);

    private final KafkaStreams streams;
    private final RestoreTimings timings = new RestoreTimings();
    private final Object lock = new Object();
    private KafkaStreams.State state = KafkaStreams.State.CREATED;
    private long startNanos;
    private long runningNanos;

    ChunkerInstance(ChunkerConfig config, KafkaSettings kafka) {
        Properties props = ChunkerTopology.streamsProperties(config, kafka);
        streams =
                new KafkaStreams(ChunkerTopology.buildTopology(config, Topics.withPrefix(kafka.topicPrefix())), props);
        streams.setGlobalStateRestoreListener(timings);
        streams.setStateListener((newState, oldState) -> {
            long now = System.nanoTime();
            LOG.info("restore benchmark chunker: {} → {}", oldState, newState);
            synchronized (lock) {
                state = newState;
                if (newState == KafkaStreams.State.RUNNING && runningNanos == 0) {
                    runningNanos = now;
                }
                lock.notifyAll();
            }
        });
    }

    void start() {
        startNanos = System.nanoTime();
        streams.start();
    }

    /** Waits for RUNNING (all stores restored, all tasks processing); throws when it fails or times out. */
    void awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (state != KafkaStreams.State.RUNNING) {
                if (NOT_GOING_TO_RUN.contains(state)) {
                    throw new IllegalStateException("the chunker stopped instead of running: " + state);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException(
                            "the chunker was not RUNNING after " + timeout + " (" + state + ")");
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
    }

    /** Seconds from {@code start()} to the first RUNNING: group join, assignment and restore together. */
    double secondsToRunning() {
        synchronized (lock) {
            return runningNanos == 0 ? Double.NaN : (runningNanos - startNanos) / 1e9;
        }
    }

    RestoreTimings timings() {
        return timings;
    }

    /** The chunker's context store, read through interactive queries (all local partitions). */
    ReadOnlyKeyValueStore<Long, ChatContext> contextStore() {
        return streams.store(StoreQueryParameters.fromNameAndType(
                ChunkerTopology.CONTEXT_STORE, QueryableStoreTypes.<Long, ChatContext>keyValueStore()));
    }

    /** Commits, writes the checkpoints, closes the stores (RocksDB flushes its memtables) and leaves the group. */
    @Override
    public void close() {
        if (!streams.close(CloseOptions.timeout(Duration.ofSeconds(60))
                .withGroupMembershipOperation(GroupMembershipOperation.LEAVE_GROUP))) {
            LOG.warn("the restore benchmark's chunker did not stop within 60 s");
        }
    }
}
