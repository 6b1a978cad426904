package dev.thoughtstream.emitter.consume;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.kafka.CommittingConsumerLoop;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.serde.SerdeWarmUp;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.common.tracing.TraceAttributes;
import dev.thoughtstream.emitter.EmitterConfig;
import dev.thoughtstream.emitter.EmitterMetrics;
import dev.thoughtstream.emitter.Main;
import dev.thoughtstream.emitter.lane.DeliveryLanes;
import dev.thoughtstream.emitter.lane.PartSender;
import dev.thoughtstream.emitter.pace.SendPacer;
import dev.thoughtstream.emitter.pace.SharedSendLimits;
import dev.thoughtstream.emitter.pace.TypingDelay;
import dev.thoughtstream.emitter.telegram.BotCommands;
import dev.thoughtstream.emitter.telegram.MessageSender;
import dev.thoughtstream.emitter.telegram.MessageSenders;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.generics.TelegramClient;
import redis.clients.jedis.UnifiedJedis;

/**
 * Reply parts → Telegram, and each part's outcome → the delivered topic: one poll thread
 * ({@link CommittingConsumerLoop}) hands each part to its chat's lane ({@link DeliveryLanes}) and never waits for a
 * chat; a part's record is finished once its outcome is on the delivered topic, and each partition is committed up
 * to its first unfinished record, so a crash redelivers only unfinished parts (which the claims keep from reaching
 * the person twice). It also registers the bot's command list ({@link BotCommands}) at start. Offsets, rebalances
 * and staleness: see docs/emitter.md.
 */
public final class EmitterService implements Service {
    public static final String NAME = "emitter";
    private static final Logger LOG = LoggerFactory.getLogger(EmitterService.class);
    static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
    /** Longer than an in-flight sendMessage can take (OkHttp's connect + read timeouts). */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(40);
    /** How long a revocation waits for the revoked partitions' running sends before it lets them go. */
    static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(10);

    /**
     * A polled record on its way: its partition, what marks it finished (so its offset may be committed), and its
     * "deliver part" span (null for a record that is not a part).
     */
    private record Work(TopicPartition tp, Runnable finished, Span span) {}

    private final EmitterConfig config;
    private final KafkaSettings kafka;
    private final Topics topics;
    private final TelegramClient commandsClient;
    private final ChatActivity activity;
    private final EmitterMetrics metrics;
    /** The registry the Kafka clients' metrics are bound to, and their bindings (closed on close). */
    private final Metrics registry;

    private final List<Metrics.Binding> kafkaMetrics = new CopyOnWriteArrayList<>();
    private final Clock clock;
    /** Each part's delivery continues the trace its record carries; each Telegram send is a span in it. */
    private final StageTracer tracer;

    private final ThreadPoolExecutor workers;
    private final ExecutorService publisher;
    private final DeliveryLanes<Work> lanes;
    /** Where the bot's shared flood limits are asked (Redis calls may block); null without them. */
    private final ScheduledThreadPoolExecutor limitsThread;

    private CompletableFuture<Boolean> commandsRegistration;

    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<byte[], byte[]> producer;
    private volatile CommittingConsumerLoop polling;
    private Thread loop;
    private volatile boolean running;
    private volatile boolean halted;
    private volatile Throwable failure;
    private boolean closed;

