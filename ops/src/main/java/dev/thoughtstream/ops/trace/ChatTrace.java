package dev.thoughtstream.ops.trace;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ops.Kafka;
import dev.thoughtstream.ops.OpsException;
import dev.thoughtstream.ops.OpsSettings;
import dev.thoughtstream.ops.Text;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.utils.Utils;

/**
 * A chat's conversation across the pipeline: its updates, thoughts, reply parts, their outcomes and its dead letters.
 *
 * <p>Every chat-keyed topic is keyed by the chat id, so each holds the chat in exactly one partition: the one the
 * producer's default partitioner picks for the key's bytes. Only that partition of each topic is read, from
 * {@code --since} on (the broker's offsetsForTimes) or from the start of what is retained. Dead letters keep the
 * original key bytes and are written without a partition, so the same function finds them on the dead-letter topic.
 */
public final class ChatTrace implements AutoCloseable {
    private static final Duration POLL = Duration.ofMillis(200);

    private final Topics topics;
    private final Clock clock;
    private final KafkaConsumer<byte[], byte[]> reader;

    public ChatTrace(OpsSettings settings, Clock clock) {
        this.topics = settings.topics();
        this.clock = clock;
        this.reader = Kafka.reader(settings.kafka(), "thoughtstream-ops-trace");
    }

