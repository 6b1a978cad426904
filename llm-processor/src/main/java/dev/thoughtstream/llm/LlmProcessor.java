package dev.thoughtstream.llm;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.serde.SerdeWarmUp;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.ScaleConfig.Mode;
import dev.thoughtstream.llm.budget.ProviderBudget;
import dev.thoughtstream.llm.consume.GroupConsumerLoop;
import dev.thoughtstream.llm.consume.ShareGroups;
import dev.thoughtstream.llm.consume.ShareLagGauge;
import dev.thoughtstream.llm.consume.ShareWorker;
import dev.thoughtstream.llm.generate.ReplyGenerator;
import dev.thoughtstream.llm.handle.ProcessorMetrics;
import dev.thoughtstream.llm.handle.ThoughtClaims;
import dev.thoughtstream.llm.handle.ThoughtHandler;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The llm-processor service: thoughts in, reply parts out, many instances side by side.
 *
 * <p>Up to {@code LLM_MAX_IN_FLIGHT} thoughts are handled at once, and no thread is held per thought: a generation
 * is streaming callbacks and timers, the blocking steps of a thought (Redis) are short tasks on a small work pool.
 * Two ways to consume ({@code LLM_MODE}, see {@code docs/llm-processor.md}): a Kafka share group ({@link ShareWorker}:
 * a few share consumers per instance, each taking a batch of records; instances scale past the partition count, a
 * chat's thoughts in no particular order) or a classic consumer group ({@link GroupConsumerLoop}: one poll thread,
 * a chat's thoughts in order). {@code auto} picks share when the
 * broker supports it. Both hand each thought to the same {@link ThoughtHandler}: stale thoughts are skipped, a
 * generation is cancelled when its chat gets a newer message ({@link ChatActivity}), a Redis claim keeps a thought
 * from being generated twice ({@link ThoughtClaims}), failures go to the dead-letter topic.
 *
 * <p>Every part is produced at once (idempotent producer, acks=all) with a deterministic reply id and seq, and a
 * thought is acknowledged (share) or committed (group) only after all its parts were acknowledged by Kafka.
 */
public final class LlmProcessor implements Service {
    public static final String SERVICE = "llm-processor";

    private static final Logger LOG = LoggerFactory.getLogger(LlmProcessor.class);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);
    /**
     * Threads for the blocking steps of a thought: the staleness check, the claim, the done mark (Redis round trips
     * of a millisecond or so) and writing what Kafka acknowledged. A generation holds none of them while the model
     * streams, so a few serve hundreds of thoughts in flight; as many as Redis connections would be wasted.
     */
    static final int WORK_THREADS = 8;
    /** Classic consumer settings a share consumer refuses; they may come from the shared KAFKA_CLIENT_*. */
    private static final List<String> NOT_FOR_SHARE_CONSUMERS = List.of(
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG,
            ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG,
            ConsumerConfig.GROUP_PROTOCOL_CONFIG, ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG);

    private final KafkaSettings kafka;
    private final Topics topics;
    private final LlmConfig config;
    private final ReplyGenerator generator;
    private final ChatActivity activity;
    private final ClaimStore claims;
    private final ProcessorMetrics metrics;
    /**
     * Where the producer's and the group consumer's Kafka metrics are bound, and their bindings. Share consumers
     * are not bound: Micrometer's KafkaClientMetrics takes a producer, a consumer or an admin client, not a
     * {@code ShareConsumer}.
     */
    private final Metrics registry;

    private final List<Metrics.Binding> kafkaMetrics = new CopyOnWriteArrayList<>();
    private final Clock clock;
    /** The model provider's shared limits; the generator asks it before every call. Owned: closed at the end. */
    private final ProviderBudget budget;
    /** {@code <instanceId>#<incarnation>}, see {@code Infra.owner()}; attempt ids and claims start with it. */
    private final String owner;

    private final Object lifecycle = new Object();
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicInteger alive = new AtomicInteger();
    private final List<Thread> threads = new ArrayList<>();
    private final List<Runnable> wakers = new ArrayList<>();
    private final List<ShareWorker> shareWorkers = new CopyOnWriteArrayList<>();
    private volatile boolean running = true;
    /** Set by {@link #halt()}: the group consumer closes as a crashed one would (a static member stays). */
    private volatile boolean halted;

    private volatile Mode mode;
    private volatile Throwable failure;
    private volatile ThoughtHandler handler;
    private volatile GroupConsumerLoop groupLoop;
    private boolean started;
    private boolean closed;
    private ScheduledThreadPoolExecutor work;
    private Producer<byte[], byte[]> producer;

    /**
     * Nothing is created or consumed before {@link #start()}.
     *
     * @param kafka     where Kafka is, plus pass-through client properties
     * @param topics    the pipeline's topics
     * @param config    mode, concurrency, claims and reply settings
     * @param generator answers a thought (its model, prompt and timeouts are its own)
     * @param activity  the staleness signal: each chat's newest ingested message; not owned
     * @param claims    where thoughts are claimed ({@code llm:thought:<thoughtId>}); not owned
     * @param metrics   where the consumer side's counters go
     * @param clock     stamps dead letters and durations
     */
    public LlmProcessor(
            KafkaSettings kafka,
            Topics topics,
            LlmConfig config,
            ReplyGenerator generator,
            ChatActivity activity,
            ClaimStore claims,
            Metrics metrics,
            Clock clock) {
        this(
                kafka,
                topics,
                config,
                generator,
                activity,
                claims,
                metrics,
                clock,
                "#" + UUID.randomUUID().toString().substring(0, 8),
                ProviderBudget.unlimited());
    }

    /**
     * @param owner  this process's claim owner, {@code <instanceId>#<incarnation>} ({@code Infra.owner()}): a claim
     *               its previous process left under the same instance id is taken over at once
     *               ({@link ThoughtClaims}); {@code #<incarnation>} without an instance id
     * @param budget the provider budget {@code generator} asks before every model call; closed once the processor
     *               has stopped
     */
    public LlmProcessor(
            KafkaSettings kafka,
            Topics topics,
            LlmConfig config,
            ReplyGenerator generator,
            ChatActivity activity,
            ClaimStore claims,
            Metrics metrics,
            Clock clock,
            String owner,
            ProviderBudget budget) {
        if (owner.indexOf('#') < 0 || owner.indexOf('/') >= 0) {
            throw new IllegalArgumentException("owner must be <instanceId>#<incarnation> but was '" + owner + "'");
        }
        this.owner = owner;
        this.kafka = Objects.requireNonNull(kafka, "kafka");
        this.topics = Objects.requireNonNull(topics, "topics");
        this.config = Objects.requireNonNull(config, "config");
        this.generator = Objects.requireNonNull(generator, "generator");
        this.activity = Objects.requireNonNull(activity, "activity");
        this.claims = Objects.requireNonNull(claims, "claims");
        this.metrics = new ProcessorMetrics(metrics);
        this.registry = metrics;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.budget = Objects.requireNonNull(budget, "budget");
    }

    /** Classic consumer group settings (mode group). */
    static Properties consumerProperties(KafkaSettings kafka, LlmConfig config) {
        Properties p = new Properties();
        // Tunables first, so KAFKA_CLIENT_* can override them.
        p.put(
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                Integer.toString(Math.min(config.scale().maxBuffered(), 100)));
        // A new group answers what is already waiting rather than skipping it.
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // Only partitions that really move are revoked, so a rebalance cancels as few generations as it can.
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        p.putAll(kafka.clientProperties());
        // What correctness depends on comes last and cannot be overridden.
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        // Static membership: a restarted instance takes its partitions back at once (docs/deploy.md).
        kafka.staticMembership(p, SERVICE);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // The chunker writes thoughts in transactions: an aborted thought must never be answered.
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    /** Share consumer settings (mode share): batches of up to {@link ScaleConfig#shareBatch()}, acknowledged explicitly. */
    static Properties shareConsumerProperties(KafkaSettings kafka, LlmConfig config) {
        Properties p = new Properties();
        p.putAll(kafka.clientProperties());
        for (String unsupported : NOT_FOR_SHARE_CONSUMERS) {
            if (p.remove(unsupported) != null) {
                LOG.debug("{} does not apply to a share consumer; ignored", unsupported);
            }
        }
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        // Acquire only what can be started at once: no prefetch, and never more than the consumer's share of the
        // in-flight budget (a record waiting in a busy consumer would wait for its lock to expire).
        p.put(ConsumerConfig.SHARE_ACQUIRE_MODE_CONFIG, "record_limit");
        p.put(
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                Integer.toString(config.scale().shareBatch()));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    static Properties producerProperties(KafkaSettings kafka) {
        Properties p = new Properties();
        p.putAll(kafka.clientProperties());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        // A part is a person waiting for a bubble: send it at once rather than after Kafka 4's default 5 ms linger.
        // Parts written while a request is in flight still travel together in the next one. An operator may choose
        // otherwise (KAFKA_CLIENT_LINGER_MS).
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "0");
        return p;
    }

    /**
     * Resolves the mode (asking the broker in {@code auto}), prepares a share group, creates the clients and starts
     * consuming.
     *
     * @throws dev.thoughtstream.common.config.ConfigException when the configuration does not fit the broker
     * @throws IllegalStateException                           when the broker cannot be asked, or after close
     */
    @Override
    public String name() {
        return SERVICE;
    }

    @Override
    public void start() {
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("closed");
            }
            if (started) {
                return;
            }
            started = true;
            try {
                startClients();
            } catch (RuntimeException | Error e) {
                running = false;
                stopping.countDown();
                threads.clear();
                finishShared();
                throw e;
            }
        }
        LOG.info(
                "started instance {} in mode {}: {} -> {} as group {}, {}",
                owner,
                mode,
                topics.thoughts().name(),
                topics.replies().name(),
                config.groupId(),
                config);
        threads.forEach(Thread::start);
    }

    private void startClients() {
        ScaleConfig scale = config.scale();
        TopicAdmin.ensureTopics(kafka, topics, ADMIN_TIMEOUT);
        try (Admin admin = Admin.create(kafka.clientProperties())) {
            mode = ShareGroups.resolve(scale.mode(), admin, ADMIN_TIMEOUT);
            if (mode == Mode.SHARE) {
                ShareGroups.prepare(admin, config.groupId(), scale.maxDeliveries(), ADMIN_TIMEOUT);
            }
        }
        work = new ScheduledThreadPoolExecutor(WORK_THREADS, NamedThreads.factory(SERVICE + "-work", true));
        work.setRemoveOnCancelPolicy(true);
        producer = new KafkaProducer<>(producerProperties(kafka));
        kafkaMetrics.add(registry.bindKafka(producer));
        // Fetched now, so that the first reply part (or dead letter) never waits for the topic's metadata.
        producer.partitionsFor(topics.replies().name());
        producer.partitionsFor(topics.deadLetters().name());
        SerdeWarmUp.warmUp(topics.thoughts(), topics.replies());
        ThoughtClaims thoughtClaims = new ThoughtClaims(claims, scale, metrics, owner);
        try {
            // At once rather than at the first claim: another instance may hold the thoughts our crashed process
            // left (a share group hands a released record to any consumer) and waits for this record to take them.
            thoughtClaims.recordIncarnation();
        } catch (RuntimeException e) {
            metrics.redisError();
            LOG.warn(
                    "cannot record {} as this instance's current process in Redis ({}); tried again before the "
                            + "first claim",
                    owner,
                    e.toString());
        }
        ThoughtHandler h = new ThoughtHandler(
                topics,
                generator,
                activity,
                thoughtClaims,
                producer,
                metrics,
                work,
                clock,
                config.replies().timeout(),
                owner);
        handler = h;
        activity.subscribe(this::newerMessage);
        List<AutoCloseable> created = new ArrayList<>();
        try {
            if (mode == Mode.SHARE) {
                // Share consumers have no Micrometer binder: the group's lag comes from the Admin API instead.
                kafkaMetrics.add(new ShareLagGauge(
                        kafka, config.groupId(), topics.thoughts().name(), registry));
                for (int i = 1; i <= scale.shareConsumers(); i++) {
                    KafkaShareConsumer<byte[], byte[]> consumer =
                            new KafkaShareConsumer<>(shareConsumerProperties(kafka, config));
                    created.add(consumer);
                    ShareWorker worker = new ShareWorker(consumer, topics, h, scale, stopping);
                    shareWorkers.add(worker);
                    wakers.add(consumer::wakeup);
                    threads.add(new Thread(
                            () -> runEngine(() -> worker.run(() -> running), () -> consumer.close(CLOSE_TIMEOUT)),
                            SERVICE + "-share-" + i));
                }
            } else {
                KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProperties(kafka, config));
                created.add(consumer);
                kafkaMetrics.add(registry.bindKafka(consumer));
                GroupConsumerLoop loop = new GroupConsumerLoop(consumer, topics, h, scale, work);
                groupLoop = loop;
                wakers.add(consumer::wakeup);
                threads.add(new Thread(
                        () -> runEngine(() -> loop.run(() -> running), () -> consumer.close(closeOptions())),
                        SERVICE + "-poll"));
            }
        } catch (RuntimeException e) {
            for (AutoCloseable c : created) {
                try {
                    c.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        alive.set(threads.size());
    }

    /**
     * A clean stop leaves the group even as a static member: the processor keeps no state, so nothing is gained by
     * holding the partitions for a successor that may never come under this id (a scale-down, a container recreated
     * under another hostname). After {@link #halt()} the consumer closes as a crash would leave it.
     */
    private CloseOptions closeOptions() {
        return CloseOptions.timeout(CLOSE_TIMEOUT)
                .withGroupMembershipOperation(
                        halted
                                ? CloseOptions.GroupMembershipOperation.DEFAULT
                                : CloseOptions.GroupMembershipOperation.LEAVE_GROUP);
    }

    private void newerMessage(long chatId, long messageId) {
        ThoughtHandler h = handler;
        if (running && h != null) {
            h.newerMessage(chatId, messageId);
        }
    }

    private void runEngine(Runnable body, Runnable closeConsumer) {
        try {
            body.run();
        } catch (RuntimeException | Error e) {
            if (running) {
                failure = e;
                LOG.error(
                        "{} failed; the processor stops", Thread.currentThread().getName(), e);
            }
        } finally {
            if (running) {
                // One consumer ended on its own: stop the others too, so the process exits and is restarted whole.
                signalStop();
            }
            try {
                closeConsumer.run();
            } catch (RuntimeException e) {
                LOG.warn("closing the consumer failed", e);
            }
            if (alive.decrementAndGet() == 0) {
                finishShared();
            }
        }
    }

    private void signalStop() {
        running = false;
        stopping.countDown();
        ThoughtHandler h = handler;
        if (h != null) {
            h.stop();
        }
        for (Runnable wake : wakers) {
            wake.run();
        }
    }

    /** After the last consumer: the producer (its pending sends flushed) and the work threads. */
    private void finishShared() {
        kafkaMetrics.forEach(Metrics.Binding::close);
        try {
            if (producer != null) {
                producer.close(CLOSE_TIMEOUT);
            }
        } catch (RuntimeException e) {
            LOG.warn("closing the producer failed", e);
        }
        if (work != null) {
            work.shutdownNow();
            try {
                if (!work.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("work threads did not stop within 5 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            budget.close();
        } catch (RuntimeException e) {
            LOG.warn("closing the provider budget failed", e);
        }
        terminated.countDown();
    }

    /** The mode in use: {@code SHARE} or {@code GROUP} once started, the configured one before. */
    public Mode mode() {
        Mode m = mode;
        return m == null ? config.scale().mode() : m;
    }

    /** Generations running in this instance now. */
    public int inFlight() {
        return metrics.inFlight();
    }

    /**
     * Ready once a thought written now is taken at the next poll: running, and in group mode the consumer has its
     * assignment and has polled since; in share mode every share consumer has polled once (a share consumer shows
     * no assignment). The producer's metadata for the replies was fetched in {@link #start()}.
     */
    @Override
    public boolean isReady() {
        if (!isRunning()) {
            return false;
        }
        if (mode == Mode.SHARE) {
            return !shareWorkers.isEmpty() && shareWorkers.stream().allMatch(ShareWorker::hasPolled);
        }
        GroupConsumerLoop loop = groupLoop;
        return loop != null && loop.isReady();
    }

    /** True from {@link #start()} until every consumer has stopped (closed or failed). */
    public boolean isRunning() {
        synchronized (lifecycle) {
            return started && terminated.getCount() > 0;
        }
    }

    /** Why the processor stopped on its own, if it did. */
    @Override
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** Waits until the processor has stopped; true if it did within {@code timeout}. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits as long as it takes for the processor to stop. */
    @Override
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /**
     * Stops consuming and cancels the generations in flight: their claims are released and their thoughts are
     * not finished (share: released; group: not committed), so the next consumer answers them again with the same
     * reply id. Finished thoughts are acknowledged or committed first. Then the clients close.
     */
    @Override
    public void close() {
        boolean wasStarted;
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            wasStarted = started;
        }
        signalStop();
        if (!wasStarted) {
            terminated.countDown();
            return;
        }
        for (Thread t : threads) {
            if (t == Thread.currentThread()) {
                continue;
            }
            try {
                t.join(CLOSE_TIMEOUT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (t.isAlive()) {
                LOG.warn("{} did not stop within {}", t.getName(), CLOSE_TIMEOUT);
            }
        }
        try {
            if (!terminated.await(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("the processor did not finish stopping within {}", CLOSE_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("instance {} stopped", owner);
    }

    /**
     * The tests' stand-in for {@code kill -9}: stops at once without releasing or completing any claim in Redis, so a
     * thought in flight stays claimed until the claim's TTL (or until this instance's next process takes it over), as
     * after a crash. (Dynamic group members and share consumers leave at once instead of after their session timeout
     * or lock expiry, which only makes the redelivery come sooner; a static group member stays, as after a crash.)
     */
    void halt() {
        halted = true;
        ThoughtHandler h = handler;
        if (h != null) {
            h.haltAll();
        }
        close();
    }

    /** Thoughts the group-mode loop holds and has not finished; 0 in share mode. */
    int buffered() {
        GroupConsumerLoop loop = groupLoop;
        return loop == null ? 0 : loop.buffered();
    }

    /** Partitions the group-mode loop paused because {@code LLM_MAX_BUFFERED} thoughts are unfinished; 0 in share mode. */
    int pausedPartitions() {
        GroupConsumerLoop loop = groupLoop;
        return loop == null ? 0 : loop.pausedPartitions();
    }
}