    /**
     * What the emitter works with, all owned by the caller.
     *
     * @param kafka          the brokers and topic prefix
     * @param sender         how messages and typing actions leave ({@link MessageSenders#create}: Telegram, or nothing
     *                       in dry run)
     * @param commandsClient the client that registers the command list ({@code setMyCommands})
     * @param claims         the per-part claims that keep a redelivered part from reaching the person twice
     * @param activity       the staleness signal: a newer message from the person drops the parts still waiting
     * @param metrics        where the emitter's and its Kafka clients' metrics go
     * @param scheduler      where the waits run (shut down by the caller after {@link #close()})
     * @param limitsRedis    where the bot's group and global flood limits are shared by every instance (under
     *                       {@code redisKeyPrefix}); empty: this instance keeps to its share of them
     *                       ({@code EMITTER_LIMIT_INSTANCES})
     * @param tracer         traces each part's delivery (a span per part, one per Telegram send)
     */
    public record Dependencies(
            KafkaSettings kafka,
            MessageSender sender,
            TelegramClient commandsClient,
            ClaimStore claims,
            ChatActivity activity,
            Metrics metrics,
            Clock clock,
            ScheduledExecutorService scheduler,
            Optional<? extends UnifiedJedis> limitsRedis,
            String redisKeyPrefix,
            StageTracer tracer) {
        public Dependencies {
            Objects.requireNonNull(kafka, "kafka");
            Objects.requireNonNull(sender, "sender");
            Objects.requireNonNull(commandsClient, "commandsClient");
            Objects.requireNonNull(claims, "claims");
            Objects.requireNonNull(activity, "activity");
            Objects.requireNonNull(metrics, "metrics");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(scheduler, "scheduler");
            Objects.requireNonNull(limitsRedis, "limitsRedis: Optional.empty() keeps to this instance's share");
            Objects.requireNonNull(redisKeyPrefix, "redisKeyPrefix");
            Objects.requireNonNull(tracer, "tracer: StageTracer.noop() traces nothing");
        }
    }

    /** The emitter as {@link Main}, devstack and the tests run it. */
    public EmitterService(EmitterConfig config, Dependencies dependencies) {
        KafkaSettings kafka = dependencies.kafka();
        MessageSender sender = dependencies.sender();
        ClaimStore claims = dependencies.claims();
        ChatActivity activity = dependencies.activity();
        Metrics metrics = dependencies.metrics();
        Clock clock = dependencies.clock();
        ScheduledExecutorService scheduler = dependencies.scheduler();
        Optional<? extends UnifiedJedis> limitsRedis = dependencies.limitsRedis();
        String redisKeyPrefix = dependencies.redisKeyPrefix();
        StageTracer tracer = dependencies.tracer();
        this.tracer = tracer;
        this.config = Objects.requireNonNull(config, "config");
        this.kafka = kafka;
        this.topics = Topics.withPrefix(kafka.topicPrefix());
        this.commandsClient = dependencies.commandsClient();
        this.activity = activity;
        this.metrics = new EmitterMetrics(metrics);
        this.registry = metrics;
        this.clock = clock;
        String instanceId = "emitter-" + UUID.randomUUID().toString().substring(0, 8);
        int threads = config.sending().threads();
        this.workers = new ThreadPoolExecutor(
                threads,
                threads,
                30,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                NamedThreads.factory("emitter-send", true));
        this.publisher = Executors.newSingleThreadExecutor(NamedThreads.factory("emitter-outcomes", true));
        PartSender steps = new PartSender(
                sender,
                claims,
                activity,
                config.claims().redisOutage(),
                config.claims().ttl(),
                instanceId,
                this.metrics,
                tracer);
        SendPacer pacer;
        if (limitsRedis.isPresent()) {
            // Telegram counts the group and global limits per bot, whatever number of instances send for it.
            SharedSendLimits shared = new SharedSendLimits(
                    config.limits(),
                    limitsRedis.get(),
                    SharedSendLimits.keyBase(redisKeyPrefix, config.telegram().token()),
                    clock,
                    this.metrics);
            this.limitsThread = new ScheduledThreadPoolExecutor(1, NamedThreads.factory("emitter-limits", true));
            limitsThread.setRemoveOnCancelPolicy(true);
            pacer = SendPacer.from(config.limits(), clock, scheduler, this.metrics, shared, limitsThread);
        } else {
            this.limitsThread = null;
            pacer = SendPacer.from(config.limits().localShare(), clock, scheduler, this.metrics);
        }
        this.lanes = new DeliveryLanes<>(
                steps,
                pacer,
                TypingDelay.from(config.typing()),
                config.typing().readingPause(),
                config.claims().maxAttempts(),
                scheduler,
                workers,
                publisher,
                clock,
                this.metrics,
                this::report);
        this.metrics.gauges(lanes::lanes, lanes::pending);
        LOG.info(
                "emitter instance {} ({} send threads, Redis outage {}, limits: chat {}/s burst {}, group {}/min, "
                        + "global {}/s of the bot, {}; without Redis 1/{} of them)",
                instanceId,
                threads,
                config.claims().redisOutage().label(),
                config.limits().chatPerSecond(),
                config.limits().chatBurst(),
                config.limits().groupPerMinute(),
                config.limits().globalPerSecond(),
                limitsRedis.isPresent() ? "shared through Redis" : "no Redis",
                config.limits().instances());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public synchronized void start() {
        if (loop != null || closed) {
            throw new IllegalStateException("an emitter is started once");
        }
        TopicAdmin.ensureTopics(kafka, topics, Duration.ofSeconds(30));
        Properties c = kafka.clientProperties();
        c.put(ConsumerConfig.GROUP_ID_CONFIG, config.consumer().groupId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "thoughtstream-emitter");
        // Static membership: a restarted instance takes its partitions back at once (docs/deploy.md).
        kafka.staticMembership(c, NAME);
        consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        Properties p = kafka.clientProperties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        // Its own client id: the consumer's and the producer's Kafka metrics would otherwise be one series.
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "thoughtstream-emitter-outcomes");
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        kafkaMetrics.add(registry.bindKafka(consumer));
        kafkaMetrics.add(registry.bindKafka(producer));
        // Fetched now, so that reporting an outcome later never waits for metadata.
        producer.partitionsFor(topics.delivered().name());
        SerdeWarmUp.warmUp(topics.replies(), topics.delivered());
        activity.subscribe(this::newerMessage);
        polling = new CommittingConsumerLoop(
                consumer,
                topics.replies().name(),
                new Parts(),
                new CommittingConsumerLoop.Settings(
                        "parts", POLL_TIMEOUT, config.consumer().maxBuffered(), SETTLE_TIMEOUT, CLOSE_TIMEOUT),
                () -> halted);
        running = true;
        loop = new Thread(this::run, "emitter-poll");
        loop.start();
        if (config.sending().dryRun()) {
            // A replay may run with the live bot's token: it must not touch the live bot at all.
            LOG.info(
                    "emitter in dry run: recording {} instead of sending; command list not registered",
                    topics.replies().name());
            return;
        }
        // Asynchronous: a slow or failing Bot API must neither delay nor stop the sending of replies.
        commandsRegistration =
                BotCommands.register(commandsClient, config.telegram().token());
        LOG.info(
                "emitter sending {} to {}",
                topics.replies().name(),
                config.telegram().apiUrl());
    }

