package dev.thoughtstream.ops.lag;

import dev.thoughtstream.common.kafka.ShareGroupLag;
import dev.thoughtstream.ops.Kafka;
import dev.thoughtstream.ops.OpsException;
import dev.thoughtstream.ops.OpsSettings;
import dev.thoughtstream.ops.Text;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListStreamsGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * Each stage's backlog: for the group of every stage that consumes, the records of its input topics it has not
 * processed yet, and how old the oldest of them is.
 *
 * <p>A classic, consumer or streams group has processed everything before its committed offset; the lag is the last
 * stable offset (what a read_committed consumer can reach) minus that offset. A share group has processed everything
 * before its share-partition start offset; records after it may already be acknowledged out of order, so the broker's
 * own lag figure is used when it gives one, else the start offset is taken as the committed offset (an upper bound).
 * The age is that of the record at the committed offset, from its timestamp; for a share group with the broker's lag
 * figure, of the record {@code lag} records before the end.
 */
public final class LagInspector implements AutoCloseable {
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

    private final OpsSettings settings;
    private final Clock clock;
    private final Admin admin;
    private final KafkaConsumer<byte[], byte[]> reader;

    public LagInspector(OpsSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.admin = Kafka.admin(settings.kafka(), "thoughtstream-ops-lag");
        this.reader = Kafka.reader(settings.kafka(), "thoughtstream-ops-lag");
    }

    /** The stages that consume, in pipeline order; ingest reads no topic. */
    private List<Stage> stages() {
        var topics = settings.topics();
        return List.of(
                new Stage(
                        "chunker",
                        settings.chunkerGroup(),
                        GroupType.CLASSIC,
                        List.of(topics.updates().name(), topics.delivered().name())),
                new Stage(
                        "llm-processor",
                        settings.llmGroup(),
                        settings.llmShare() ? GroupType.SHARE : GroupType.CLASSIC,
                        List.of(topics.thoughts().name())),
                new Stage(
                        "emitter",
                        settings.emitterGroup(),
                        GroupType.CLASSIC,
                        List.of(topics.replies().name())));
    }

    private record Stage(String name, String group, GroupType expected, List<String> topics) {}

    public List<GroupLag> inspect() {
        Map<String, GroupListing> groups = new HashMap<>();
        for (GroupListing g : Kafka.get(admin.listGroups().all(), "list the groups")) {
            groups.put(g.groupId(), g);
        }
        List<GroupLag> out = new ArrayList<>();
        for (Stage stage : stages()) {
            out.add(inspect(stage, Optional.ofNullable(groups.get(stage.group()))));
        }
        return out;
    }

    private GroupLag inspect(Stage stage, Optional<GroupListing> listing) {
        GroupType type = listing.flatMap(GroupListing::type)
                .filter(t -> t != GroupType.UNKNOWN)
                .orElse(stage.expected());
        String state = listing.map(l -> l.groupState().map(Object::toString).orElse("unknown"))
                .orElse("absent");
        String typeName = type.toString().toLowerCase(java.util.Locale.ROOT);
        Set<TopicPartition> partitions = partitions(stage.topics());
        Map<TopicPartition, Long> positions;
        Map<TopicPartition, Long> brokerLag = new HashMap<>();
        try {
            positions = positions(stage.group(), type, partitions, brokerLag);
        } catch (OpsException e) {
            if (type == GroupType.SHARE) {
                return new GroupLag(
                        stage.name(),
                        stage.group(),
                        typeName,
                        state,
                        List.of(),
                        "share-group lag unavailable: the broker did not answer ListShareGroupOffsets ("
                                + e.getMessage() + ")");
            }
            throw e;
        }
        Map<TopicPartition, Long> ends = offsets(partitions, OffsetSpec.latest());
        Map<TopicPartition, Long> starts = offsets(partitions, OffsetSpec.earliest());
        Map<TopicPartition, Long> from = new HashMap<>();
        Map<TopicPartition, Long> lag = new HashMap<>();
        for (TopicPartition tp : partitions) {
            long start = Math.max(starts.get(tp), positions.getOrDefault(tp, starts.get(tp)));
            Long counted = brokerLag.get(tp);
            lag.put(tp, counted != null ? counted : Math.max(0, ends.get(tp) - start));
            // A share group's start offset moves only as the broker persists its state, so it may trail records long
            // acknowledged; with the broker's count of the records left, the oldest of them is at end - lag at the
            // earliest (exactly there when the records left are the newest, as when the consumers keep up).
            from.put(tp, counted != null ? Math.max(start, ends.get(tp) - counted) : start);
        }
        Map<TopicPartition, Long> timestamps = timestampsAt(from, lag);
        long now = clock.millis();
        List<GroupLag.TopicLag> topics = new ArrayList<>();
        for (String topic : stage.topics()) {
            long sum = 0;
            long max = 0;
            int maxPartition = -1;
            Long oldest = null;
            int withoutOffset = 0;
            for (TopicPartition tp : partitions) {
                if (!tp.topic().equals(topic)) {
                    continue;
                }
                long l = lag.get(tp);
                sum += l;
                if (l > max) {
                    max = l;
                    maxPartition = tp.partition();
                }
                if (!positions.containsKey(tp)) {
                    withoutOffset++;
                }
                Long ts = timestamps.get(tp);
                if (ts != null) {
                    long age = Math.max(0, now - ts);
                    oldest = oldest == null ? age : Math.max(oldest, age);
                }
            }
            topics.add(new GroupLag.TopicLag(topic, sum, max, maxPartition, oldest, withoutOffset));
        }
        return new GroupLag(stage.name(), stage.group(), typeName, state, topics, null);
    }

