package dev.thoughtstream.ops.lag;

import java.util.List;

/**
 * The backlog of one stage's group.
 *
 * @param stage       the service whose group this is
 * @param group       the group id
 * @param type        {@code classic}, {@code consumer}, {@code streams} or {@code share}: as the broker knows the
 *                    group, else as the configuration expects it
 * @param state       the group's state on the broker ({@code Stable}, {@code Empty}, ...), or {@code absent}
 * @param topics      the lag on each topic the stage reads; empty when {@code unavailable}
 * @param unavailable why the lag could not be read, else null
 */
public record GroupLag(
        String stage, String group, String type, String state, List<TopicLag> topics, String unavailable) {
    public GroupLag {
        topics = List.copyOf(topics);
    }

    /**
     * The lag on one topic.
     *
     * @param topic                 the topic
     * @param lag                   records not yet processed, summed over the partitions
     * @param maxPartitionLag       the largest lag of one partition
     * @param maxPartition          that partition (-1 when no partition lags)
     * @param oldestAgeMs           how long ago the oldest unprocessed record was written (its timestamp), null when
     *                              nothing lags or the record could not be read
     * @param partitionsWithoutOffset partitions the group has no offset for: their lag counts from the log start
     */
    public record TopicLag(
            String topic,
            long lag,
            long maxPartitionLag,
            int maxPartition,
            Long oldestAgeMs,
            int partitionsWithoutOffset) {}
}
