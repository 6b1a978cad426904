package dev.thoughtstream.chunker;

import dev.thoughtstream.chunker.deadletter.DeadLetterCounter;
import dev.thoughtstream.chunker.deadletter.DeadLetteringHandler;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.serde.SerdeWarmUp;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.CloseOptions.GroupMembershipOperation;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running chunker: one {@link KafkaStreams} instance over {@link ChunkerTopology}.
 *
 * <p>{@link #start()} creates missing topics, then starts the stream threads. A stream thread that dies from an
 * exception is logged and replaced (its tasks restart from the last commit). {@link #close()} stops the threads
 * within {@code STREAMS_CLOSE_TIMEOUT_MS} and leaves the consumer group (see there).
 */
public final class ChunkerService implements Service {
    static final String NAME = "chunker";
    private static final Logger LOG = LoggerFactory.getLogger(ChunkerService.class);
    private static final Duration TOPIC_SETUP_TIMEOUT = Duration.ofSeconds(30);
    private static final Set<KafkaStreams.State> STOPPED =
            EnumSet.of(KafkaStreams.State.NOT_RUNNING, KafkaStreams.State.ERROR);
    private static final Set<KafkaStreams.State> NOT_GOING_TO_RUN = EnumSet.of(
            KafkaStreams.State.PENDING_SHUTDOWN,
            KafkaStreams.State.NOT_RUNNING,
            KafkaStreams.State.PENDING_ERROR,
            KafkaStreams.State.ERROR);

    private final ChunkerConfig config;
    private final KafkaSettings kafka;
    private final Topics topics;
    private final DeadLetterCounter deadLetters;
    private final KafkaStreams streams;
    private final Metrics metrics;
    /** Kafka Streams' metrics and its clients' ({@code kafka_stream_*}, {@code kafka_consumer_*}...) once started. */
    private volatile Metrics.Binding streamsMetrics;

    /** Loaded in {@link #start()}, before the streams start; their tasks read it when they are created. */
    private volatile ReprocessFence fence = ReprocessFence.NONE;

    private final GroupMembershipOperation onClose;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    // Our own copy of the state, fed by the state listener: waiting on KafkaStreams.state() while holding a lock
    // the listener needs would deadlock, because KafkaStreams calls the listener under its own state lock.
    private final Object stateLock = new Object();
    private KafkaStreams.State observedState = KafkaStreams.State.CREATED;
    private boolean hasRun;

    public ChunkerService(ChunkerConfig config, KafkaSettings kafka) {
        this(config, kafka, Clock.systemUTC());
    }

    /** @param clock stamps dead letters ({@code dlq.at}); Kafka Streams keeps its own clock for processing */
    public ChunkerService(ChunkerConfig config, KafkaSettings kafka, Clock clock) {
        this(config, kafka, clock, new Metrics());
    }

    /** @param metrics where thoughts, emission lateness and dead letters are counted for {@code /metrics} */
    public ChunkerService(ChunkerConfig config, KafkaSettings kafka, Clock clock, Metrics metrics) {
        this(config, kafka, clock, metrics, StageTracer.noop());
    }

    /** As above, continuing the traces of the updates in the thoughts ({@code tracer}). */
    public ChunkerService(ChunkerConfig config, KafkaSettings kafka, Clock clock, Metrics metrics, StageTracer tracer) {
        this.config = Objects.requireNonNull(config, "config");
        ChunkerMetrics chunkerMetrics = new ChunkerMetrics(metrics);
        this.deadLetters = new DeadLetterCounter(chunkerMetrics);
        this.kafka = Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(clock, "clock");
        this.topics = Topics.withPrefix(kafka.topicPrefix());
        Properties props = ChunkerTopology.streamsProperties(config, kafka);
        props.put(DeadLetterCounter.CONFIG, deadLetters);
        props.put(DeadLetteringHandler.CLOCK_CONFIG, clock);
        this.streams = new KafkaStreams(
                ChunkerTopology.buildTopology(config, topics, chunkerMetrics, () -> fence, tracer), props);
        this.metrics = metrics;
        this.onClose =
                isStaticMember(props) ? GroupMembershipOperation.REMAIN_IN_GROUP : GroupMembershipOperation.LEAVE_GROUP;
        streams.setStateListener(this::onStateChange);
        streams.setUncaughtExceptionHandler(exception -> {
            LOG.error("a chunker stream thread died; replacing it", exception);
            return StreamThreadExceptionResponse.REPLACE_THREAD;
        });
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Creates missing topics, then starts processing. Once only (a failed topic setup may be retried). */
    @Override
    public void start() {
        if (closed.get()) {
            throw new IllegalStateException("the chunker is closed");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("the chunker is already started");
        }
        try {
            TopicAdmin.ensureTopics(kafka, topics, TOPIC_SETUP_TIMEOUT);
            fence = ReprocessFence.read(kafka, config.applicationId());
        } catch (RuntimeException e) {
            started.set(false); // nothing was started; the caller may try again once Kafka is reachable
            throw e;
        }
        LOG.info(
                "starting chunker {} on {}: {} → {}, context from {}",
                config.applicationId(),
                kafka.bootstrapServers(),
                topics.updates().name(),
                topics.thoughts().name(),
                topics.delivered().name());
        // Before the streams start, so that the first update after the start does not wait for Jackson.
        SerdeWarmUp.warmUp(topics.updates(), topics.thoughts(), topics.delivered());
        streams.start();
        streamsMetrics = metrics.bindRefreshing(
                (scheduler, every) -> new KafkaStreamsMetrics(streams, List.of(), scheduler, every));
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    /**
     * Waits until the streams are RUNNING. Returns false when {@code timeout} passes first; throws
     * {@link IllegalStateException} when they are shutting down or failed instead.
     */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (stateLock) {
            while (observedState != KafkaStreams.State.RUNNING) {
                if (NOT_GOING_TO_RUN.contains(observedState)) {
                    throw new IllegalStateException("the chunker will not run: its streams are " + observedState);
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(stateLock, remaining);
            }
            return true;
        }
    }

    /**
     * Ready once the streams have been RUNNING (their stores restored and their tasks assigned), and from then on
     * while they run or rebalance (a later rebalance is part of normal work). The first REBALANCING after a start is
     * not ready: a restart that restores its stores from the changelogs would otherwise say ready seconds before it
     * can close a thought.
     */
    @Override
    public boolean isReady() {
        synchronized (stateLock) {
            return hasRun
                    && (observedState == KafkaStreams.State.RUNNING || observedState == KafkaStreams.State.REBALANCING);
        }
    }

    @Override
    public void awaitTermination() throws InterruptedException {
        awaitStopped();
    }

    /** The streams' failure: every stream thread died and could not be replaced (state ERROR). */
    @Override
    public Optional<Throwable> failure() {
        synchronized (stateLock) {
            return observedState == KafkaStreams.State.ERROR
                    ? Optional.of(new IllegalStateException("the chunker's streams failed (state ERROR)"))
                    : Optional.empty();
        }
    }

    @Override
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return awaitRunning(timeout);
    }

    /** Blocks until the streams have stopped, and says how: NOT_RUNNING after close(), ERROR after a failure. */
    public KafkaStreams.State awaitStopped() throws InterruptedException {
        synchronized (stateLock) {
            while (!STOPPED.contains(observedState)) {
                stateLock.wait();
            }
            return observedState;
        }
    }

    /** Records sent to the dead-letter topic by this instance since it was created. */
    public DeadLetterCounter deadLetters() {
        return deadLetters;
    }

    /** Kafka Streams' own metrics (including the per-task {@code dropped-records-total}). */
    public Map<MetricName, ? extends Metric> metrics() {
        return streams.metrics();
    }

    private void onStateChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
        LOG.info("chunker streams {} → {}", oldState, newState);
        synchronized (stateLock) {
            observedState = newState;
            hasRun |= newState == KafkaStreams.State.RUNNING;
            stateLock.notifyAll();
        }
    }

    /**
     * Static membership ({@code group.instance.id}, from {@code INSTANCE_ID} or set through the pass-through client
     * properties) exists so that a restarted instance takes its old place without a rebalance, its tasks staying with
     * its state; leaving the group would defeat it. (The stateless emitter and llm-processor leave even as static
     * members: they lose nothing by it, see docs/deploy.md.)
     */
    private static boolean isStaticMember(Properties props) {
        return props.containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)
                || props.containsKey(StreamsConfig.consumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG))
                || props.containsKey(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
    }

    /**
     * Stops the stream threads, committing what they have processed, and (unless static membership is configured)
     * leaves the consumer group. Kafka Streams' default is to stay in the group, but a dynamic member never comes
     * back under the same member id: the coordinator would keep this instance's partitions assigned to a member
     * that is gone until its session times out (45 s by default), and every chat on them would wait that long for
     * its thoughts, even with the next instance already running.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.info(
                "closing chunker {} (waiting up to {} ms, {})",
                config.applicationId(),
                config.closeTimeout().toMillis(),
                onClose);
        if (!streams.close(CloseOptions.timeout(config.closeTimeout()).withGroupMembershipOperation(onClose))) {
            LOG.warn(
                    "chunker streams did not stop within {} ms",
                    config.closeTimeout().toMillis());
        }
        Metrics.Binding bound = streamsMetrics;
        if (bound != null) {
            bound.close();
        }
        LOG.info("chunker closed; {} dead letters sent by this instance", deadLetters.total());
    }
}
