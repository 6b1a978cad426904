package dev.thoughtstream.ops.reprocess;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.ops.Kafka;
import dev.thoughtstream.ops.OpsException;
import dev.thoughtstream.ops.OpsSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListStreamsGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.StreamsGroupDescription;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the chunker's state from its input topics: what Kafka's {@code kafka-streams-application-reset} does for a
 * Streams application (its input offsets set to a time, its changelog and repartition topics deleted), plus the
 * local state directory cleared and a reprocess fence written, as one step that first says what it will do.
 *
 * <p>The chunker's group uses the classic protocol unless {@code group.protocol=streams} is passed through to it
 * (KIP-1071); the two need different Admin calls (describe and alter offsets of a consumer group or of a streams
 * group), and which applies is read from the broker's listing of the group, or from the configured protocol while
 * the group does not exist. Like the Streams reset tool, it refuses while the group has members: a running instance
 * would commit its own offsets over the reset and keep writing the state being deleted.
 *
 * <p>The fence (see the chunker's {@code ReprocessFence}, whose format this writes) is the group's committed offsets
 * at reset time: everything below them had been processed, so it was answered; everything from them on had not,
 * and is answered once, normally. A partition without a committed offset is fenced at its end.
 */
public final class Reprocessor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Reprocessor.class);

    private final OpsSettings settings;
    private final Path stateDir;
    private final Clock clock;
    private final Admin admin;

    /** @param stateDirRoot the chunker's {@code STREAMS_STATE_DIR}; its application's subdirectory is cleared */
    public Reprocessor(OpsSettings settings, Path stateDirRoot, Clock clock) {
        this.settings = settings;
        this.stateDir = stateDirRoot.resolve(settings.chunkerGroup());
        this.clock = clock;
        this.admin = Kafka.admin(settings.kafka(), "thoughtstream-ops-reprocess");
    }

    /** The fence topic of the Streams application {@code applicationId}; the chunker reads the same name. */
    public static String fenceTopic(String applicationId) {
        return applicationId + "-reprocess-fence";
    }

    /**
     * Streams' internal topics of {@code applicationId}: Kafka names them {@code <application.id>-<name>-changelog}
     * and {@code -repartition}, and the Streams reset tool picks them by exactly this rule.
     */
    static boolean isInternalTopic(String applicationId, String topic) {
        return topic.startsWith(applicationId + "-")
                && (topic.endsWith("-changelog") || topic.endsWith("-repartition"));
    }

    /**
     * What a reprocess from {@code from} would do; changes nothing.
     *
     * @param from the time to reprocess from; empty: from the earliest retained record
     */
    public ReprocessPlan plan(Optional<Instant> from, Emit emit) {
        String group = settings.chunkerGroup();
        GroupInfo info = group();
        List<TopicPartition> partitions = inputPartitions();
        Map<TopicPartition, Long> committed = committed(info);
        Map<TopicPartition, Long> ends = offsets(partitions, OffsetSpec.latest());
        Map<TopicPartition, Long> targets = from.isPresent()
                ? offsets(partitions, OffsetSpec.forTimestamp(from.get().toEpochMilli()))
                : offsets(partitions, OffsetSpec.earliest());
        List<ReprocessPlan.PartitionReset> resets = new ArrayList<>();
        Map<String, Map<Integer, Long>> fence = new TreeMap<>();
        for (TopicPartition tp : partitions) {
            long target = targets.getOrDefault(tp, -1L);
            String reason;
            if (target < 0) {
                // As the Streams reset tool does: no record at or after the time means nothing to reprocess there.
                target = ends.get(tp);
                reason = "end: no record at or after --from";
            } else {
                reason = from.isPresent() ? "first record at or after --from" : "earliest retained record";
            }
            resets.add(new ReprocessPlan.PartitionReset(tp.topic(), tp.partition(), committed.get(tp), target, reason));
            if (emit == Emit.NONE) {
                fence.computeIfAbsent(tp.topic(), t -> new TreeMap<>())
                        .put(tp.partition(), committed.getOrDefault(tp, ends.get(tp)));
            }
        }
        List<String> internal = Kafka.get(admin.listTopics().names(), "list the topics").stream()
                .filter(t -> isInternalTopic(group, t))
                .sorted()
                .toList();
        return new ReprocessPlan(
                group,
                info.protocol(),
                info.state(),
                info.members(),
                from.map(Instant::toString).orElse("earliest"),
                resets,
                internal,
                stateDir,
                Files.isDirectory(stateDir),
                emit,
                fenceTopic(group),
                fence);
    }

    /**
     * Plans, then does it: fence, offsets, internal topics, local state, in that order.
     *
     * @throws OpsException naming the group and its member count while any chunker instance is in the group
     */
    public ReprocessPlan run(Optional<Instant> from, Emit emit, Consumer<String> progress) {
        ReprocessPlan plan = plan(from, emit);
        refuseWhileActive(plan);
        if (plan.members() == 0
                && plan.groupState().equals("absent")
                && plan.protocol().equals("streams")) {
            throw new OpsException("the chunker group " + plan.group() + " does not exist and the chunker is "
                    + "configured for the streams protocol, whose offsets cannot be set before the group exists: "
                    + "start and stop the chunker once, then run this again");
        }
        writeFence(plan);
        progress.accept("fence written to " + plan.fenceTopic());
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        plan.resets()
                .forEach(r ->
                        offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.target())));
        if (plan.protocol().equals("streams")) {
            Kafka.get(
                    admin.alterStreamsGroupOffsets(plan.group(), offsets).all(),
                    "set the offsets of streams group " + plan.group());
        } else {
            Kafka.get(
                    admin.alterConsumerGroupOffsets(plan.group(), offsets).all(),
                    "set the offsets of group " + plan.group());
        }
        progress.accept("offsets of " + offsets.size() + " input partitions set");
        if (!plan.internalTopics().isEmpty()) {
            Kafka.get(admin.deleteTopics(plan.internalTopics()).all(), "delete " + plan.internalTopics());
            awaitGone(plan.internalTopics());
            progress.accept("deleted " + plan.internalTopics());
        }
        clear(plan.stateDir());
        progress.accept("cleared " + plan.stateDir());
        LOG.info("reprocess of {} from {} prepared (emit {})", plan.group(), plan.from(), plan.emit());
        return plan;
    }

    private static void refuseWhileActive(ReprocessPlan plan) {
        if (plan.members() > 0) {
            throw new OpsException("the chunker group " + plan.group() + " has " + plan.members() + " active "
                    + (plan.members() == 1 ? "member" : "members")
                    + ": stop every chunker instance first (a running one would commit its offsets over the reset"
                    + " and write the state being deleted). A stopped instance with a stable INSTANCE_ID stays a"
                    + " member until its session times out.");
        }
    }

    private record GroupInfo(String protocol, String state, int members) {}

    private GroupInfo group() {
        String group = settings.chunkerGroup();
        Optional<GroupListing> listing = Kafka.get(admin.listGroups().all(), "list the groups").stream()
                .filter(g -> g.groupId().equals(group))
                .findFirst();
        if (listing.isEmpty()) {
            String configured =
                    settings.kafka().clientOverrides().getOrDefault(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
            return new GroupInfo(configured.strip().toLowerCase(Locale.ROOT), "absent", 0);
        }
        GroupType type = listing.get().type().orElse(GroupType.CLASSIC);
        if (type == GroupType.STREAMS) {
            StreamsGroupDescription d = Kafka.get(
                    admin.describeStreamsGroups(List.of(group))
                            .describedGroups()
                            .get(group),
                    "describe streams group " + group);
            return new GroupInfo(
                    "streams", d.groupState().toString(), d.members().size());
        }
        ConsumerGroupDescription d = Kafka.get(
                admin.describeConsumerGroups(List.of(group)).describedGroups().get(group), "describe group " + group);
        return new GroupInfo("classic", d.groupState().toString(), d.members().size());
    }

    private Map<TopicPartition, Long> committed(GroupInfo info) {
        String group = settings.chunkerGroup();
        if (info.state().equals("absent")) {
            return Map.of();
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = info.protocol().equals("streams")
                ? Kafka.get(
                        admin.listStreamsGroupOffsets(Map.of(group, new ListStreamsGroupOffsetsSpec()))
                                .partitionsToOffsetAndMetadata(group),
                        "list the offsets of streams group " + group)
                : Kafka.get(
                        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata(),
                        "list the offsets of group " + group);
        Map<TopicPartition, Long> out = new HashMap<>();
        offsets.forEach((tp, o) -> {
            if (o != null) {
                out.put(tp, o.offset());
            }
        });
        return out;
    }

    /** The chunker's input: its two source topics, every partition, in order. */
    private List<TopicPartition> inputPartitions() {
        var topics = settings.topics();
        List<String> names = List.of(topics.updates().name(), topics.delivered().name());
        Map<String, TopicDescription> described =
                Kafka.get(admin.describeTopics(names).allTopicNames(), "describe topics " + names);
        List<TopicPartition> out = new ArrayList<>();
        for (String name : names) {
            described.get(name).partitions().forEach(p -> out.add(new TopicPartition(name, p.partition())));
        }
        return out;
    }

    private Map<TopicPartition, Long> offsets(List<TopicPartition> partitions, OffsetSpec spec) {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        Map<TopicPartition, Long> out = new HashMap<>();
        Kafka.get(admin.listOffsets(request).all(), "list offsets").forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }

    private void writeFence(ReprocessPlan plan) {
        try {
            // Compacted: only the newest fence of each application counts, and it must never expire.
            NewTopic topic = new NewTopic(
                            plan.fenceTopic(), Optional.of(1), settings.kafka().replicationFactor())
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
            admin.createTopics(List.of(topic)).all().get(Kafka.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            LOG.info("created the reprocess fence topic {}", plan.fenceTopic());
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new OpsException(
                        "cannot create " + plan.fenceTopic() + ": "
                                + e.getCause().getMessage(),
                        e.getCause());
            }
        } catch (TimeoutException e) {
            throw new OpsException("timed out creating " + plan.fenceTopic(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OpsException("interrupted while creating " + plan.fenceTopic(), e);
        }
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("offsets", plan.fence());
        value.put("from", plan.from());
        value.put("emit", plan.emit().name().toLowerCase(Locale.ROOT));
        value.put("writtenAtMs", clock.millis());
        String json;
        try {
            json = Json.mapper().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of strings and numbers is always JSON", e);
        }
        Properties p = settings.kafka().clientProperties();
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "thoughtstream-ops-reprocess");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(plan.fenceTopic(), plan.group(), json))
                    .get(Kafka.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new OpsException(
                    "cannot write the fence to " + plan.fenceTopic() + ": "
                            + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new OpsException("timed out writing the fence to " + plan.fenceTopic(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OpsException("interrupted while writing the fence", e);
        }
    }

    /** Topic deletion completes in the background; the chunker must not start while its topics are still there. */
    private void awaitGone(List<String> topics) {
        long deadline = System.nanoTime() + Kafka.TIMEOUT.toNanos();
        while (true) {
            Set<String> names = Kafka.get(admin.listTopics().names(), "list the topics");
            if (topics.stream().noneMatch(names::contains)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new OpsException(
                        "the deleted topics " + topics + " still exist after " + Kafka.TIMEOUT.toSeconds() + " s");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OpsException("interrupted while waiting for the internal topics to go", e);
            }
        }
    }

    private static void clear(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new OpsException("cannot clear " + dir + ": " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new OpsException("cannot clear " + dir + ": " + e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public void close() {
        admin.close(Kafka.TIMEOUT);
    }
}
