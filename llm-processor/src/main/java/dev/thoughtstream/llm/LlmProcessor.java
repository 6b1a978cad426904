package dev.thoughtstream.llm;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.ReplyResult.Outcome;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The llm-processor service: thoughts in, reply parts out.
 *
 * <p>A classic consumer group ({@code LLM_GROUP_ID}) reads the thoughts topic as raw bytes and deserializes each
 * record itself, so an unreadable record goes to the dead-letter topic with the reason and the partition moves on.
 * Each thought is answered by a {@link ReplyGenerator}; every part it hands over is produced to the replies topic at
 * once (idempotent producer, acks=all). The thought's offset is committed only after all its parts were
 * acknowledged, so a crash at any point means the thought is answered again (at least once), with the same
 * deterministic reply id and part keys, which is what the emitter's claims deduplicate on.
 *
 * <p>Walking-skeleton scope: one thought at a time per instance, in partition order (scale with more instances, up
 * to the partition count). {@code max.poll.records=1} keeps the time between polls to one generation, which the
 * reply timeout bounds, well under {@code max.poll.interval.ms}.
 */
public final class LlmProcessor implements AutoCloseable {
    public static final String SERVICE = "llm-processor";

    private static final Logger LOG = LoggerFactory.getLogger(LlmProcessor.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    /** Beyond the reply timeout: the generation ends itself; this only guards against a bug that would hang us. */
    private static final Duration RESULT_GRACE = Duration.ofSeconds(30);

    private final Topics topics;
    private final LlmConfig config;
    private final ReplyGenerator generator;
    private final Clock clock;
    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final Thread pollThread;
    private final CountDownLatch terminated = new CountDownLatch(1);

    private final Object lifecycle = new Object();
    private volatile boolean running = true;
    private boolean started;
    private boolean closed;
    private ReplyGeneration current;
    private volatile Throwable failure;

    /**
     * Creates the Kafka clients; nothing is consumed before {@link #start()}.
     *
     * @param kafka  where Kafka is, plus pass-through client properties
     * @param topics the pipeline's topics
     * @param config model and reply settings
     * @param model  answers the thoughts
     * @param timer  runs reply timeouts; not owned (the caller shuts it down after {@link #close()})
     * @param clock  stamps reply parts and dead letters
     */
    public LlmProcessor(KafkaSettings kafka, Topics topics, LlmConfig config, StreamingChatModel model,
            ScheduledExecutorService timer, Clock clock) {
        this.topics = Objects.requireNonNull(topics, "topics");
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.generator = ReplyGenerator.from(config, model, timer, clock);
        this.consumer = new KafkaConsumer<>(consumerProperties(kafka, config));
        try {
            this.producer = new KafkaProducer<>(producerProperties(kafka));
        } catch (RuntimeException e) {
            consumer.close(CloseOptions.timeout(Duration.ZERO));
            throw e;
        }
        this.pollThread = new Thread(this::run, SERVICE + "-poll");
    }

    static Properties consumerProperties(KafkaSettings kafka, LlmConfig config) {
        Properties p = new Properties();
        // Tunables first, so KAFKA_CLIENT_* can override them.
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG,
                Long.toString(Math.max(300_000L, config.replyTimeout().plus(RESULT_GRACE).multipliedBy(2).toMillis())));
        // A new group answers what is already waiting rather than skipping it.
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.putAll(kafka.clientProperties());
        // What correctness depends on comes last and cannot be overridden.
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
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
        return p;
    }

