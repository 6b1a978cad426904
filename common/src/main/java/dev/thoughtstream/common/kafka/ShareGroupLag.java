package dev.thoughtstream.common.kafka;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * A share group's backlog, from the Admin API: what {@code thoughtstream lag} reports for a share group and what the
 * llm-processor's share-mode lag gauge shows. A share group has processed everything before its share-partition start
 * offset; records after it may already be acknowledged out of order, so the broker's own count of the records left
 * is used when it gives one (ListShareGroupOffsets' lag), else the start offset is taken as a committed offset: the
 * records from it to the last stable offset (what a read_committed consumer can reach), an upper bound.
 */
public final class ShareGroupLag {
    private ShareGroupLag() {}

    /**
     * Where a share group stands in one partition.
     *
     * @param startOffset the share-partition start offset: everything before it is processed
     * @param brokerLag   the broker's count of the records left, when it gives one
     */
    public record Position(long startOffset, OptionalLong brokerLag) {}

    /**
     * The group's position in each of {@code partitions} it has state for (ListShareGroupOffsets); a partition the
     * group never read is left out.
     */
    public static Map<TopicPartition, Position> positions(
            Admin admin, String group, Collection<TopicPartition> partitions, Duration timeout)
            throws ExecutionException, TimeoutException, InterruptedException {
        Map<TopicPartition, SharePartitionOffsetInfo> infos = admin.listShareGroupOffsets(
                        Map.of(group, new ListShareGroupOffsetsSpec().topicPartitions(partitions)))
                .partitionsToOffsetInfo(group)
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, Position> out = new HashMap<>();
        infos.forEach((tp, info) -> {
            if (info != null && partitions.contains(tp)) {
                out.put(
                        tp,
                        new Position(
                                info.startOffset(),
                                info.lag().isPresent()
                                        ? OptionalLong.of(info.lag().get())
                                        : OptionalLong.empty()));
            }
        });
        return out;
    }

    /**
     * The records left in one partition: the broker's count when it gives one, else from the start offset (or the
     * log start, whichever is later; the log start without a position) to {@code end}.
     *
     * @param position the group's position, null when it has none there
     * @param logStart the partition's earliest offset
     * @param end      the partition's last stable offset
     */
    public static long lag(Position position, long logStart, long end) {
        if (position != null && position.brokerLag().isPresent()) {
            return position.brokerLag().getAsLong();
        }
        long from = Math.max(logStart, position == null ? logStart : position.startOffset());
        return Math.max(0, end - from);
    }

    /** The records left in each of {@code partitions}, by {@link #positions} and {@link #lag}. */
    public static Map<TopicPartition, Long> of(
            Admin admin, String group, Collection<TopicPartition> partitions, Duration timeout)
            throws ExecutionException, TimeoutException, InterruptedException {
        Map<TopicPartition, Position> positions = positions(admin, group, partitions, timeout);
        Map<TopicPartition, Long> starts = offsets(admin, partitions, OffsetSpec.earliest(), timeout);
        Map<TopicPartition, Long> ends = offsets(admin, partitions, OffsetSpec.latest(), timeout);
        Map<TopicPartition, Long> out = new HashMap<>();
        for (TopicPartition tp : partitions) {
            out.put(tp, lag(positions.get(tp), starts.get(tp), ends.get(tp)));
        }
        return out;
    }

    /** Each partition's offset by {@code spec}, as a read_committed consumer sees the log. */
    private static Map<TopicPartition, Long> offsets(
            Admin admin, Collection<TopicPartition> partitions, OffsetSpec spec, Duration timeout)
            throws ExecutionException, TimeoutException, InterruptedException {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        Map<TopicPartition, Long> out = new HashMap<>();
        admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .all()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }
}
