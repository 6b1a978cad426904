package dev.thoughtstream.chunker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.chunker.deadletter.DeadLetterCounter;
import dev.thoughtstream.chunker.deadletter.DeadLetteringHandler;
import dev.thoughtstream.chunker.thought.OpenThought;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The chunker's real topology and real streams properties (exactly-once, dead-letter handlers, RocksDB stores in
 * a temporary directory) in a {@link TopologyTestDriver} whose wall clock the test moves explicitly.
 */
final class ChunkerHarness implements AutoCloseable {
    /** The driver's initial wall-clock time; a multiple of every punctuation interval the tests use. */
    static final Instant START = Instant.parse("2026-03-02T09:00:00Z");

    static final String PREFIX = "test.";

    final ChunkerConfig config;
    final Topics topics = Topics.withPrefix(PREFIX);
    final Metrics metrics = new Metrics();
    final ChunkerMetrics chunkerMetrics = new ChunkerMetrics(metrics);
    final DeadLetterCounter deadLetterCounter = new DeadLetterCounter(chunkerMetrics);
    final Instant deadLetterClockTime = Instant.parse("2026-03-02T08:59:00Z");
    final TopologyTestDriver driver;
    final TestInputTopic<Long, StoredUpdate> updates;
    final TestInputTopic<byte[], byte[]> rawUpdates;
    final TestInputTopic<Long, Delivery> delivered;
    final TestInputTopic<byte[], byte[]> rawDelivered;
    final TestOutputTopic<Long, Thought> thoughts;
    final TestOutputTopic<Long, ReplyPart> replies;
    final TestOutputTopic<byte[], byte[]> deadLetters;

    private long nextUpdateId = 1;

    private ChunkerHarness(Path stateDir, Map<String, String> overrides, Map<String, String> streamsOverrides) {
        this(stateDir, overrides, streamsOverrides, ReprocessFence.NONE);
    }

    private ChunkerHarness(
            Path stateDir, Map<String, String> overrides, Map<String, String> streamsOverrides, ReprocessFence fence) {
        this(stateDir, overrides, streamsOverrides, fence, StageTracer.noop());
    }

