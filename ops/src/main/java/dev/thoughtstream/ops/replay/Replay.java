package dev.thoughtstream.ops.replay;

import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ops.Kafka;
import dev.thoughtstream.ops.OpsException;
import dev.thoughtstream.ops.OpsSettings;
import dev.thoughtstream.ops.trace.ChatTrace;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers recorded thoughts again, beside the replies they were given.
 *
 * <p>Reads {@code chat.thoughts} and {@code chat.replies} with partitions it assigns itself: no group id, nothing
 * committed, so no service's offsets move and no consumer group appears. With a list of chats only their partitions
 * are read (the producer's partitioner on the chat id, as {@link ChatTrace} does). The only thing it writes is, when
 * asked, the new replies to {@code replay.<name>.replies}: never a production topic, never Telegram.
 *
 * <p>Thoughts are answered one at a time, in the order they were closed (then chat id, then thought id), so that the
 * report of a deterministic model is the same on every run.
 */
public final class Replay implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Replay.class);
    private static final Duration POLL = Duration.ofMillis(200);
    /** Kafka's legal topic characters; the name becomes part of {@code replay.<name>.replies}. */
    private static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,200}");

    private final OpsSettings settings;
    private final Topics topics;
    private final Clock clock;
    private final KafkaConsumer<byte[], byte[]> reader;

    public Replay(OpsSettings settings, Clock clock) {
        this.settings = settings;
        this.topics = settings.topics();
        this.clock = clock;
        this.reader = Kafka.reader(settings.kafka(), "thoughtstream-ops-replay");
    }

    /** The topic a replay named {@code name} writes its replies to: {@code <prefix>replay.<name>.replies}. */
    public static String replyTopic(Topics topics, String name) {
        if (name == null || !TOPIC_NAME.matcher(name).matches()) {
            throw new OpsException("a replay topic name is 1 to 200 of a-z A-Z 0-9 . _ - but was '" + name + "'");
        }
        return topics.prefix() + "replay." + name + ".replies";
    }

    /** The thoughts in the window with their original replies, sorted by close time, chat id and thought id. */
    public List<RecordedThought> recorded(ReplayWindow window) {
        Map<String, Thought> thoughts = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : read(topics.thoughts(), window)) {
            if (!window.contains(r.timestamp())) {
                continue;
            }
            Optional<Thought> t = value(topics.thoughts(), r);
            // A redelivered thought is the same thought: the first record of it counts.
            t.ifPresent(thought -> thoughts.putIfAbsent(thought.thoughtId(), thought));
        }
        Map<String, TreeMap<Integer, ReplyPart>> parts = new HashMap<>();
        if (!thoughts.isEmpty()) {
            for (ConsumerRecord<byte[], byte[]> r : read(topics.replies(), window)) {
                value(topics.replies(), r)
                        .filter(p -> thoughts.containsKey(p.thoughtId()))
                        .ifPresent(p -> parts.computeIfAbsent(p.thoughtId(), k -> new TreeMap<>())
                                .putIfAbsent(p.seq(), p));
            }
        }
        List<RecordedThought> recorded = new ArrayList<>();
        for (Thought t : thoughts.values()) {
            TreeMap<Integer, ReplyPart> original = parts.get(t.thoughtId());
            recorded.add(new RecordedThought(t, original == null ? List.of() : List.copyOf(original.values())));
        }
        recorded.sort(
                Comparator.comparingLong((RecordedThought r) -> r.thought().closedAtMs())
                        .thenComparingLong(r -> r.thought().chatId())
                        .thenComparing(r -> r.thought().thoughtId()));
        return recorded;
    }

    /**
     * Answers every thought of the window again with {@code answerer}, writing the new parts to
     * {@code replay.<toTopic>.replies} when a name is given; {@code progress} hears of each thought as it is done.
     */
    public ReplayReport run(
            ReplayWindow window,
            ReplayAnswerer answerer,
            ReplayReport.Setup setup,
            Optional<String> toTopic,
            Consumer<ReplayReport.Row> progress) {
        Optional<String> target = toTopic.map(name -> replyTopic(topics, name));
        List<RecordedThought> recorded = recorded(window);
        LOG.info("replaying {} thoughts of {}", recorded.size(), window.describe());
        List<ReplayReport.Row> rows = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = target.map(this::producer).orElse(null)) {
            for (RecordedThought r : recorded) {
                NewReply reply = answer(answerer, r.thought());
                if (producer != null) {
                    write(producer, target.get(), reply);
                }
                ReplayReport.Row row = new ReplayReport.Row(r, reply);
                rows.add(row);
                progress.accept(row);
            }
            if (producer != null) {
                producer.flush();
            }
        }
        return new ReplayReport(
                new ReplayReport.Setup(
                        setup.provider(),
                        setup.model(),
                        setup.prompt(),
                        setup.promptLabel(),
                        setup.window(),
                        setup.generatedAt(),
                        target),
                rows);
    }

    private NewReply answer(ReplayAnswerer answerer, Thought thought) {
        long start = clock.millis();
        try {
            return answerer.answer(thought);
        } catch (RuntimeException e) {
            // One thought that cannot be answered is a failure in the report, not the end of the replay.
            LOG.warn("replay of chat {} thought {} failed", thought.chatId(), thought.thoughtId(), e);
            return NewReply.failed(e.getClass().getSimpleName() + ": " + e.getMessage(), clock.millis() - start);
        }
    }

    private void write(KafkaProducer<byte[], byte[]> producer, String topic, NewReply reply) {
        Topic<Long, ReplyPart> replies = topics.replies();
        for (ReplyPart p : reply.parts()) {
            ProducerRecord<byte[], byte[]> r = replies.record(p.chatId(), p);
            try {
                producer.send(new ProducerRecord<>(topic, r.key(), r.value()))
                        .get(Kafka.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new OpsException(
                        "cannot write to " + topic + ": " + e.getCause().getMessage(), e.getCause());
            } catch (TimeoutException e) {
                throw new OpsException("timed out writing to " + topic, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OpsException("interrupted while writing to " + topic, e);
            }
        }
    }

    private KafkaProducer<byte[], byte[]> producer(String topic) {
        try (Admin admin = Kafka.admin(settings.kafka(), "thoughtstream-ops-replay")) {
            Set<String> existing = Kafka.get(admin.listTopics().names(), "list the topics");
            if (!existing.contains(topic)) {
                int partitions = reader.partitionsFor(topics.replies().name(), Kafka.TIMEOUT)
                        .size();
                try {
                    // As many partitions as chat.replies, so each chat's parts keep their order in one partition.
                    Kafka.get(
                            admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty())))
                                    .all(),
                            "create " + topic);
                    LOG.info("created {} with {} partitions", topic, partitions);
                } catch (OpsException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        }
        Properties p = settings.kafka().clientProperties();
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        p.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        p.remove(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "thoughtstream-ops-replay");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** The window's records of {@code topic}: from {@code since} (or the start) to the current end. */
    private List<ConsumerRecord<byte[], byte[]>> read(Topic<Long, ?> topic, ReplayWindow window) {
        int count = reader.partitionsFor(topic.name(), Kafka.TIMEOUT).size();
        if (count == 0) {
            throw new OpsException("topic " + topic.name() + " does not exist");
        }
        Set<Integer> chosen = new TreeSet<>();
        Set<Long> chats = new HashSet<>(window.chats());
        if (chats.isEmpty()) {
            for (int p = 0; p < count; p++) {
                chosen.add(p);
            }
        } else {
            for (long chat : window.chats()) {
                chosen.add(ChatTrace.partitionFor(topic.keySerde().serializer().serialize(topic.name(), chat), count));
            }
        }
        List<TopicPartition> partitions =
                chosen.stream().map(p -> new TopicPartition(topic.name(), p)).toList();
        reader.assign(partitions);
        Map<TopicPartition, Long> ends = reader.endOffsets(partitions, Kafka.TIMEOUT);
        if (window.since().isPresent()) {
            Map<TopicPartition, Long> query = new HashMap<>();
            partitions.forEach(tp -> query.put(tp, window.since().get().toEpochMilli()));
            Map<TopicPartition, OffsetAndTimestamp> found = reader.offsetsForTimes(query, Kafka.TIMEOUT);
            for (TopicPartition tp : partitions) {
                OffsetAndTimestamp at = found.get(tp);
                reader.seek(tp, at == null ? ends.get(tp) : at.offset());
            }
        } else {
            reader.seekToBeginning(partitions);
        }
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        long deadline = System.nanoTime() + Kafka.TIMEOUT.toNanos();
        while (ends.entrySet().stream().anyMatch(e -> reader.position(e.getKey()) < e.getValue())) {
            if (System.nanoTime() > deadline) {
                throw new OpsException("timed out reading " + topic.name() + " to its end");
            }
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(POLL)) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                if (r.offset() >= ends.get(tp)) {
                    continue;
                }
                if (!chats.isEmpty() && (r.key() == null || !chats.contains(key(topic, r)))) {
                    continue;
                }
                records.add(r);
            }
        }
        return records;
    }

    private static Long key(Topic<Long, ?> topic, ConsumerRecord<byte[], byte[]> r) {
        try {
            return topic.key(r);
        } catch (SerializationException e) {
            return null;
        }
    }

    private static <V> Optional<V> value(Topic<Long, V> topic, ConsumerRecord<byte[], byte[]> r) {
        try {
            return Optional.ofNullable(topic.value(r));
        } catch (SerializationException e) {
            // The pipeline dead-letters such a record; the replay has nothing to answer in it.
            LOG.warn("skipping unreadable record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        reader.close();
    }
}
