package dev.thoughtstream.common.kafka;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Offsets when records finish out of order (the llm-processor's group mode and the emitter's lanes run chats side by
 * side): a partition's committed offset may only move past records that are all finished, or a crash would skip the
 * unfinished ones. So the committable offset of a partition is its lowest unfinished offset, or one past the highest
 * received when none is unfinished.
 *
 * <p>Not thread-safe: the poll thread owns it. A partition's {@link Track} is replaced when the partition is
 * revoked and assigned again, so a late completion from before cannot move the new track.
 */
public final class PartitionOffsets {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionOffsets.class);

    /** One assignment of one partition. */
    public static final class Track {
        private final TreeSet<Long> unfinished = new TreeSet<>();
        private long next = -1;
        private long committed = -1;

        long committable() {
            return unfinished.isEmpty() ? next : unfinished.first();
        }
    }

    private final Map<TopicPartition, Track> tracks = new HashMap<>();

    /** A record of {@code tp} was polled; returns the partition's current track, for {@link #finished}. */
    public Track received(TopicPartition tp, long offset) {
        Track track = tracks.computeIfAbsent(tp, p -> new Track());
        track.unfinished.add(offset);
        track.next = Math.max(track.next, offset + 1);
        return track;
    }

    /** The record at {@code offset} is finished; ignored when {@code track} is no longer the partition's. */
    public void finished(TopicPartition tp, Track track, long offset) {
        if (tracks.get(tp) == track) {
            track.unfinished.remove(offset);
        }
    }

    /** Offsets to commit for {@code partitions} (all when null): those that moved since the last commit. */
    public Map<TopicPartition, OffsetAndMetadata> committable(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (Map.Entry<TopicPartition, Track> e : tracks.entrySet()) {
            if (partitions != null && !partitions.contains(e.getKey())) {
                continue;
            }
            long offset = e.getValue().committable();
            if (offset > e.getValue().committed) {
                out.put(e.getKey(), new OffsetAndMetadata(offset));
            }
        }
        return out;
    }

    /** Kafka accepted these offsets. */
    public void committed(Map<TopicPartition, OffsetAndMetadata> offsets) {
        offsets.forEach((tp, om) -> {
            Track track = tracks.get(tp);
            if (track != null) {
                track.committed = Math.max(track.committed, om.offset());
            }
        });
    }

    /**
     * Commits, synchronously, what became contiguous for {@code partitions} (all when null). A wakeup meant for
     * {@code poll()} does not cancel it: the records are finished, so the commit still counts. A group that is
     * rebalancing refuses it; that is logged and left to the next call (or to the revocation's own commit).
     */
    public void commit(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> commit = committable(partitions);
        if (commit.isEmpty()) {
            return;
        }
        try {
            try {
                consumer.commitSync(commit);
            } catch (WakeupException e) {
                consumer.commitSync(commit);
            }
            committed(commit);
            LOG.debug("committed {}", commit);
        } catch (CommitFailedException | RebalanceInProgressException e) {
            LOG.warn(
                    "could not commit {} (the group is rebalancing); trying again after it: {}",
                    commit,
                    e.getMessage());
        }
    }

    /** The partitions are no longer ours. */
    public void remove(Collection<TopicPartition> partitions) {
        partitions.forEach(tracks::remove);
    }

    /** Records received and not finished, all partitions. */
    public int unfinished() {
        return tracks.values().stream().mapToInt(t -> t.unfinished.size()).sum();
    }
}