    /**
     * The outcome of registering the command list at {@link #start()}: true once Telegram accepted it, false if
     * that failed (logged). Empty before {@code start()} and in dry run (which does not call Telegram at all).
     */
    public synchronized Optional<CompletableFuture<Boolean>> commandsRegistration() {
        return Optional.ofNullable(commandsRegistration).map(CompletableFuture::copy);
    }

    /** The staleness signal's listener, on its thread: quick, the lanes only cancel and drop. */
    private void newerMessage(long chatId, long messageId) {
        if (running) {
            lanes.newerMessage(chatId, messageId);
        }
    }

    private void run() {
        try {
            polling.run(() -> running);
        } catch (RuntimeException e) {
            if (running) {
                failure = e;
                LOG.error("emitter loop failed; stopping it", e);
            } else {
                LOG.warn("emitter loop hit an error while stopping: {}", e.toString());
            }
            running = false;
        } finally {
            closeConsumer();
        }
    }

    /**
     * The consumer loop's side of the lanes: a polled part goes to its chat's lane (an unreadable one to the
     * dead-letter topic); the lanes report it finished once its outcome is stored. Waiting parts of stopped
     * partitions are abandoned (they hold no claim); a send already on its way is seen through and reported.
     */
    private final class Parts implements CommittingConsumerLoop.Work {
        @Override
        public void accept(ConsumerRecord<byte[], byte[]> record, Runnable finished) {
            EmitterService.this.accept(record, finished);
        }

        @Override
        public int held() {
            return lanes.pending();
        }

