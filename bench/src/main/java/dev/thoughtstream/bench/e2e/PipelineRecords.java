package dev.thoughtstream.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.kafka.TopicReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What a stack's topics hold after a scenario, read to their end (read_committed) and indexed the way the
 * figures need them: when ingest wrote each message, each thought, each reply's parts and their outcomes.
 */
final class PipelineRecords {
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(120);

    /** chat id → message id → the updates record's timestamp (ingest's produce time). */
    final Map<Long, Map<Long, Long>> ingestedAt = new HashMap<>();

    final List<Long> ingestTimes = new ArrayList<>();
    final Map<String, Thought> thoughts = new HashMap<>();
    final Map<String, List<ReplyPart>> partsByReply = new HashMap<>();
    final Map<String, List<Delivery>> deliveriesByReply = new HashMap<>();
    final double avgUpdateBytes;
    final double avgThoughtBytes;
    final double avgReplyBytes;

    PipelineRecords(String bootstrap, Topics topics) {
        List<ConsumerRecord<Long, StoredUpdate>> updates =
                TopicReader.readAll(bootstrap, topics.updates(), READ_TIMEOUT);
        for (ConsumerRecord<Long, StoredUpdate> r : updates) {
            ingestTimes.add(r.timestamp());
            JsonNode message = r.value().update().path("message");
            if (message.has("message_id")) {
                ingestedAt
                        .computeIfAbsent(r.value().chatId(), c -> new HashMap<>())
                        .put(message.get("message_id").asLong(), r.timestamp());
            }
        }
        List<ConsumerRecord<Long, Thought>> ts = TopicReader.readAll(bootstrap, topics.thoughts(), READ_TIMEOUT);
        ts.forEach(r -> thoughts.put(r.value().thoughtId(), r.value()));
        List<ConsumerRecord<Long, ReplyPart>> parts = TopicReader.readAll(bootstrap, topics.replies(), READ_TIMEOUT);
        parts.forEach(r -> partsByReply
                .computeIfAbsent(r.value().replyId(), k -> new ArrayList<>())
                .add(r.value()));
        partsByReply.values().forEach(l -> l.sort(Comparator.comparingInt(ReplyPart::seq)));
        TopicReader.readAll(bootstrap, topics.delivered(), READ_TIMEOUT)
                .forEach(r -> deliveriesByReply
                        .computeIfAbsent(r.value().replyId(), k -> new ArrayList<>())
                        .add(r.value()));
        avgUpdateBytes = updates.stream()
                .mapToInt(ConsumerRecord::serializedValueSize)
                .average()
                .orElse(0);
        avgThoughtBytes = ts.stream()
                .mapToInt(ConsumerRecord::serializedValueSize)
                .average()
                .orElse(0);
        avgReplyBytes = parts.stream()
                .mapToInt(ConsumerRecord::serializedValueSize)
                .average()
                .orElse(0);
    }

    Optional<Long> ingestedAt(long chatId, long messageId) {
        return Optional.ofNullable(ingestedAt.getOrDefault(chatId, Map.of()).get(messageId));
    }

    List<Delivery> deliveries(String thoughtId) {
        return deliveriesByReply.getOrDefault(ReplyPart.replyIdFor(thoughtId), List.of());
    }

    List<ReplyPart> parts(String thoughtId) {
        return partsByReply.getOrDefault(ReplyPart.replyIdFor(thoughtId), List.of());
    }

    /** The outcome reported for part {@code seq} of the thought's reply (the first one, if reported twice). */
    Optional<Delivery> outcome(String thoughtId, int seq) {
        return deliveries(thoughtId).stream().filter(d -> d.seq() == seq).findFirst();
    }
}
