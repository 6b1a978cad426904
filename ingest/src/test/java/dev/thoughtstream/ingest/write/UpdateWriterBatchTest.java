package dev.thoughtstream.ingest.write;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ingest.IngestConfig;
import dev.thoughtstream.ingest.IngestHarness;
import dev.thoughtstream.ingest.IntakeSetup;
import dev.thoughtstream.ingest.intake.IntakeRules;
import dev.thoughtstream.ingest.intake.UpdateJudge;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisMonitor;
import redis.clients.jedis.RedisClient;

/**
 * The Redis side of a batch, on a real broker and a real redis-server: whatever the batch's size, ingest asks Redis a
 * fixed number of times (one dedup lookup, one flood-window call, then one staleness record and one dedup record),
 * and what it decides is what it decided one update at a time: duplicates skipped and not counted against the
 * flood guard, each chat's newest message in the staleness register, every judged id remembered, and with Redis
 * down everything written and every failure counted. Redis' {@code MONITOR} shows what reached it: a command sent by
 * ingest, or one run inside a Lua script ({@code [0 lua]}), which costs no round trip.
 */
class UpdateWriterBatchTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final IngestHarness harness = new IngestHarness();
    private final Metrics metrics = new Metrics();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private String keyPrefix;
    private Topics topics;
    private KafkaSettings kafka;

    @BeforeEach
    void createTopics(TestInfo test) {
        String prefix =
                TestKafka.uniquePrefix(test.getTestMethod().orElseThrow().getName());
        keyPrefix = TestRedis.uniqueKeyPrefix(prefix);
        topics = IngestHarness.createTopics(prefix);
        kafka = TestKafka.settings(prefix);
    }

    @AfterEach
    void closeEverything() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        harness.close();
    }

    private <T extends AutoCloseable> T track(T resource) {
        toClose.add(resource);
        return resource;
    }

    /** A writer with its judge and staleness signal, to ask what each counted. */
    private record Writer(UpdateWriter writer, UpdateJudge judge, ActivityRecorder activity) {}

    /** A writer with the production stores: claims, flood window and staleness signal on one Redis. */
    private Writer writer(RedisClient redis, int maxPerMinute, ChatActivity activity) {
        return writer(redis, maxPerMinute, activity, Clock.systemUTC());
    }

    private Writer writer(RedisClient redis, int maxPerMinute, ChatActivity activity, Clock clock) {
        Map<String, String> v = new HashMap<>(harness.variables());
        v.put(IngestConfig.MAX_MSGS_PER_MIN, Integer.toString(maxPerMinute));
        v.put(IngestConfig.BOT_USERNAME, "batch_bot");
        IngestConfig config = IngestConfig.from(Config.of(v));
        ClaimStore claims = new RedisClaimStore(redis, keyPrefix);
        IntakeRules rules = IntakeSetup.rules(config, claims, redis, keyPrefix, metrics, HTTP, clock);
        Producer<Long, StoredUpdate> producer = track(IngestProducers.create(kafka, topics.updates()));
        Producer<Long, ReplyPart> notices = track(IngestProducers.create(kafka, topics.replies()));
        UpdateJudge judge = IntakeSetup.judge(config, claims, rules);
        ActivityRecorder recorder = activity == null ? ActivityRecorder.none() : ActivityRecorder.of(activity);
        UpdateWriter writer = track(new UpdateWriter(
                new IngestProducers(producer, notices), topics, judge, recorder, Duration.ofMillis(500), clock, -1));
        return new Writer(writer, judge, recorder);
    }

    private RedisClient redis(RedisSettings settings) {
        RedisClient client = RedisClaimStore.connect(settings);
        track(client::close);
        return client;
    }

    private static JsonNode message(long updateId, long chat, int messageId) {
        ObjectNode update = Json.mapper().createObjectNode().put("update_id", updateId);
        ObjectNode m = update.putObject("message")
                .put("message_id", messageId)
                .put("date", 1_700_000_000)
                .put("text", "message " + messageId + " of chat " + chat);
        m.putObject("from").put("id", chat).put("is_bot", false).put("first_name", "P" + chat);
        m.putObject("chat").put("id", chat).put("type", "private");
        return update;
    }

    private List<ConsumerRecord<Long, StoredUpdate>> written() {
        return TopicReader.readAll(TestKafka.bootstrapServers(), topics.updates(), TIMEOUT);
    }

    /** Every command Redis runs while it is open, as MONITOR reports it (only the lines naming this test's keys). */
    private final class Monitor implements AutoCloseable {
        final List<String> lines = new CopyOnWriteArrayList<>();
        private final Jedis connection;
        private final Thread thread;

        Monitor() {
            RedisSettings settings = TestRedis.settings();
            connection = new Jedis(
                    new HostAndPort(settings.url().getHost(), settings.url().getPort()),
                    DefaultJedisClientConfig.builder().build());
            thread = new Thread(
                    () -> {
                        try {
                            connection.monitor(new JedisMonitor() {
                                @Override
                                public void onCommand(String command) {
                                    if (command.contains(keyPrefix)) {
                                        lines.add(command);
                                    }
                                }
                            });
                        } catch (RuntimeException e) {
                            // Closing the connection is how a MONITOR ends.
                        }
                    },
                    "redis-monitor");
            thread.start();
            // MONITOR is on once it reports a command of ours.
            RedisClient probe = redis(settings);
            Await.until("MONITOR to report commands", TIMEOUT, () -> {
                probe.get(keyPrefix + "monitor-probe");
                return lines.stream().anyMatch(l -> l.contains("monitor-probe"));
            });
            lines.clear();
        }

        /** The commands a client sent (not those a script ran), by name. */
        Map<String, Long> sent() {
            return lines.stream()
                    .filter(l -> !l.contains("[0 lua]"))
                    .filter(l -> !l.contains("monitor-probe"))
                    .map(Monitor::name)
                    .collect(Collectors.groupingBy(n -> n, LinkedHashMap::new, Collectors.counting()));
        }

        private static String name(String line) {
            int start = line.indexOf('"', line.indexOf(']')) + 1;
            return line.substring(start, line.indexOf('"', start)).toUpperCase(Locale.ROOT);
        }

        @Override
        public void close() throws InterruptedException {
            connection.close();
            thread.join(10_000);
        }
    }

    @Test
    void givenABatchOfThirtyMessagesInTenChats_whenWritten_thenRedisIsAskedFourTimesAndKnowsWhatItKnewBefore()
            throws Exception {
        // given: the production stores on one Redis, and thirty messages, three per chat in ten chats
        RedisClient redis = redis(TestRedis.settings());
        RedisChatActivity activity = track(new RedisChatActivity(redis, keyPrefix, Duration.ofMinutes(5)));
        Writer w = writer(redis, 100, activity);
        List<JsonNode> batch = new ArrayList<>();
        for (int round = 1; round <= 3; round++) {
            for (long chat = 1; chat <= 10; chat++) {
                batch.add(message(10_000 + batch.size(), chat, round));
            }
        }

        // when: written as one batch, with Redis watched
        boolean ok;
        Map<String, Long> sent;
        try (Monitor monitor = new Monitor()) {
            ok = w.writer().writeAll(batch);
            Await.until(
                    "MONITOR to report the last script",
                    TIMEOUT,
                    () -> monitor.sent().values().stream()
                                    .mapToLong(Long::longValue)
                                    .sum()
                            >= 4);
            sent = monitor.sent();
        }

        // then: four commands reached Redis for thirty updates (one dedup lookup, the flood window's script, the
        // staleness script and the dedup marks' script); nothing was asked per update
        assertTrue(ok);
        assertEquals(Map.of("MGET", 1L, "EVAL", 3L), sent);
        // and the outcome is the one-at-a-time outcome: all thirty on the topic, each chat in its order
        Map<Long, List<Long>> byChat = new HashMap<>();
        written()
                .forEach(r -> byChat.computeIfAbsent(r.key(), c -> new ArrayList<>())
                        .add(r.value().updateId()));
        assertEquals(10, byChat.size());
        byChat.forEach((chat, ids) -> assertEquals(ids.stream().sorted().toList(), ids, "chat " + chat + " in order"));
        assertEquals(30, w.writer().written());
        // each chat's newest message in the staleness register, every message counted as recorded
        for (long chat = 1; chat <= 10; chat++) {
            assertEquals(OptionalLong.of(3), activity.newest(chat));
        }
        assertEquals(30, w.activity().recorded());
        // every id remembered for dedup, with its TTL
        for (JsonNode u : batch) {
            long ttl = redis.pttl(keyPrefix + "tg:update:" + harness.token.substring(0, harness.token.indexOf(':'))
                    + ":" + u.path("update_id").asLong());
            assertTrue(ttl > Duration.ofHours(24).toMillis(), "dedup mark of " + u + ": " + ttl);
        }
    }

    @Test
    void givenProducersThatWouldLingerAMinute_whenABatchIsWritten_thenItIsSentAtOnceNotAfterTheLinger()
            throws Exception {
        // given: producers told to wait a minute for more records before sending (the test's bound is 30 s)
        kafka = KafkaSettings.from(TestKafka.config(kafka.topicPrefix(), TestKafka.PARTITIONS)
                .with(Map.of("KAFKA_CLIENT_LINGER_MS", "60000", "KAFKA_CLIENT_DELIVERY_TIMEOUT_MS", "180000")));
        Writer w = writer(redis(TestRedis.settings()), 100, null);
        List<JsonNode> batch = new ArrayList<>();
        for (long chat = 1; chat <= 5; chat++) {
            batch.add(message(40_000 + chat, chat, 1));
            batch.add(message(40_010 + chat, chat, 2));
        }

        // when
        CompletableFuture<Boolean> write =
                CompletableFuture.supplyAsync(() -> w.writer().writeAll(batch));

        // then: each wave was sent when it was complete, so the batch is in Kafka long before the linger ends
        Await.until("the batch to be acknowledged", TIMEOUT, write::isDone);
        assertTrue(write.get());
        assertEquals(10, written().size());
    }

    @Test
    void givenHalfABatchWasWrittenBefore_whenRedelivered_thenOnlyTheNewHalfIsJudgedCountedAndWritten() {
        // given: a limit of six per minute, a clock that stays in one minute, and one person's first four messages
        // written
        RedisClient redis = redis(TestRedis.settings());
        Writer w = writer(redis, 6, null, Clock.fixed(Instant.now(), ZoneOffset.UTC));
        long chat = 77;
        List<JsonNode> first = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            first.add(message(20_000 + i, chat, i + 1));
        }
        assertTrue(w.writer().writeAll(first));

        // when: Telegram redelivers those four with four new ones, the second copy of one new one included
        List<JsonNode> again = new ArrayList<>(first);
        for (int i = 4; i < 8; i++) {
            again.add(message(20_000 + i, chat, i + 1));
        }
        again.add(message(20_006, chat, 7));
        assertTrue(w.writer().writeAll(again));

        // then: the redelivered ones and the second copy are skipped, not counted against the person: the first two
        // new ones fill the six, the last two are the flood's
        assertEquals(5, w.judge().duplicatesSkipped());
        assertEquals(
                List.of(20_000L, 20_001L, 20_002L, 20_003L, 20_004L, 20_005L),
                written().stream().map(r -> r.value().updateId()).toList());
        List<ReplyPart> notices = TopicReader.readAll(TestKafka.bootstrapServers(), topics.replies(), TIMEOUT).stream()
                .map(ConsumerRecord::value)
                .toList();
        assertEquals(1, notices.size(), "one flood notice per window: " + notices);
        assertEquals(7, notices.get(0).lastMessageId(), "answering the first message over the limit");
    }

    @Test
    void givenRedisIsDown_whenABatchIsWritten_thenEveryUpdateIsWrittenOnceInChatOrderAndEveryFailureIsCounted()
            throws IOException {
        // given: every store on a Redis port nobody listens on
        RedisClient nowhere = redis(IngestHarness.unreachableRedis());
        Writer w = writer(nowhere, 3, new RedisChatActivity(nowhere, keyPrefix, Duration.ofMinutes(5)));
        List<JsonNode> batch = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            batch.add(message(30_000 + i, 90 + i % 2, i + 1));
        }

        // when
        assertTrue(w.writer().writeAll(batch));

        // then: fail open everywhere: all six written (the flood guard lets the person's third and later through),
        // in chat order
        List<ConsumerRecord<Long, StoredUpdate>> records = written();
        assertEquals(6, records.size());
        for (long chat : List.of(90L, 91L)) {
            List<Long> ids = records.stream()
                    .filter(r -> r.key() == chat)
                    .map(r -> r.value().updateId())
                    .toList();
            assertEquals(ids.stream().sorted().toList(), ids);
        }
        // and each failure counted as one per update (the lookup and the mark) or per message
        assertEquals(12, w.judge().dedupUnavailable(), "six lookups and six marks");
        assertTrue(
                metrics.scrape().contains("thoughtstream_ingest_rules_unavailable_total{check=\"flood\"} 6"),
                metrics.scrape());
        assertEquals(6, w.activity().unavailable());
        assertEquals(0, w.activity().recorded());
    }
}