    /** Every partition of {@code topics}. */
    private Set<TopicPartition> partitions(List<String> topics) {
        Map<String, TopicDescription> described =
                Kafka.get(admin.describeTopics(topics).allTopicNames(), "describe topics " + topics);
        Set<TopicPartition> out = new HashSet<>();
        for (TopicDescription d : described.values()) {
            d.partitions().forEach(p -> out.add(new TopicPartition(d.name(), p.partition())));
        }
        return out;
    }

    /** The group's next offset to process per partition; partitions it has none for are left out. */
    private Map<TopicPartition, Long> positions(
            String group, GroupType type, Collection<TopicPartition> wanted, Map<TopicPartition, Long> brokerLag) {
        Map<TopicPartition, Long> out = new HashMap<>();
        switch (type) {
            case SHARE ->
                shareOffsets(group, wanted).forEach((tp, position) -> {
                    out.put(tp, position.startOffset());
                    position.brokerLag().ifPresent(l -> brokerLag.put(tp, l));
                });
            case STREAMS ->
                committed(
                        Kafka.get(
                                admin.listStreamsGroupOffsets(Map.of(group, new ListStreamsGroupOffsetsSpec()))
                                        .partitionsToOffsetAndMetadata(group),
                                "list the offsets of streams group " + group),
                        wanted,
                        out);
            default ->
                committed(
                        Kafka.get(
                                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata(),
                                "list the offsets of consumer group " + group),
                        wanted,
                        out);
        }
        return out;
    }

    private Map<TopicPartition, ShareGroupLag.Position> shareOffsets(String group, Collection<TopicPartition> tps) {
        try {
            return ShareGroupLag.positions(admin, group, tps, Kafka.TIMEOUT);
        } catch (ExecutionException e) {
            throw new OpsException(
                    e.getCause().getClass().getSimpleName() + ": "
                            + e.getCause().getMessage(),
                    e);
        } catch (TimeoutException e) {
            throw new OpsException("no answer in " + Kafka.TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OpsException("interrupted", e);
        }
    }

    private static void committed(
            Map<TopicPartition, OffsetAndMetadata> offsets,
            Collection<TopicPartition> wanted,
            Map<TopicPartition, Long> out) {
        offsets.forEach((tp, om) -> {
            if (om != null && wanted.contains(tp)) {
                out.put(tp, om.offset());
            }
        });
    }

    private Map<TopicPartition, Long> offsets(Collection<TopicPartition> tps, OffsetSpec spec) {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        tps.forEach(tp -> request.put(tp, spec));
        Map<TopicPartition, Long> out = new HashMap<>();
        Kafka.get(
                        admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                                .all(),
                        "list offsets")
                .forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }

    /** The timestamp of the first record at or after {@code from} in each partition that lags. */
    private Map<TopicPartition, Long> timestampsAt(Map<TopicPartition, Long> from, Map<TopicPartition, Long> lag) {
        List<TopicPartition> lagging = new ArrayList<>();
        from.keySet().forEach(tp -> {
            if (lag.get(tp) > 0) {
                lagging.add(tp);
            }
        });
        Map<TopicPartition, Long> out = new HashMap<>();
        if (lagging.isEmpty()) {
            return out;
        }
        reader.assign(lagging);
        lagging.forEach(tp -> reader.seek(tp, from.get(tp)));
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (out.size() < lagging.size() && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(200))) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                if (!out.containsKey(tp)) {
                    out.put(tp, r.timestamp());
                    // Read no further in this partition: only its first unprocessed record matters.
                    reader.pause(List.of(tp));
                }
            }
        }
        reader.assign(List.of());
        return out;
    }

    /** The report as a table for people. */
    public static String text(List<GroupLag> report) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("STAGE", "GROUP", "TYPE", "STATE", "TOPIC", "LAG", "MAX PARTITION", "OLDEST"));
        List<String> notes = new ArrayList<>();
        for (GroupLag g : report) {
            if (g.unavailable() != null) {
                rows.add(List.of(g.stage(), g.group(), g.type(), g.state(), "-", "unavailable", "", ""));
                notes.add(g.stage() + ": " + g.unavailable());
                continue;
            }
            if (g.state().equals("absent")) {
                notes.add(g.stage() + ": the broker has no group " + g.group() + "; its lag counts from the log start");
            }
            for (GroupLag.TopicLag t : g.topics()) {
                rows.add(List.of(
                        g.stage(),
                        g.group(),
                        g.type(),
                        g.state(),
                        t.topic(),
                        Long.toString(t.lag()),
                        t.maxPartition() < 0 ? "-" : t.maxPartitionLag() + " (p" + t.maxPartition() + ")",
                        t.oldestAgeMs() == null ? "-" : Text.duration(t.oldestAgeMs())));
                if (t.partitionsWithoutOffset() > 0 && !g.state().equals("absent")) {
                    notes.add(g.stage() + ": " + t.partitionsWithoutOffset() + " partition(s) of " + t.topic()
                            + " have no committed offset; their lag counts from the log start");
                }
            }
        }
        StringBuilder out = new StringBuilder(Text.table(rows));
        notes.forEach(n -> out.append("note: ").append(n).append('\n'));
        return out.toString();
    }

    @Override
    public void close() {
        reader.close();
        admin.close(Duration.ofSeconds(5));
    }
}
