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
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
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
 * chat's parts stay in order); offsets are committed only after the polled parts were sent or failed and
 * their outcomes acknowledged. Per-chat lanes, staleness and rate limits build on this (issue 5).
 */
public final class EmitterService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmitterService.class);

    private final EmitterConfig config;
    private final KafkaSettings kafka;
    private final Topics topics;
    private final PartSender sender;
    private final Clock clock;
    private final Duration readingPause;
    private final AtomicLong deadLettered = new AtomicLong();

    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<byte[], byte[]> producer;
    private Thread loop;
    private volatile boolean running;

    public EmitterService(EmitterConfig config, KafkaSettings kafka, TelegramClient telegram, ClaimStore claims,
            Clock clock, Pause pause) {
        this.config = config;
        this.kafka = kafka;
        this.topics = Topics.withPrefix(kafka.topicPrefix());
        this.clock = clock;
        this.readingPause = config.readingPause();
        String instanceId = "emitter-" + UUID.randomUUID().toString().substring(0, 8);
        this.sender = new PartSender(telegram, claims, TypingDelay.from(config), pause, clock, config.claimTtl(),
                config.maxSendAttempts(), instanceId, config.telegram().token());
    }

    public EmitterService(EmitterConfig config, KafkaSettings kafka, TelegramClient telegram, ClaimStore claims,
            Clock clock) {
        this(config, kafka, telegram, claims, clock, Pause.REAL);
    }

    public synchronized void start() {
        TopicAdmin.ensureTopics(kafka, topics, Duration.ofSeconds(30));
        Properties c = kafka.clientProperties();
        c.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50);
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
        LOG.info("emitter sending {} to {}", topics.replies().name(), config.telegram().apiUrl());
    }

    private void run() {
        try {
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    handle(record);
                }
                if (!records.isEmpty()) {
                    consumer.commitSync();
                }
            }
        } catch (WakeupException e) {
            if (running) {
                LOG.error("emitter loop woken up unexpectedly", e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.info("emitter loop interrupted; stopping");
        } catch (RuntimeException e) {
            LOG.error("emitter loop failed; stopping it", e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void handle(ConsumerRecord<byte[], byte[]> record) throws InterruptedException {
        ReplyPart part;
        try {
            part = topics.replies().valueSerde().deserializer().deserialize(record.topic(), record.value());
            if (part == null) {
                throw new IllegalArgumentException("empty value");
            }
        } catch (RuntimeException e) {
            deadLetter(record, e.getMessage());
            return;
        }
        Duration before = part.seq() == 0 ? readingPause : Duration.ZERO;
        Delivery outcome = sender.send(part, before);
        LOG.info("chat {} reply {} part {}: {}", part.chatId(), part.replyId(), part.seq(), outcome.outcome());
        produce(topics.delivered().name(), topics.delivered().keySerde().serializer().serialize(
                topics.delivered().name(), part.chatId()),
                topics.delivered().valueSerde().serializer().serialize(topics.delivered().name(), outcome));
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

    public long deadLettered() {
        return deadLettered.get();
    }

    public boolean isRunning() {
        return running && loop != null && loop.isAlive();
    }

    @Override
    public synchronized void close() {
        if (!running) {
            return;
        }
        running = false;
        if (consumer != null) {
            consumer.wakeup();
        }
        if (loop != null) {
            loop.interrupt();
            try {
                loop.join(15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        LOG.info("emitter stopped");
    }
}
