package dev.thoughtstream.chunker;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.serde.Json;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the last {@code thoughtstream reprocess} drew the line between input the chunker had already answered and
 * input it had not: per input partition, the first offset that was not processed before the reset. The rebuilt
 * chunker processes records below the fence for their state only (context, open thoughts, albums) and sends neither
 * their thoughts nor their direct replies again, so nobody is answered twice (docs/chunker.md, "Reprocessing").
 *
 * <p>The fence lies on the compacted topic {@code <application.id>-reprocess-fence}, keyed by the application id; the
 * ops module writes it (its own copy of this format, since ops depends on no stage). The name ends neither in
 * {@code -changelog} nor in {@code -repartition}, so a Streams reset leaves it alone.
 *
 * @param offsets topic → partition → the first offset to emit for again; a partition that is not named is not fenced
 */
public record ReprocessFence(@JsonProperty("offsets") Map<String, Map<Integer, Long>> offsets) {
    private static final Logger LOG = LoggerFactory.getLogger(ReprocessFence.class);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    public static final ReprocessFence NONE = new ReprocessFence(Map.of());

    public ReprocessFence {
        offsets = offsets == null ? Map.of() : Map.copyOf(offsets);
    }

    /** The fence topic of the Streams application {@code applicationId}. */
    public static String topic(String applicationId) {
        return applicationId + "-reprocess-fence";
    }

    /** True when the record at {@code metadata} was processed before the reset: rebuild from it, answer nothing. */
    public boolean covers(RecordMetadata metadata) {
        if (metadata == null || offsets.isEmpty()) {
            return false;
        }
        Map<Integer, Long> partitions = offsets.get(metadata.topic());
        if (partitions == null) {
            return false;
        }
        Long first = partitions.get(metadata.partition());
        return first != null && metadata.offset() < first;
    }

    public boolean isEmpty() {
        return offsets.values().stream().allMatch(Map::isEmpty);
    }

    public static ReprocessFence parse(String json) {
        try {
            return Json.mapper().readValue(json, ReprocessFence.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("unreadable reprocess fence: " + e.getMessage(), e);
        }
    }

    /**
     * The newest fence of {@code applicationId}, read from its topic at startup; {@link #NONE} when there is no topic
     * or no fence. The chunker is the only reader, with no group: it reads the whole (compacted, tiny) topic.
     */
    public static ReprocessFence read(KafkaSettings kafka, String applicationId) {
        String topic = topic(applicationId);
        Properties p = kafka.clientProperties();
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        p.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        p.remove(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, applicationId + "-fence-reader");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<PartitionInfo> infos = consumer.listTopics(READ_TIMEOUT).get(topic);
            if (infos == null || infos.isEmpty()) {
                return NONE;
            }
            List<TopicPartition> partitions = infos.stream()
                    .map(i -> new TopicPartition(topic, i.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, READ_TIMEOUT);
            ReprocessFence fence = NONE;
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp, READ_TIMEOUT) < ends.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " within " + READ_TIMEOUT);
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (Objects.equals(applicationId, r.key())) {
                        fence = r.value() == null ? NONE : parse(r.value());
                    }
                }
            }
            if (!fence.isEmpty()) {
                LOG.info("reprocess fence of {}: no thoughts or replies for input below {}", applicationId, fence);
            }
            return fence;
        }
    }
}