        @Override
        public List<CompletableFuture<Void>> stop(Predicate<TopicPartition> partitions) {
            return lanes.abandon(w -> partitions.test(w.tp()));
        }

        @Override
        public void closed() {
            lanes.close();
        }
    }

    private void accept(ConsumerRecord<byte[], byte[]> record, Runnable finished) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        ReplyPart part;
        try {
            part = topics.replies().value(record);
            if (part == null) {
                // Nothing of ours writes a record without a value; every topic dead-letters one (docs/architecture.md).
                throw new IllegalArgumentException("record has no value; a reply part was expected");
            }
        } catch (RuntimeException e) {
            deadLetter(new Work(tp, finished, null), record, e.getMessage());
            return;
        }
        Span span = tracer.span("deliver part")
                .setParent(tracer.extract(record.headers()))
                .setSpanKind(SpanKind.CONSUMER)
                .setAttribute(TraceAttributes.CHAT_ID, part.chatId())
                .setAttribute(TraceAttributes.THOUGHT_ID, part.thoughtId())
                .setAttribute(TraceAttributes.REPLY_ID, part.replyId())
                .setAttribute(TraceAttributes.PART_SEQ, part.seq())
                .setAttribute(TraceAttributes.MESSAGING_SYSTEM, "kafka")
                .setAttribute(TraceAttributes.MESSAGING_DESTINATION, record.topic())
                .setAttribute(TraceAttributes.MESSAGING_OPERATION, "process")
                .startSpan();
        // Current while the part is queued: its lane keeps the context, so its Telegram sends are children of it.
        try (Scope ignored = Context.root().with(span).makeCurrent()) {
            lanes.submit(new Work(tp, finished, span), part);
        }
    }

    /** Where the lanes put a finished part (on their publishing thread): the delivered topic, then its offset. */
    private CompletableFuture<?> report(Work work, Delivery outcome) {
        LOG.info(
                "chat {} reply {} part {}: {}{}",
                outcome.chatId(),
                outcome.replyId(),
                outcome.seq(),
                outcome.outcome(),
                outcome.reason() == null ? "" : " (" + outcome.reason() + ")");
        ProducerRecord<byte[], byte[]> record = topics.delivered().record(outcome.chatId(), outcome);
        Span span = work.span();
        if (span != null) {
            tracer.inject(Context.root().with(span), record.headers());
            span.setAttribute(TraceAttributes.OUTCOME, outcome.outcome().name());
            if (outcome.outcome() == Delivery.Outcome.FAILED) {
                span.setStatus(StatusCode.ERROR, "FAILED");
            }
            span.end();
        }
        return write(record, work);
    }

    private void deadLetter(Work work, ConsumerRecord<byte[], byte[]> record, String reason) {
        metrics.deadLetter();
        LOG.warn(
                "unreadable reply part at {}-{}@{} sent to {}: {}",
                record.topic(),
                record.partition(),
                record.offset(),
                topics.deadLetters().name(),
                reason);
        write(DeadLetters.of(topics.deadLetters().name(), record, "emitter", reason, clock.millis()), work);
    }

    /** Writes {@code record}; once Kafka has it, {@code work}'s offset may be committed. */
    private CompletableFuture<Void> write(ProducerRecord<byte[], byte[]> record, Work work) {
        CompletableFuture<Void> stored = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, error) -> {
                if (error == null) {
                    work.finished().run();
                } else {
                    stop("cannot write to " + record.topic(), error);
                }
                stored.complete(null);
            });
        } catch (RuntimeException e) {
            stop("cannot write to " + record.topic(), e);
            stored.complete(null);
        }
        return stored;
    }

    /**
     * Without the outcome stored the offset must not be committed: the loop stops (a supervisor restarts it) and
     * the part is redelivered, where its claim keeps it from reaching the person twice.
     */
    private void stop(String what, Throwable error) {
        if (running && failure == null) {
            failure = new IllegalStateException(what, error);
            LOG.error("{}; stopping the emitter", what, error);
        }
        running = false;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    private void closeConsumer() {
        // An interrupted consumer cannot leave its group cleanly; the flag is restored afterwards.
        boolean interrupted = Thread.interrupted();
        try {
            // A clean stop leaves the group even as a static member: the emitter keeps no state, so nothing is gained
            // by holding the partitions for a successor that may never come under this id (a scale-down, a container
            // recreated under another hostname). halt() does what a crash does instead.
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5))
                    .withGroupMembershipOperation(
                            halted
                                    ? CloseOptions.GroupMembershipOperation.DEFAULT
                                    : CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        } catch (RuntimeException e) {
            LOG.warn("closing the emitter's consumer failed: {}", e.toString());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Records set aside on the dead-letter topic. */
    public long deadLettered() {
        return metrics.deadLetters();
    }

    /** Messages sent while Redis was unreachable (fail-open), so without protection against a duplicate. */
    public long sentWithoutClaim() {
        return metrics.sentWithoutClaimCount();
    }

    /** Redis calls that failed (claims, records, staleness checks); the emitter went on per its mode. */
    public long redisErrors() {
        return metrics.redisErrors();
    }

    /** Times this instance lost Redis and fell back to its share of the bot's group and global limits. */
    public long limitsRedisFallbacks() {
        return metrics.limitsRedisFallbacks();
    }

    /** Parts held and not finished (queued, waiting or being sent). */
    public int pendingParts() {
        return lanes.pending();
    }

    /** Partitions paused because too many parts are held (backpressure). */
    int pausedPartitions() {
        CommittingConsumerLoop p = polling;
        return p == null ? 0 : p.pausedPartitions();
    }

    EmitterMetrics metrics() {
        return metrics;
    }

    public boolean isRunning() {
        return running && loop != null && loop.isAlive();
    }

    /**
     * Ready once a part written now is taken at the next poll: the loop runs, the group has assigned it its
     * partitions and a poll has completed since (the producer's metadata was fetched in {@link #start()}).
     */
    @Override
    public boolean isReady() {
        CommittingConsumerLoop p = polling;
        return isRunning() && p != null && p.isReady();
    }

    /** Why the loop stopped on its own, if it did (empty after a clean close()). */
    @Override
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** Blocks until the loop has ended, by close() or by a failure. */
    @Override
    public void awaitTermination() throws InterruptedException {
        Thread t;
        synchronized (this) {
            t = loop;
        }
        if (t != null) {
            t.join();
        }
    }

    /**
     * Stops: waiting parts are abandoned (no claim is held while waiting, and their offsets stay uncommitted, so the
     * group's next instance sends them); a send already on its way is seen through, reported and committed first.
     */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            running = false;
            t = loop;
        }
        if (t != null) {
            consumer.wakeup();
            join(t, CLOSE_TIMEOUT.plusSeconds(10));
        } else if (consumer != null) {
            // start() failed before the loop owned the consumer.
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
        publisher.shutdown();
        awaitTermination(publisher);
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        workers.shutdownNow();
        awaitTermination(workers);
        if (limitsThread != null) {
            limitsThread.shutdownNow();
        }
        kafkaMetrics.forEach(Metrics.Binding::close);
        LOG.info("emitter stopped");
    }

    /**
     * Stops dead, as a crash would: no outcome reported, nothing committed, no claim released or recorded, running
     * calls left behind. A dynamic consumer leaves its group, so the partitions move on at once; a static member
     * (an instance id) stays in it, as after {@code kill -9}, until it rejoins under its id or its session times out.
     * For recovery tests.
     */
    void halt() {
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            halted = true;
            running = false;
            t = loop;
        }
        lanes.halt();
        publisher.shutdownNow();
        workers.shutdown();
        if (t != null) {
            consumer.wakeup();
            join(t, Duration.ofSeconds(15));
        }
        if (producer != null) {
            producer.close(Duration.ZERO);
        }
        if (limitsThread != null) {
            limitsThread.shutdownNow();
        }
        LOG.info("emitter halted");
    }

    private static void join(Thread t, Duration timeout) {
        try {
            t.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            LOG.warn("{} still busy after {} ms; going on without it", t.getName(), timeout.toMillis());
        }
    }

    private static void awaitTermination(ExecutorService executor) {
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("emitter threads still running after 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
