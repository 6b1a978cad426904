package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.topic.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/**
 * Reply parts → Telegram, and each part's outcome → the delivered topic.
 *
 * <p>Walking-skeleton scheduling: one poll loop sends parts one after another in partition order (so a
 * chat's parts stay in order); each record's offset is committed right after its part was sent or failed and
 * the outcome acknowledged, so a stop or crash redelivers only unhandled parts (and the claims in Redis keep a
 * redelivered part from reaching the person twice). Per-chat lanes, staleness and rate limits build on this
 * (issue 5).
 *
 * <p>At start it also registers the bot's command list with Telegram ({@link BotCommands}), being the service
 * that owns the Telegram client; a failure there is logged and changes nothing else.
 */
public final class EmitterService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmitterService.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(200);
    /** Longer than an in-flight sendMessage can take (OkHttp's connect + read timeouts). */
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(40);

    private final EmitterConfig config;
    private final KafkaSettings kafka;
    private final Topics topics;
    private final PartSender sender;
    private final Clock clock;
    private final Duration readingPause;
    private final TelegramClient telegram;
    private final AtomicLong deadLettered = new AtomicLong();
    private CompletableFuture<Boolean> commandsRegistration;

    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<byte[], byte[]> producer;
    private Thread loop;
    private volatile boolean running;
    private volatile Throwable failure;
    private boolean closed;
    private final Object interruptLock = new Object();
    /** True while the loop is inside PartSender, the only place close() interrupts. Guarded by interruptLock. */
    private boolean interruptible;

    public EmitterService(EmitterConfig config, KafkaSettings kafka, TelegramClient telegram, ClaimStore claims,
            Clock clock, Pause pause) {
        this.config = config;
        this.kafka = kafka;
        this.topics = Topics.withPrefix(kafka.topicPrefix());
        this.clock = clock;
        this.readingPause = config.readingPause();
        this.telegram = telegram;
        String instanceId = "emitter-" + UUID.randomUUID().toString().substring(0, 8);
        this.sender = new PartSender(telegram, claims, TypingDelay.from(config), pause, clock, config.claimTtl(),
                config.maxSendAttempts(), instanceId, config.telegram().token());
    }

    public EmitterService(EmitterConfig config, KafkaSettings kafka, TelegramClient telegram, ClaimStore claims,
            Clock clock) {
        this(config, kafka, telegram, claims, clock, Pause.REAL);
    }

    public synchronized void start() {
        if (loop != null || closed) {
            throw new IllegalStateException("an emitter is started once");
        }
        TopicAdmin.ensureTopics(kafka, topics, Duration.ofSeconds(30));
        Properties c = kafka.clientProperties();
        c.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // Parts are sent at human pace; a small batch keeps a poll well inside max.poll.interval.ms.
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "thoughtstream-emitter");
        consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        Properties p = kafka.clientProperties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "thoughtstream-emitter");
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        consumer.subscribe(List.of(topics.replies().name()));
        running = true;
        loop = new Thread(this::run, "emitter-loop");
        loop.start();
        // Asynchronous: a slow or failing Bot API must neither delay nor stop the sending of replies.
        commandsRegistration = BotCommands.register(telegram, config.telegram().token());
        LOG.info("emitter sending {} to {}", topics.replies().name(), config.telegram().apiUrl());
    }

    /**
     * The outcome of registering the command list at {@link #start()}: true once Telegram accepted it, false if
     * that failed (logged). Empty before {@code start()}.
     */
    public synchronized Optional<CompletableFuture<Boolean>> commandsRegistration() {
        return Optional.ofNullable(commandsRegistration).map(CompletableFuture::copy);
    }

    private void run() {
        try {
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL_TIMEOUT);
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    if (!running) {
                        // Stopping: the rest of the batch is redelivered to the group (offsets stop before it).
                        return;
                    }
                    process(record);
                }
            }
        } catch (WakeupException e) {
            if (running) {
                failure = e;
                LOG.error("emitter loop woken up unexpectedly; stopping it", e);
            }
        } catch (InterruptedException e) {
            if (running) {
                failure = e;
                LOG.error("emitter loop interrupted unexpectedly; stopping it", e);
            }
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (running) {
                failure = e;
                LOG.error("emitter loop failed; stopping it", e);
            } else {
                // Already stopping (e.g. close() gave up waiting and closed the producer): not a failure to report.
                LOG.warn("emitter loop hit an error while stopping: {}", e.toString());
            }
        } finally {
            closeConsumer();
        }
    }

    /**
     * Sends one part (or dead-letters one record), reports the outcome and commits past it.
     *
     * @throws InterruptedException when close() cut the part short before its message went out; nothing is
     *                              reported or committed, so the group hands the part to the next instance
     */
    private void process(ConsumerRecord<byte[], byte[]> record) throws InterruptedException {
        ReplyPart part;
        try {
            part = topics.replies().valueSerde().deserializer().deserialize(record.topic(), record.value());
            if (part == null) {
                throw new IllegalArgumentException("empty value");
            }
        } catch (RuntimeException e) {
            deadLetter(record, e.getMessage());
            commit(record);
            return;
        }
        Duration before = part.seq() == 0 ? readingPause : Duration.ZERO;
        synchronized (interruptLock) {
            if (!running) {
                // Stopping: left uncommitted for the group's next instance.
                return;
            }
            interruptible = true;
        }
        Delivery outcome;
        try {
            outcome = sender.send(part, before);
        } finally {
            synchronized (interruptLock) {
                interruptible = false;
            }
        }
        // close() may have interrupted a send that PartSender saw through: report and commit it first, so the
        // next instance neither re-reports it nor finds it unconfirmed. No interrupt can arrive from here on.
        boolean stopRequested = Thread.interrupted();
        try {
            LOG.info("chat {} reply {} part {}: {}", part.chatId(), part.replyId(), part.seq(), outcome.outcome());
            produce(topics.delivered().name(), topics.delivered().keySerde().serializer().serialize(
                    topics.delivered().name(), part.chatId()),
                    topics.delivered().valueSerde().serializer().serialize(topics.delivered().name(), outcome));
            commit(record);
        } finally {
            if (stopRequested) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Commits past one handled record, so a stop or crash redelivers only what was not handled yet. */
    private void commit(ConsumerRecord<byte[], byte[]> record) {
        Map<TopicPartition, OffsetAndMetadata> offsets = Map.of(
                new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
        try {
            consumer.commitSync(offsets);
        } catch (WakeupException e) {
            // close()'s wakeup is meant for poll(); it is spent now, and this commit must still happen.
            consumer.commitSync(offsets);
        }
    }

    private void closeConsumer() {
        // An interrupted consumer cannot leave its group cleanly (the next instance would wait a session timeout
        // for the partitions); the flag is restored afterwards.
        boolean interrupted = Thread.interrupted();
        try {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        } catch (RuntimeException e) {
            LOG.warn("closing the emitter's consumer failed: {}", e.toString());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void deadLetter(ConsumerRecord<byte[], byte[]> record, String reason) throws InterruptedException {
        deadLettered.incrementAndGet();
        LOG.warn("unreadable reply part at {}-{}@{} sent to {}: {}", record.topic(), record.partition(),
                record.offset(), topics.deadLetters().name(), reason);
        ProducerRecord<byte[], byte[]> dead = DeadLetters.of(topics.deadLetters().name(), record, "emitter", reason,
                clock.millis());
        send(dead);
    }

    private void produce(String topic, byte[] key, byte[] value) throws InterruptedException {
        send(new ProducerRecord<>(topic, key, value));
    }

    private void send(ProducerRecord<byte[], byte[]> record) throws InterruptedException {
        try {
            producer.send(record).get();
        } catch (ExecutionException e) {
            // Without the outcome recorded the offset must not be committed: stop and let a restart redo it.
            throw new IllegalStateException("cannot write to " + record.topic(), e.getCause());
        }
    }

    /** Records set aside on the dead-letter topic. */
    public long deadLettered() {
        return deadLettered.get();
    }

    /** Parts sent while Redis was unreachable (fail-open), so without protection against a duplicate. */
    public long sentWithoutClaim() {
        return sender.sentWithoutClaim();
    }

    /** Redis commands that failed; the emitter kept going. */
    public long claimStoreErrors() {
        return sender.claimStoreErrors();
    }

    public boolean isRunning() {
        return running && loop != null && loop.isAlive();
    }

    /** Why the loop stopped on its own, if it did (empty after a clean close()). */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** Blocks until the loop has ended, by close() or by a failure. */
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
     * Stops the loop: a part being typed is abandoned (its claim released, its offset not committed, so the
     * group's next instance sends it); a message already on its way is seen through and reported first.
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
            if (t.isAlive()) {
                // Ends a poll() at once; a loop that already failed has closed the consumer itself.
                consumer.wakeup();
            }
            synchronized (interruptLock) {
                // Cuts a typing pause or a retry wait short (PartSender sees an in-flight send through). Only
                // while sending: an interrupt inside a Kafka call would lose a commit or the clean group leave.
                if (interruptible) {
                    t.interrupt();
                }
            }
            try {
                t.join(CLOSE_TIMEOUT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                LOG.warn("emitter loop still busy after {} ms; closing the producer under it", CLOSE_TIMEOUT.toMillis());
            }
        } else if (consumer != null) {
            // start() failed before the loop owned the consumer.
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        LOG.info("emitter stopped");
    }
}
