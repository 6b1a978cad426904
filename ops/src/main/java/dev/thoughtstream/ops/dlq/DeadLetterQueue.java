package dev.thoughtstream.ops.dlq;

import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ops.Kafka;
import dev.thoughtstream.ops.OpsException;
import dev.thoughtstream.ops.OpsSettings;
import dev.thoughtstream.ops.Text;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The dead-letter topic: list, show, and redrive its records to the topics they came from.
 *
 * <p>A redrive happens once per dead letter, however often it runs. Each redriven record carries a header
 * {@value #REDRIVEN_FROM} naming the dead letter ({@code <dead-letter topic>:<partition>:<offset>}), and a marker keyed
 * by {@code <partition>:<offset>} goes to the compacted topic {@code <dead-letter topic>}{@value #MARKER_SUFFIX}. Record
 * and marker are written in one Kafka transaction, so either both exist or neither: a redrive that dies half-way
 * leaves no record sent without its marker. Before choosing, a redrive reads every marker (read_committed, after
 * {@code initTransactions} has finished or aborted the transaction of an earlier run); a dead letter with a marker is
 * skipped. The transactional id is the same for every run against the same dead-letter topic, so of two redrives run
 * at once the older is fenced off and fails instead of sending twice. Markers are never deleted: compaction keeps the
 * one record per key.
 */
public final class DeadLetterQueue implements AutoCloseable {
    public static final String REDRIVEN_FROM = "dlq.redriven.from";
    public static final String MARKER_SUFFIX = ".redriven";
    private static final String DLQ_HEADER_PREFIX = "dlq.";

    private final OpsSettings settings;
    private final Clock clock;
    private final Topics topics;
    private final String topic;
    private final String markerTopic;
    private final Admin admin;
    private final KafkaConsumer<byte[], byte[]> reader;

    public DeadLetterQueue(OpsSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.topics = settings.topics();
        this.topic = topics.deadLetters().name();
        this.markerTopic = topic + MARKER_SUFFIX;
        this.admin = Kafka.admin(settings.kafka(), "thoughtstream-ops-dlq");
        this.reader = Kafka.reader(settings.kafka(), "thoughtstream-ops-dlq");
    }

    public String topic() {
        return topic;
    }

    public String markerTopic() {
        return markerTopic;
    }

    /** Every dead letter, oldest first (by time written, then partition and offset). */
    public List<DeadLetter> list() {
        Set<String> redriven = redrivenCoordinates();
        List<DeadLetter> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(topic)) {
            out.add(DeadLetter.of(r, redriven.contains(r.partition() + ":" + r.offset())));
        }
        out.sort(Comparator.comparingLong(DeadLetter::timestampMs)
                .thenComparingInt(DeadLetter::partition)
                .thenComparingLong(DeadLetter::offset));
        return out;
    }

    /**
     * The dead letter at {@code partition:offset}.
     *
     * @throws OpsException when there is none
     */
    public DeadLetter show(int partition, long offset) {
        TopicPartition tp = new TopicPartition(topic, partition);
        if (reader.partitionsFor(topic).stream().noneMatch(p -> p.partition() == partition)) {
            throw new OpsException(topic + " has no partition " + partition);
        }
        reader.assign(List.of(tp));
        reader.seek(tp, offset);
        long end = reader.endOffsets(List.of(tp)).get(tp);
        long deadline = System.nanoTime() + Kafka.TIMEOUT.toNanos();
        while (reader.position(tp) < end && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(200))) {
                if (r.offset() == offset) {
                    return DeadLetter.of(r, redrivenCoordinates().contains(partition + ":" + offset));
                }
                if (r.offset() > offset) {
                    break;
                }
            }
        }
        throw new OpsException("no dead letter at " + partition + ":" + offset + " on " + topic);
    }

    /**
     * Sends the dead letters whose reason contains {@code reasonContains} (all when empty) back to their source
     * topics, each at most once ever (see the class comment).
     */
    public RedriveResult redrive(Optional<String> reasonContains, boolean dryRun) {
        if (dryRun) {
            return choose(reasonContains, redrivenCoordinates(), true);
        }
        ensureMarkerTopic();
        try (KafkaProducer<byte[], byte[]> producer = transactionalProducer()) {
            // Finishes or aborts an earlier run's transaction, so the markers read next are all there are.
            producer.initTransactions();
            RedriveResult plan = choose(reasonContains, redrivenCoordinates(), false);
            if (plan.redriven().isEmpty()) {
                return plan;
            }
            Map<String, ConsumerRecord<byte[], byte[]>> byCoordinates = new HashMap<>();
            readAll(topic).forEach(r -> byCoordinates.put(r.partition() + ":" + r.offset(), r));
            producer.beginTransaction();
            try {
                for (RedriveResult.Redriven chosen : plan.redriven()) {
                    ConsumerRecord<byte[], byte[]> dead = byCoordinates.get(chosen.deadLetter());
                    producer.send(redriven(dead, chosen.topic()));
                    producer.send(new ProducerRecord<>(
                            markerTopic, chosen.deadLetter().getBytes(StandardCharsets.UTF_8), marker(chosen.topic())));
                }
                producer.commitTransaction();
            } catch (KafkaException e) {
                abort(producer, e);
                throw new OpsException("redrive failed, nothing was sent: " + e.getMessage(), e);
            }
            return plan;
        }
    }

    private RedriveResult choose(Optional<String> reasonContains, Set<String> alreadyRedriven, boolean dryRun) {
        Set<String> sourceTopics = new HashSet<>(topics.allNames());
        sourceTopics.remove(topic);
        List<RedriveResult.Redriven> redriven = new ArrayList<>();
        List<RedriveResult.Skipped> skipped = new ArrayList<>();
        for (DeadLetter d : list()) {
            String reason = d.reason() == null ? "" : d.reason();
            if (reasonContains.isPresent() && !reason.contains(reasonContains.get())) {
                continue;
            }
            if (alreadyRedriven.contains(d.coordinates())) {
                skipped.add(new RedriveResult.Skipped(d.coordinates(), "already redriven"));
            } else if (d.sourceTopic() == null || !sourceTopics.contains(d.sourceTopic())) {
                skipped.add(new RedriveResult.Skipped(
                        d.coordinates(), "source topic " + d.sourceTopic() + " is not one of the pipeline's"));
            } else {
                redriven.add(new RedriveResult.Redriven(d.coordinates(), d.sourceTopic(), d.reason()));
            }
        }
        return new RedriveResult(dryRun, redriven, skipped);
    }

    /** The original record again: its key, value and headers, minus the dead-letter ones, plus where it was. */
    private ProducerRecord<byte[], byte[]> redriven(ConsumerRecord<byte[], byte[]> dead, String target) {
        RecordHeaders headers = new RecordHeaders();
        for (Header h : dead.headers()) {
            if (!h.key().startsWith(DLQ_HEADER_PREFIX)) {
                headers.add(h);
            }
        }
        headers.add(
                REDRIVEN_FROM, (topic + ":" + dead.partition() + ":" + dead.offset()).getBytes(StandardCharsets.UTF_8));
        // No partition: the default partitioner puts the chat's key where the chat's other records are.
        return new ProducerRecord<>(target, null, dead.key(), dead.value(), headers);
    }

    private byte[] marker(String target) {
        return Text.jsonLine(Map.of("topic", target, "atMs", clock.millis())).getBytes(StandardCharsets.UTF_8);
    }

    private static void abort(KafkaProducer<byte[], byte[]> producer, KafkaException cause) {
        try {
            producer.abortTransaction();
        } catch (KafkaException e) {
            cause.addSuppressed(e);
        }
    }

    private KafkaProducer<byte[], byte[]> transactionalProducer() {
        Properties p = settings.kafka().clientProperties();
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "thoughtstream-ops-redrive");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "thoughtstream-ops-redrive-" + topic);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private void ensureMarkerTopic() {
        NewTopic marker = new NewTopic(
                        markerTopic, Optional.of(1), settings.kafka().replicationFactor())
                .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        try {
            admin.createTopics(List.of(marker)).all().get(Kafka.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new OpsException(
                        "cannot create " + markerTopic + ": " + e.getCause().getMessage(), e.getCause());
            }
        } catch (TimeoutException e) {
            throw new OpsException("timed out creating " + markerTopic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OpsException("interrupted while creating " + markerTopic, e);
        }
    }

    /** The {@code partition:offset} of every dead letter redriven so far; none when no redrive ever ran. */
    private Set<String> redrivenCoordinates() {
        Set<String> out = new HashSet<>();
        if (!exists(markerTopic)) {
            return out;
        }
        for (ConsumerRecord<byte[], byte[]> r : readAll(markerTopic)) {
            if (r.key() != null && r.value() != null) {
                out.add(new String(r.key(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private boolean exists(String name) {
        try {
            admin.describeTopics(List.of(name)).allTopicNames().get(Kafka.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return false;
            }
            throw new OpsException(
                    "cannot describe " + name + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new OpsException("timed out describing " + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OpsException("interrupted while describing " + name, e);
        }
    }

    /** Every record of {@code name} up to the end offsets as of now. */
    private List<ConsumerRecord<byte[], byte[]>> readAll(String name) {
        List<TopicPartition> tps = new ArrayList<>();
        reader.partitionsFor(name, Kafka.TIMEOUT).forEach(p -> tps.add(new TopicPartition(name, p.partition())));
        reader.assign(tps);
        reader.seekToBeginning(tps);
        Map<TopicPartition, Long> ends = reader.endOffsets(tps, Kafka.TIMEOUT);
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        long deadline = System.nanoTime() + Kafka.TIMEOUT.toNanos();
        while (tps.stream().anyMatch(tp -> reader.position(tp) < ends.get(tp))) {
            if (System.nanoTime() > deadline) {
                throw new OpsException("timed out reading " + name + " to its end");
            }
            reader.poll(Duration.ofMillis(200)).forEach(r -> {
                if (r.offset() < ends.get(new TopicPartition(r.topic(), r.partition()))) {
                    out.add(r);
                }
            });
        }
        reader.assign(List.of());
        return out;
    }

    /** The list as a table for people. */
    public static String listText(List<DeadLetter> letters) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("DEAD LETTER", "WRITTEN", "SERVICE", "SOURCE", "CHAT", "REDRIVEN", "REASON"));
        for (DeadLetter d : letters) {
            rows.add(List.of(
                    d.coordinates(),
                    Text.time(d.timestampMs()),
                    String.valueOf(d.service()),
                    d.sourceTopic() + "[" + d.sourcePartition() + "]@" + d.sourceOffset(),
                    d.chatId() == null ? "-" : d.chatId().toString(),
                    d.redriven() ? "yes" : "no",
                    String.valueOf(d.reason())));
        }
        return Text.table(rows) + letters.size() + " dead letter(s)\n";
    }

    /** One dead letter in full. */
    public static String showText(DeadLetter d) {
        StringBuilder out = new StringBuilder();
        out.append("dead letter  ").append(d.coordinates()).append('\n');
        out.append("written      ").append(Text.time(d.timestampMs())).append('\n');
        out.append("service      ").append(d.service()).append('\n');
        out.append("reason       ").append(d.reason()).append('\n');
        out.append("source       ")
                .append(d.sourceTopic())
                .append(" partition ")
                .append(d.sourcePartition())
                .append(" offset ")
                .append(d.sourceOffset())
                .append('\n');
        out.append("chat         ")
                .append(d.chatId() == null ? "-" : d.chatId())
                .append('\n');
        out.append("redriven     ").append(d.redriven() ? "yes" : "no").append('\n');
        out.append("headers\n");
        d.headers()
                .forEach((k, v) ->
                        out.append("  ").append(k).append(": ").append(v).append('\n'));
        out.append("value\n").append(d.value()).append('\n');
        return out.toString();
    }

    public static String redriveText(RedriveResult result) {
        StringBuilder out = new StringBuilder();
        String verb = result.dryRun() ? "would redrive " : "redrove ";
        for (RedriveResult.Redriven r : result.redriven()) {
            out.append(verb)
                    .append(r.deadLetter())
                    .append(" -> ")
                    .append(r.topic())
                    .append("  (")
                    .append(r.reason())
                    .append(")\n");
        }
        for (RedriveResult.Skipped s : result.skipped()) {
            out.append("skipped ")
                    .append(s.deadLetter())
                    .append(": ")
                    .append(s.why())
                    .append('\n');
        }
        out.append(result.redriven().size())
                .append(result.dryRun() ? " to redrive (dry run: nothing sent), " : " redriven, ")
                .append(result.skipped().size())
                .append(" skipped\n");
        return out.toString();
    }

    @Override
    public void close() {
        reader.close();
        admin.close(Duration.ofSeconds(5));
    }
}