    private ChunkerHarness(
            Path stateDir,
            Map<String, String> overrides,
            Map<String, String> streamsOverrides,
            ReprocessFence fence,
            StageTracer tracer) {
        Map<String, String> env = new HashMap<>();
        env.put(KafkaSettings.BOOTSTRAP, "never-contacted:9092");
        env.put("TOPIC_PREFIX", PREFIX);
        env.put(ChunkerConfig.STREAMS_STATE_DIR, stateDir.toString());
        env.putAll(overrides);
        Config source = Config.of(env);
        config = ChunkerConfig.from(source);
        Properties props = ChunkerTopology.streamsProperties(config, KafkaSettings.from(source));
        props.put(DeadLetterCounter.CONFIG, deadLetterCounter);
        props.put(DeadLetteringHandler.CLOCK_CONFIG, Clock.fixed(deadLetterClockTime, ZoneOffset.UTC));
        props.putAll(streamsOverrides);
        driver = new TopologyTestDriver(
                ChunkerTopology.buildTopology(config, topics, chunkerMetrics, () -> fence, tracer), props, START);
        updates = driver.createInputTopic(
                topics.updates().name(),
                topics.updates().keySerde().serializer(),
                topics.updates().valueSerde().serializer());
        rawUpdates =
                driver.createInputTopic(topics.updates().name(), new ByteArraySerializer(), new ByteArraySerializer());
        delivered = driver.createInputTopic(
                topics.delivered().name(),
                topics.delivered().keySerde().serializer(),
                topics.delivered().valueSerde().serializer());
        rawDelivered = driver.createInputTopic(
                topics.delivered().name(), new ByteArraySerializer(), new ByteArraySerializer());
        thoughts = driver.createOutputTopic(
                topics.thoughts().name(),
                topics.thoughts().keySerde().deserializer(),
                topics.thoughts().valueSerde().deserializer());
        replies = driver.createOutputTopic(
                topics.replies().name(),
                topics.replies().keySerde().deserializer(),
                topics.replies().valueSerde().deserializer());
        deadLetters = driver.createOutputTopic(
                topics.deadLetters().name(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    static ChunkerHarness start(Path stateDir) {
        return new ChunkerHarness(stateDir, Map.of(), Map.of());
    }

    /** A chunker rebuilt after a reprocess: input below {@code fence} is processed for its state only. */
    static ChunkerHarness startFenced(Path stateDir, ReprocessFence fence) {
        return new ChunkerHarness(stateDir, Map.of(), Map.of(), fence);
    }

    /** A chunker continuing the updates' traces with {@code tracer}. */
    static ChunkerHarness startTraced(Path stateDir, StageTracer tracer) {
        return new ChunkerHarness(stateDir, Map.of(), Map.of(), ReprocessFence.NONE, tracer);
    }

    static ChunkerHarness start(Path stateDir, Map<String, String> overrides) {
        return new ChunkerHarness(stateDir, overrides, Map.of());
    }

    /**
     * The same topology at at-least-once, ONLY to observe dead letters of unreadable bytes. Kafka Streams
     * deserializes a record as soon as it is queued; in TopologyTestDriver that happens before the driver's
     * processing loop, whose first step ({@code MockProducer.clear()}) discards the open transaction, so under
     * exactly-once the dead letter Kafka Streams produced is lost in the driver (not in a real broker). Without
     * transactions the record goes straight to the producer's history. Everything else runs at exactly-once.
     */
    static ChunkerHarness startAtLeastOnce(Path stateDir) {
        return new ChunkerHarness(
                stateDir, Map.of(), Map.of(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE));
    }

    long now() {
        return START.toEpochMilli() + elapsed;
    }

    private long elapsed;

    /** Moves the wall clock; the driver runs the wall-clock punctuation if one is due. */
    void advance(long millis) {
        elapsed += millis;
        driver.advanceWallClockTime(Duration.ofMillis(millis));
    }

    /**
     * A user's text message arriving now. The record timestamp is Telegram's date (whole seconds), as ingest
     * would have it.
     */
    void text(long chatId, long messageId, String text) {
        long sentAtMs = now() / 1000 * 1000;
        updates.pipeInput(
                chatId, textUpdate(nextUpdateId++, chatId, messageId, text, sentAtMs), Instant.ofEpochMilli(sentAtMs));
    }

    /** Like {@link #text} but with an explicit record timestamp, as when an old topic is replayed. */
    void textWithRecordTime(long chatId, long messageId, String text, Instant recordTime) {
        updates.pipeInput(
                chatId, textUpdate(nextUpdateId++, chatId, messageId, text, recordTime.toEpochMilli()), recordTime);
    }

    /**
     * The person edits message {@code messageId} now: an {@code edited_message} update whose {@code date} is
     * {@code sentAtMs} (the original's) and whose {@code edit_date} is now.
     */
    void edit(long chatId, long messageId, String newText, long sentAtMs) {
        update(chatId, editJson(nextUpdateId, chatId, messageId, newText, sentAtMs, now() / 1000));
    }

    static ObjectNode editJson(
            long updateId, long chatId, long messageId, String newText, long sentAtMs, long editDateSeconds) {
        ObjectNode update = textUpdateJson(updateId, chatId, messageId, newText, sentAtMs);
        ObjectNode message = (ObjectNode) update.remove("message");
        message.put("edit_date", editDateSeconds);
        update.set("edited_message", message);
        return update;
    }

    /** The update id the next update piped in gets. */
    long nextUpdateId() {
        return nextUpdateId;
    }

    /**
     * A message without text arriving now: {@code kind} is its content field ({@code "sticker"}, {@code "photo"},
     * ...); with a {@code caption} and a {@code mediaGroupId} when they are not null.
     */
    void media(long chatId, long messageId, String kind, String caption, String mediaGroupId) {
        ObjectNode update = textUpdateJson(nextUpdateId, chatId, messageId, "unused", now());
        ObjectNode message = (ObjectNode) update.get("message");
        message.remove("text");
        if (kind.equals("photo")) {
            message.putArray("photo")
                    .addObject()
                    .put("file_id", "f" + messageId)
                    .put("width", 90)
                    .put("height", 90);
        } else {
            message.putObject(kind).put("file_id", "f" + messageId);
        }
        if (caption != null) {
            message.put("caption", caption);
        }
        if (mediaGroupId != null) {
            message.put("media_group_id", mediaGroupId);
        }
        update(chatId, update);
    }

    void update(long chatId, ObjectNode update) {
        updates.pipeInput(chatId, StoredUpdate.of(nextUpdateId++, chatId, now(), update), Instant.ofEpochMilli(now()));
    }

    void delivery(long chatId, String thoughtId, int seq, Delivery.Outcome outcome, String text) {
        Delivery delivery = new Delivery(
                Delivery.SCHEMA_VERSION,
                "r:" + thoughtId,
                thoughtId,
                chatId,
                seq,
                outcome,
                outcome == Delivery.Outcome.SENT ? 9000L + seq : null,
                text,
                outcome == Delivery.Outcome.SENT ? null : "test",
                now());
        delivered.pipeInput(chatId, delivery, Instant.ofEpochMilli(now()));
    }

    static StoredUpdate textUpdate(long updateId, long chatId, long messageId, String text, long sentAtMs) {
        return StoredUpdate.of(updateId, chatId, sentAtMs, textUpdateJson(updateId, chatId, messageId, text, sentAtMs));
    }

    static ObjectNode textUpdateJson(long updateId, long chatId, long messageId, String text, long sentAtMs) {
        ObjectNode update = Json.mapper().createObjectNode();
        update.put("update_id", updateId);
        ObjectNode message = update.putObject("message");
        message.put("message_id", messageId);
        message.put("date", sentAtMs / 1000);
        ObjectNode chat = message.putObject("chat");
        chat.put("id", chatId);
        chat.put("type", chatId < 0 ? "group" : "private");
        ObjectNode from = message.putObject("from");
        from.put("id", 7001L);
        from.put("is_bot", false);
        from.put("first_name", "Ada");
        message.put("text", text);
        return update;
    }

    List<Thought> emitted() {
        return thoughts.readValuesToList();
    }

    List<ReplyPart> directReplies() {
        return replies.readValuesToList();
    }

    KeyValueStore<DeadlineKey, Long> deadlineIndex() {
        return driver.getKeyValueStore(ChunkerTopology.DEADLINE_INDEX_STORE);
    }

    KeyValueStore<Long, OpenThought> openThoughts() {
        return driver.getKeyValueStore(ChunkerTopology.OPEN_THOUGHTS_STORE);
    }

    KeyValueStore<Long, String> albums() {
        return driver.getKeyValueStore(ChunkerTopology.ALBUMS_STORE);
    }

    KeyValueStore<Long, ChatContext> contexts() {
        return driver.getKeyValueStore(ChunkerTopology.CONTEXT_STORE);
    }

    @Override
    public void close() {
        driver.close();
    }
}