    /** Starts the poll loop on its own thread. */
    public void start() {
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("closed");
            }
            if (started) {
                return;
            }
            started = true;
        }
        LOG.info("starting: {} -> {} as group {}, {}", topics.thoughts().name(), topics.replies().name(),
                config.groupId(), config);
        pollThread.start();
    }

    /** True from {@link #start()} until the poll loop has ended (closed or failed). */
    public boolean isRunning() {
        synchronized (lifecycle) {
            return started && terminated.getCount() > 0;
        }
    }

    /** Why the poll loop ended on its own, if it did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** Waits until the poll loop has ended; true if it did within {@code timeout}. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits as long as it takes for the poll loop to end. */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /**
     * Stops polling, cancels the generation in flight (its thought stays uncommitted and is answered again by the
     * next owner of its partition), leaves the group and closes the clients.
     */
    @Override
    public void close() {
        ReplyGeneration active;
        boolean wasStarted;
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            running = false;
            active = current;
            wasStarted = started;
        }
        if (active != null) {
            active.cancel();
        }
        if (!wasStarted) {
            closeClients();
            terminated.countDown();
            return;
        }
        consumer.wakeup();
        if (Thread.currentThread() != pollThread) {
            try {
                pollThread.join(CLOSE_TIMEOUT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (pollThread.isAlive()) {
                LOG.warn("poll thread did not stop within {}", CLOSE_TIMEOUT);
            }
        }
    }

    private void run() {
        try {
            consumer.subscribe(List.of(topics.thoughts().name()));
            while (running) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(POLL_TIMEOUT);
                } catch (WakeupException e) {
                    continue; // only close() wakes us; the loop condition ends it
                }
                // A rewound partition must not go on with later records of the same poll: order per chat.
                Set<TopicPartition> rewound = new HashSet<>();
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                    if (!running) {
                        break;
                    }
                    if (!rewound.contains(tp) && !process(record, tp)) {
                        rewound.add(tp);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("poll thread interrupted; stopping");
        } catch (WakeupException e) {
            if (running) {
                failure = e;
                LOG.error("unexpected wakeup; stopping", e);
            }
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.error("poll loop failed; the processor stops", e);
        } finally {
            running = false;
            closeClients();
            terminated.countDown();
        }
    }

    /**
     * Answers one record. Returns false when its partition was rewound to it (it will be read again), true when
     * the offset moved on, or when closing.
     */
    private boolean process(ConsumerRecord<byte[], byte[]> record, TopicPartition tp) throws InterruptedException {
        Long key;
        Thought thought;
        try {
            key = topics.thoughts().keySerde().deserializer().deserialize(record.topic(), record.key());
            thought = topics.thoughts().valueSerde().deserializer().deserialize(record.topic(), record.value());
            if (thought == null) {
                throw new SerializationException("record has no value; a thought was expected");
            }
        } catch (SerializationException e) {
            return deadLetter(record, tp, e.getMessage());
        }
        if (key != null && key != thought.chatId()) {
            LOG.warn("thought {} at {}@{} is keyed {} but belongs to chat {}; replying under the chat id",
                    thought.thoughtId(), tp, record.offset(), key, thought.chatId());
        }

        List<Future<RecordMetadata>> acks = Collections.synchronizedList(new ArrayList<>());
        long startedAt = clock.millis();
        synchronized (lifecycle) {
            if (!running) {
                return true;
            }
        }
        ReplyGeneration generation = generator.generate(thought, part -> acks.add(producer.send(toRecord(part))));
        synchronized (lifecycle) {
            current = generation;
            if (!running) {
                generation.cancel(); // close() ran while we were starting it
            }
        }
        ReplyResult result;
        try {
            result = generation.result().get(config.replyTimeout().plus(RESULT_GRACE).toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            LOG.error("chat {} thought {}: could not produce reply {}; will answer the thought again",
                    thought.chatId(), thought.thoughtId(), generation.replyId(), e.getCause());
            return rewind(tp, record.offset());
        } catch (TimeoutException e) {
            generation.cancel();
            LOG.error("chat {} thought {}: reply {} did not end after {}; will answer the thought again",
                    thought.chatId(), thought.thoughtId(), generation.replyId(), config.replyTimeout().plus(RESULT_GRACE));
            return rewind(tp, record.offset());
        } catch (InterruptedException e) {
            generation.cancel();
            throw e;
        } finally {
            synchronized (lifecycle) {
                current = null;
            }
        }
        if (result.outcome() == Outcome.CANCELLED) {
            // Only close() cancels here: leave the offset alone, the next owner answers the thought.
            return true;
        }
        if (!awaitAcks(acks, thought, generation.replyId())) {
            return rewind(tp, record.offset());
        }
        commit(tp, record.offset());
        LOG.info("chat {} thought {}: reply {} {} with {} parts ({} chars) in {} ms", thought.chatId(),
                thought.thoughtId(), result.replyId(), result.outcome(), result.parts(), result.chars(),
                clock.millis() - startedAt);
        return true;
    }

    private ProducerRecord<byte[], byte[]> toRecord(ReplyPart part) {
        String topic = topics.replies().name();
        return new ProducerRecord<>(topic,
                topics.replies().keySerde().serializer().serialize(topic, part.chatId()),
                topics.replies().valueSerde().serializer().serialize(topic, part));
    }

    private boolean awaitAcks(List<Future<RecordMetadata>> acks, Thought thought, String replyId)
            throws InterruptedException {
        List<Future<RecordMetadata>> snapshot;
        synchronized (acks) {
            snapshot = new ArrayList<>(acks);
        }
        for (Future<RecordMetadata> ack : snapshot) {
            try {
                // Bounded by the producer's delivery.timeout.ms.
                ack.get();
            } catch (ExecutionException e) {
                LOG.error("chat {} thought {}: Kafka did not accept a part of reply {}; will answer the thought again",
                        thought.chatId(), thought.thoughtId(), replyId, e.getCause());
                return false;
            }
        }
        return true;
    }

    private boolean deadLetter(ConsumerRecord<byte[], byte[]> record, TopicPartition tp, String reason)
            throws InterruptedException {
        LOG.warn("unreadable record at {}@{}: {}; sending it to {}", tp, record.offset(), reason,
                topics.deadLetters().name());
        try {
            producer.send(DeadLetters.of(topics.deadLetters().name(), record, SERVICE, reason, clock.millis())).get();
        } catch (ExecutionException e) {
            LOG.error("could not dead-letter the record at {}@{}; will read it again", tp, record.offset(), e.getCause());
            return rewind(tp, record.offset());
        }
        commit(tp, record.offset());
        return true;
    }

    private boolean rewind(TopicPartition tp, long offset) {
        consumer.seek(tp, offset);
        return false;
    }

    private void commit(TopicPartition tp, long offset) {
        Map<TopicPartition, OffsetAndMetadata> next = Map.of(tp, new OffsetAndMetadata(offset + 1));
        try {
            try {
                consumer.commitSync(next);
            } catch (WakeupException e) {
                // close() woke the consumer to end the poll; the work is done, so the commit still counts.
                consumer.commitSync(next);
            }
        } catch (CommitFailedException | RebalanceInProgressException e) {
            LOG.warn("could not commit {}@{} (the group rebalanced); its new owner will answer it again: {}", tp,
                    offset, e.getMessage());
        }
    }

    private void closeClients() {
        try {
            consumer.close(CloseOptions.timeout(CLOSE_TIMEOUT));
        } catch (RuntimeException e) {
            LOG.warn("closing the consumer failed", e);
        }
        try {
            producer.close(CLOSE_TIMEOUT);
        } catch (RuntimeException e) {
            LOG.warn("closing the producer failed", e);
        }
    }
}