    /**
     * The partition the producer's default partitioner gives a record with this key on a topic of
     * {@code partitions} partitions: murmur2 of the key bytes, made positive, modulo the count (Kafka's
     * {@code BuiltInPartitioner.partitionForKey}, used by {@code KafkaProducer} for every keyed record without an
     * explicit partition).
     */
    public static int partitionFor(byte[] key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key)) % partitions;
    }

    /** The chat's records from {@code since} (empty: all retained) up to the topics' current ends. */
    public Timeline trace(long chatId, Optional<Duration> since) {
        List<TraceEvent> events = new ArrayList<>();
        Window window = open(chatId, since);
        Map<TopicPartition, Long> ends = reader.endOffsets(window.partitions().keySet(), Kafka.TIMEOUT);
        long deadline = System.nanoTime() + Kafka.TIMEOUT.toNanos();
        while (ends.entrySet().stream().anyMatch(e -> reader.position(e.getKey()) < e.getValue())) {
            if (System.nanoTime() > deadline) {
                throw new OpsException("timed out reading chat " + chatId + "'s partitions to their end");
            }
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(POLL)) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                if (r.offset() < ends.get(tp)) {
                    event(r, window.key()).ifPresent(events::add);
                }
            }
        }
        return timeline(chatId, window, events);
    }

    /**
     * {@link #trace} and then every new record of the chat as it arrives, until {@code stop} says so or the thread is
     * interrupted.
     */
    public void follow(
            long chatId,
            Optional<Duration> since,
            Consumer<Timeline> initial,
            Consumer<TraceEvent> next,
            BooleanSupplier stop) {
        initial.accept(trace(chatId, since));
        byte[] key = keyBytes(chatId);
        // trace() left every partition positioned at its end: carry on from there.
        while (!stop.getAsBoolean() && !Thread.currentThread().isInterrupted()) {
            List<TraceEvent> batch = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(POLL)) {
                event(r, key).ifPresent(batch::add);
            }
            batch.sort(Comparator.comparingLong(TraceEvent::atMs));
            batch.forEach(next);
        }
    }

    private record Window(
            byte[] key, Map<TopicPartition, Long> partitions, Map<String, Integer> byTopic, Long sinceMs) {}

    private Window open(long chatId, Optional<Duration> since) {
        byte[] key = keyBytes(chatId);
        Map<TopicPartition, Long> start = new LinkedHashMap<>();
        Map<String, Integer> byTopic = new LinkedHashMap<>();
        for (String topic : topics.allNames()) {
            int count = reader.partitionsFor(topic, Kafka.TIMEOUT).size();
            if (count == 0) {
                throw new OpsException("topic " + topic + " does not exist");
            }
            int partition = partitionFor(key, count);
            byTopic.put(topic, partition);
            start.put(new TopicPartition(topic, partition), 0L);
        }
        reader.assign(start.keySet());
        Long sinceMs = since.map(d -> clock.millis() - d.toMillis()).orElse(null);
        if (sinceMs == null) {
            reader.seekToBeginning(start.keySet());
        } else {
            Map<TopicPartition, Long> query = new HashMap<>();
            start.keySet().forEach(tp -> query.put(tp, sinceMs));
            Map<TopicPartition, OffsetAndTimestamp> found = reader.offsetsForTimes(query, Kafka.TIMEOUT);
            Map<TopicPartition, Long> ends = reader.endOffsets(start.keySet(), Kafka.TIMEOUT);
            start.keySet().forEach(tp -> {
                OffsetAndTimestamp at = found.get(tp);
                // No record at or after the time: nothing of the window on this partition yet.
                reader.seek(tp, at == null ? ends.get(tp) : at.offset());
            });
        }
        return new Window(key, start, byTopic, sinceMs);
    }

    private byte[] keyBytes(long chatId) {
        return topics.updates()
                .keySerde()
                .serializer()
                .serialize(topics.updates().name(), chatId);
    }

    private Optional<TraceEvent> event(ConsumerRecord<byte[], byte[]> r, byte[] key) {
        if (r.key() == null || !Arrays.equals(r.key(), key)) {
            return Optional.empty();
        }
        String topic = r.topic();
        try {
            if (topic.equals(topics.updates().name())) {
                StoredUpdate u = topics.updates().value(r);
                Long messageId = messageId(u.update());
                return Optional.of(event(
                        "ingested",
                        u.receivedAtMs(),
                        r,
                        "update " + u.updateId() + (messageId == null ? "" : " message " + messageId)
                                + text(u.update()),
                        u));
            } else if (topic.equals(topics.thoughts().name())) {
                Thought t = topics.thoughts().value(r);
                return Optional.of(event(
                        "thought",
                        t.closedAtMs(),
                        r,
                        "thought " + t.thoughtId() + " closed with "
                                + t.messages().size() + " message(s) "
                                + t.messages().stream()
                                        .map(m -> Long.toString(m.messageId()))
                                        .toList(),
                        t));
            } else if (topic.equals(topics.replies().name())) {
                ReplyPart p = topics.replies().value(r);
                return Optional.of(event(
                        "reply-part",
                        p.createdAtMs(),
                        r,
                        "part " + p.partKey() + (p.last() ? " (last)" : "") + ": " + quote(p.text()),
                        p));
            } else if (topic.equals(topics.delivered().name())) {
                Delivery d = topics.delivered().value(r);
                return Optional.of(event(
                        "delivery",
                        d.atMs(),
                        r,
                        "part " + d.replyId() + "#" + d.seq() + " " + d.outcome()
                                + (d.telegramMessageId() == null ? "" : " as message " + d.telegramMessageId())
                                + (d.reason() == null ? "" : ": " + d.reason()),
                        d));
            } else {
                Map<String, String> headers = new LinkedHashMap<>();
                for (Header h : r.headers()) {
                    headers.put(h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
                }
                String at = DeadLetters.header(r.headers(), DeadLetters.AT);
                return Optional.of(event(
                        "dead-letter",
                        at != null && at.matches("\\d{1,19}") ? Long.parseLong(at) : r.timestamp(),
                        r,
                        "dead letter " + r.partition() + ":" + r.offset() + " from "
                                + DeadLetters.header(r.headers(), DeadLetters.SOURCE_TOPIC) + " by "
                                + DeadLetters.header(r.headers(), DeadLetters.SERVICE) + ": "
                                + DeadLetters.header(r.headers(), DeadLetters.REASON),
                        headers));
            }
        } catch (SerializationException e) {
            // A record the pipeline could not read either: show it, as the stage would have dead-lettered it.
            return Optional.of(event("unreadable", r.timestamp(), r, "unreadable record: " + e.getMessage(), null));
        }
    }

    private static TraceEvent event(
            String stage, long atMs, ConsumerRecord<byte[], byte[]> r, String summary, Object e) {
        return new TraceEvent(stage, atMs, r.topic(), r.partition(), r.offset(), summary, e);
    }

    /** The message id of the update's message, whichever kind it is (message, edited_message, ...). */
    private static Long messageId(JsonNode update) {
        for (JsonNode field : update) {
            if (field.isObject() && field.has("message_id")) {
                return field.get("message_id").asLong();
            }
        }
        return null;
    }

    private static String text(JsonNode update) {
        for (JsonNode field : update) {
            if (field.isObject() && (field.has("text") || field.has("caption"))) {
                return ": "
                        + quote(
                                field.has("text")
                                        ? field.get("text").asText()
                                        : field.get("caption").asText());
            }
        }
        return "";
    }

    private static String quote(String text) {
        String oneLine = text.replace('\n', ' ');
        return "\"" + (oneLine.length() > 60 ? oneLine.substring(0, 57) + "..." : oneLine) + "\"";
    }

    private Timeline timeline(long chatId, Window window, List<TraceEvent> events) {
        events.sort(Comparator.comparingLong(TraceEvent::atMs));
        Map<Long, Long> ingestedByMessage = new HashMap<>();
        Map<String, List<ReplyPart>> partsByThought = new LinkedHashMap<>();
        Map<String, Delivery> outcomes = new HashMap<>();
        List<Thought> thoughts = new ArrayList<>();
        for (TraceEvent e : events) {
            if (e.event() instanceof StoredUpdate u) {
                Long id = messageId(u.update());
                if (id != null) {
                    ingestedByMessage.merge(id, u.receivedAtMs(), Math::min);
                }
            } else if (e.event() instanceof Thought t) {
                thoughts.add(t);
            } else if (e.event() instanceof ReplyPart p) {
                partsByThought
                        .computeIfAbsent(p.thoughtId(), k -> new ArrayList<>())
                        .add(p);
            } else if (e.event() instanceof Delivery d) {
                // The last outcome of a part wins (a redelivered part may be recorded again).
                outcomes.put(d.replyId() + "#" + d.seq(), d);
            }
        }
        List<ThoughtTrace> traces = new ArrayList<>();
        for (Thought t : thoughts) {
            Long ingested = t.messages().stream()
                    .map(m -> ingestedByMessage.get(m.messageId()))
                    .filter(java.util.Objects::nonNull)
                    .min(Long::compare)
                    .orElse(null);
            Map<Integer, ReplyPart> parts = new TreeMap<>();
            partsByThought.getOrDefault(t.thoughtId(), List.of()).forEach(p -> parts.putIfAbsent(p.seq(), p));
            List<ThoughtTrace.Part> partTraces = new ArrayList<>();
            Long firstPart = null;
            Long firstSent = null;
            for (ReplyPart p : parts.values()) {
                Delivery d = outcomes.get(p.partKey());
                partTraces.add(new ThoughtTrace.Part(
                        p.replyId(),
                        p.seq(),
                        p.last(),
                        p.text(),
                        p.createdAtMs(),
                        d == null ? "PENDING" : d.outcome().name(),
                        d == null ? null : d.reason(),
                        d == null ? null : d.atMs()));
                firstPart = firstPart == null ? p.createdAtMs() : Math.min(firstPart, p.createdAtMs());
                if (d != null && d.outcome() == Delivery.Outcome.SENT) {
                    firstSent = firstSent == null ? d.atMs() : Math.min(firstSent, d.atMs());
                }
            }
            traces.add(new ThoughtTrace(
                    t.thoughtId(),
                    t.messages().stream().map(ThoughtMessage::messageId).toList(),
                    ingested,
                    t.closedAtMs(),
                    firstPart,
                    firstSent,
                    ingested == null ? null : t.closedAtMs() - ingested,
                    firstPart == null ? null : firstPart - t.closedAtMs(),
                    firstPart == null || firstSent == null ? null : firstSent - firstPart,
                    partTraces));
        }
        return new Timeline(chatId, window.byTopic(), window.sinceMs(), events, traces);
    }

    /** One line for people. */
    public static String eventText(TraceEvent e) {
        return Text.time(e.atMs()) + "  " + String.format("%-11s", e.stage()) + "  " + e.summary();
    }

    /** The trace for people: the events, then each thought with its stage times and parts. */
    public static String text(Timeline t) {
        StringBuilder out = new StringBuilder();
        out.append("chat ").append(t.chatId()).append(" (partitions:");
        t.partitions()
                .forEach((topic, p) ->
                        out.append(' ').append(topic).append('[').append(p).append(']'));
        out.append(')');
        if (t.sinceMs() != null) {
            out.append(" since ").append(Text.time(t.sinceMs()));
        }
        out.append("\n\n");
        if (t.events().isEmpty()) {
            out.append("no records of this chat in the window\n");
        }
        t.events().forEach(e -> out.append(eventText(e)).append('\n'));
        for (ThoughtTrace th : t.thoughts()) {
            out.append("\nthought ")
                    .append(th.thoughtId())
                    .append("  messages ")
                    .append(th.messageIds())
                    .append('\n');
            out.append("  ingested → closed ")
                    .append(ms(th.ingestToClosedMs()))
                    .append(" → first part ")
                    .append(ms(th.closedToFirstPartMs()))
                    .append(" → sent ")
                    .append(ms(th.firstPartToSentMs()))
                    .append('\n');
            for (ThoughtTrace.Part p : th.parts()) {
                out.append("  part ")
                        .append(p.seq())
                        .append(p.last() ? " (last)" : "")
                        .append("  ")
                        .append(p.outcome())
                        .append(p.reason() == null ? "" : " (" + p.reason() + ")")
                        .append("  ")
                        .append(quote(p.text()))
                        .append('\n');
            }
        }
        return out.toString();
    }

    private static String ms(Long millis) {
        return millis == null ? "?" : Text.duration(millis);
    }

    @Override
    public void close() {
        reader.close();
    }
}
