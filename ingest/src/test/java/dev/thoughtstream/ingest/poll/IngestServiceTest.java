package dev.thoughtstream.ingest.poll;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ingest.IngestConfig;
import dev.thoughtstream.ingest.IngestHarness;
import dev.thoughtstream.ingest.intake.IntakeRules;
import dev.thoughtstream.ingest.write.UpdateWriter;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.redis.ForwardingClaimStore;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.ApiCall;
import dev.thoughtstream.testkit.telegram.IncomingMessage;
import dev.thoughtstream.testkit.telegram.UserMessage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Ingest on real parts: its getUpdates long polling against the Telegram emulator over HTTP, the shared in-process
 * Kafka broker and a real redis-server. Every test has its own topics, Redis keys and bot token.
 */
class IngestServiceTest {
    private final IngestHarness harness = new IngestHarness();
    private String prefix;
    private Topics topics;
    private KafkaSettings kafka;

    @BeforeEach
    void createTopics(TestInfo test) {
        prefix = TestKafka.uniquePrefix(test.getTestMethod().orElseThrow().getName());
        topics = IngestHarness.createTopics(prefix);
        kafka = TestKafka.settings(prefix);
    }

    @AfterEach
    void closeEverything() {
        harness.close();
    }

    private ClaimStore redis() {
        return harness.redis(TestRedis.uniqueKeyPrefix(prefix));
    }

    private List<ConsumerRecord<Long, StoredUpdate>> allRecords() {
        return TopicReader.readAll(TestKafka.bootstrapServers(), topics.updates(), TIMEOUT);
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header h = record.headers().lastHeader(name);
        assertNotNull(h, "header " + name);
        return new String(h.value(), StandardCharsets.UTF_8);
    }

    private static Map<Long, Long> countByUpdateId(List<ConsumerRecord<Long, StoredUpdate>> records) {
        return records.stream().collect(Collectors.groupingBy(r -> r.value().updateId(), Collectors.counting()));
    }

    // ---- 1. what lands on the topic ------------------------------------------------------------------------

    @Test
    void givenMessagesInSeveralChats_whenIngested_thenEachLandsOnceKeyedByItsChatWithTheRawUpdateAndInChatOrder() {
        // given: a clock fixed to a known instant, so the ingest time can be checked to the millisecond
        Instant ingestTime = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        IngestService ingest =
                harness.startIngest(harness.config(), kafka, redis(), Clock.fixed(ingestTime, ZoneOffset.UTC));

        // when: three people write, interleaved, one of them in a group
        long ada = 1001;
        long bob = 1002;
        long group = -100_777;
        Map<Long, UserMessage> sent = new LinkedHashMap<>();
        Map<Long, String> textOf = new HashMap<>();
        Map<Long, List<Long>> updatesByChat = new LinkedHashMap<>();
        String[][] script = {
            {"ada", "hello there"}, {"bob", "hi"}, {"ada", "second thought"}, {"group", "group news"},
            {"bob", "bob again"}, {"ada", "third"}, {"group", "more group news"}, {"ada", "fourth"}
        };
        for (String[] line : script) {
            IncomingMessage message = switch (line[0]) {
                case "ada" ->
                    IncomingMessage.text(ada, line[1])
                            .firstName("Ada")
                            .username("ada_l")
                            .build();
                case "bob" ->
                    IncomingMessage.text(bob, line[1]).firstName("Bob").build();
                default ->
                    IncomingMessage.builder(group)
                            .group("Team")
                            .from(ada, "Ada")
                            .text(line[1])
                            .build();
            };
            UserMessage m = harness.telegram.injectMessage(message);
            sent.put(m.updateId(), m);
            textOf.put(m.updateId(), line[1]);
            updatesByChat
                    .computeIfAbsent(message.chatId(), c -> new ArrayList<>())
                    .add(m.updateId());
        }
        long lastId = sent.keySet().stream().max(Long::compare).orElseThrow();
        Await.until(
                "ingest to confirm every update to Telegram",
                TIMEOUT,
                () -> harness.telegram.confirmedOffset() == lastId + 1);

        // then: every update is on the topic exactly once
        List<ConsumerRecord<Long, StoredUpdate>> records = allRecords();
        assertEquals(sent.size(), records.size(), "one record per update: " + countByUpdateId(records));
        assertEquals(sent.keySet(), countByUpdateId(records).keySet());
        assertEquals(sent.size(), ingest.updatesWritten());
        assertEquals(lastId, ingest.lastWrittenUpdateId());

        for (ConsumerRecord<Long, StoredUpdate> r : records) {
            StoredUpdate stored = r.value();
            long id = stored.updateId();
            long chatId = r.key();
            // key = chat id, and the value says the same
            assertTrue(updatesByChat.get(chatId).contains(id), "update " + id + " keyed by its chat " + chatId);
            assertEquals(chatId, stored.chatId());
            assertEquals(StoredUpdate.SCHEMA_VERSION, stored.schemaVersion());
            assertEquals(ingestTime.toEpochMilli(), stored.receivedAtMs());
            assertEquals(ingestTime.toEpochMilli(), r.timestamp(), "record time = ingest time");
            // headers
            assertEquals(Long.toString(id), header(r, UpdateWriter.HEADER_UPDATE_ID));
            assertEquals(Long.toString(ingestTime.toEpochMilli()), header(r, UpdateWriter.HEADER_RECEIVED_AT));
            // the raw update, intact where the pipeline reads it
            JsonNode update = stored.update();
            assertEquals(id, update.path("update_id").asLong());
            JsonNode message = update.path("message");
            assertEquals(textOf.get(id), message.path("text").asText());
            assertEquals(sent.get(id).messageId(), message.path("message_id").asInt());
            assertEquals(chatId, message.path("chat").path("id").asLong());
            assertTrue(message.path("date").asLong() > 0, "date kept: " + message);
            JsonNode from = message.path("from");
            if (chatId == bob) {
                assertEquals(bob, from.path("id").asLong());
                assertEquals("Bob", from.path("first_name").asText());
                assertEquals("private", message.path("chat").path("type").asText());
            } else {
                assertEquals(ada, from.path("id").asLong());
                assertEquals("Ada", from.path("first_name").asText());
                assertFalse(from.path("is_bot").asBoolean(true), "is_bot kept: " + from);
            }
            if (chatId == ada) {
                assertEquals("ada_l", from.path("username").asText());
            }
            if (chatId == group) {
                assertEquals("group", message.path("chat").path("type").asText());
                assertEquals("Team", message.path("chat").path("title").asText());
            }
        }

        // and each chat's updates are in the order people wrote them (one chat = one partition)
        Map<Long, List<Long>> onTopic = new LinkedHashMap<>();
        records.stream()
                .sorted((a, b) -> a.partition() != b.partition()
                        ? Integer.compare(a.partition(), b.partition())
                        : Long.compare(a.offset(), b.offset()))
                .forEach(r -> onTopic.computeIfAbsent(r.key(), c -> new ArrayList<>())
                        .add(r.value().updateId()));
        assertEquals(updatesByChat, onTopic);
    }

    // ---- 3. a crash between the write and the confirmation -------------------------------------------------

    @Test
    void
            givenACrashAfterTheWriteBeforeTheConfirmation_whenTelegramRedelivers_thenTheRedeliveryIsSkippedAndNothingIsLost() {
        // given: an ingest waiting in a long poll, and every later getUpdates failing, so the poll that would
        // confirm the batch never reaches Telegram
        String keyPrefix = TestRedis.uniqueKeyPrefix(prefix);
        IngestService first = harness.startIngest(kafka, harness.redis(keyPrefix));
        harness.awaitLongPoll();
        harness.telegram.addFault("getUpdates", 500, 1_000_000);
        UserMessage m1 = harness.telegram.injectMessage(21, "written before the crash");
        UserMessage m2 = harness.telegram.injectMessage(22, "maybe written before the crash");
        Await.until("the first batch to be written", TIMEOUT, () -> first.lastWrittenUpdateId() >= m1.updateId());
        Await.until("the confirming getUpdates to fail", TIMEOUT, () -> harness.getUpdatesAnswered(500) >= 1);
        assertEquals(m1.updateId(), harness.telegram.confirmedOffset(), "written but not confirmed");
        long writtenBeforeCrash = first.updatesWritten();
        assertTrue(writtenBeforeCrash >= 1);

        // when: the process dies without confirming, Telegram recovers and a new process polls with the same Redis
        first.halt();
        assertEquals(m1.updateId(), harness.telegram.confirmedOffset(), "a crash confirms nothing");
        assertEquals(2, harness.telegram.pendingUpdates(), "Telegram still holds both updates");
        harness.telegram.clearFaults();
        IngestService second = harness.startIngest(kafka, harness.redis(keyPrefix));
        Await.until(
                "the new ingest to confirm both updates",
                TIMEOUT,
                () -> harness.telegram.confirmedOffset() == m2.updateId() + 1);

        // then: each update is on the topic exactly once, and the redelivery was recognised
        List<ConsumerRecord<Long, StoredUpdate>> records = allRecords();
        assertEquals(Map.of(m1.updateId(), 1L, m2.updateId(), 1L), countByUpdateId(records));
        assertEquals(writtenBeforeCrash, second.duplicatesSkipped(), "redelivered updates skipped");
        assertEquals(2 - writtenBeforeCrash, second.updatesWritten());
        assertEquals(0, harness.telegram.pendingUpdates());
    }

    // ---- 4. clean shutdown --------------------------------------------------------------------------------

    @Test
    void givenTheConfirmingPollFailed_whenClosed_thenExactlyTheWrittenUpdatesAreConfirmedAndANewIngestGetsNothingOld() {
        // given: two updates written and confirmed by the next poll as usual
        ClaimStore claims = redis();
        IngestService first = harness.startIngest(kafka, claims);
        UserMessage m1 = harness.telegram.injectMessage(31, "one");
        UserMessage m2 = harness.telegram.injectMessage(31, "two");
        Await.until("both written", TIMEOUT, () -> first.lastWrittenUpdateId() == m2.updateId());
        // and a third written whose confirming poll failed (so only the shutdown can confirm it)
        harness.awaitLongPoll();
        harness.telegram.addFault("getUpdates", 500, 1_000_000);
        UserMessage m3 = harness.telegram.injectMessage(31, "three");
        Await.until("the third written", TIMEOUT, () -> first.lastWrittenUpdateId() == m3.updateId());
        Await.until("its confirmation to fail twice", TIMEOUT, () -> harness.getUpdatesAnswered(500) >= 2);
        assertEquals(m3.updateId(), harness.telegram.confirmedOffset());
        harness.telegram.clearFaults();

        // when
        first.close();

        // then: Telegram has exactly what Kafka has confirmed, nothing more and nothing less
        assertEquals(first.lastWrittenUpdateId() + 1, harness.telegram.confirmedOffset());
        assertEquals(0, harness.telegram.pendingUpdates());
        assertFalse(first.isPolling());

        // and a new ingest gets only what is new
        IngestService second = harness.startIngest(kafka, claims);
        UserMessage m4 = harness.telegram.injectMessage(31, "four");
        Await.until("the new update written", TIMEOUT, () -> second.lastWrittenUpdateId() == m4.updateId());
        assertEquals(1, second.updatesWritten());
        assertEquals(0, second.duplicatesSkipped(), "nothing old was redelivered");
        assertEquals(
                Map.of(m1.updateId(), 1L, m2.updateId(), 1L, m3.updateId(), 1L, m4.updateId(), 1L),
                countByUpdateId(allRecords()));
    }

    // ---- 5. Redis down ------------------------------------------------------------------------------------

    @Test
    void givenAnUpdateWithFieldsNoLibraryKnows_whenPolled_thenTheTopicHoldsItAsTelegramSentIt() throws IOException {
        // given: a message carrying a field Telegram might add tomorrow, next to the ones everybody knows
        IngestService ingest = harness.startIngest(kafka, redis());
        ObjectNode update = Json.mapper().createObjectNode();
        ObjectNode message = update.putObject("message");
        message.put("message_id", 5).put("date", 1_765_000_000L).put("text", "hi from the future");
        message.putObject("from").put("id", 4242).put("is_bot", false).put("first_name", "Ann");
        message.putObject("chat").put("id", 4242).put("type", "private").put("first_name", "Ann");
        message.putObject("field_from_the_future")
                .put("stars", 3)
                .putArray("tags")
                .add("new");

        // when
        long updateId = harness.telegram.injectUpdate(update);

        // then: the stored update is the one Telegram sent, field for field, the unknown ones included
        Await.until("the update confirmed", TIMEOUT, () -> harness.telegram.confirmedOffset() == updateId + 1);
        List<ConsumerRecord<Long, StoredUpdate>> records = allRecords();
        assertEquals(1, records.size(), "one record: " + records);
        JsonNode sent = Json.mapper()
                .readTree(update.deepCopy().put("update_id", updateId).toString());
        JsonNode stored = Json.mapper().readTree(records.get(0).value().update().toString());
        assertEquals(sent, stored);
        assertEquals(4242L, records.get(0).key());
        assertTrue(ingest.isPolling());
    }

    @Test
    void givenRedisIsUnreachable_whenMessagesArrive_thenTheyAreStillWrittenAndTheOutageIsCounted() throws IOException {
        // given: a dedup store pointing at a port nobody listens on
        RedisSettings nowhere = IngestHarness.unreachableRedis();
        ClaimStore unreachable = harness.track(new RedisClaimStore(RedisClaimStore.connect(nowhere), "ingest-test:"));
        IngestService ingest = harness.startIngest(kafka, unreachable);

        // when
        UserMessage m1 = harness.telegram.injectMessage(41, "redis is down");
        UserMessage m2 = harness.telegram.injectMessage(42, "still down");

        // then: written and confirmed all the same, and the missing duplicate check is counted
        Await.until("both confirmed", TIMEOUT, () -> harness.telegram.confirmedOffset() == m2.updateId() + 1);
        assertEquals(Map.of(m1.updateId(), 1L, m2.updateId(), 1L), countByUpdateId(allRecords()));
        assertTrue(ingest.dedupUnavailable() >= 2, "each update's check counted: " + ingest.dedupUnavailable());
        assertTrue(ingest.isPolling());
    }

    // ---- 5b. the staleness signal -----------------------------------------------------------------------------

    @Test
    void givenAStalenessSignal_whenMessagesAndAnEditAreIngested_thenEachNewMessageIsRecordedOnceKafkaHasIt() {
        // given: ingest feeding a staleness signal on real Redis
        String keyPrefix = TestRedis.uniqueKeyPrefix(prefix);
        RedisChatActivity activity = harness.track(new RedisChatActivity(
                harness.track(RedisClaimStore.connect(TestRedis.settings())), keyPrefix, Duration.ofMinutes(5)));
        IngestService ingest = harness.startIngest(kafka, redis(), activity);
        long chat = 61;

        // when: two new messages, then the person edits the first one
        UserMessage first = harness.telegram.injectMessage(chat, "first");
        UserMessage second = harness.telegram.injectMessage(chat, "second");
        UserMessage edit = harness.telegram.editMessage(chat, first.messageId(), "first, edited");

        // then: the chat's newest message is the second one, and it was on the topic by the time it was recorded
        Await.until("the edit confirmed", TIMEOUT, () -> harness.telegram.confirmedOffset() == edit.updateId() + 1);
        assertEquals(OptionalLong.of(second.messageId()), activity.newest(chat));
        assertEquals(
                Map.of(first.updateId(), 1L, second.updateId(), 1L, edit.updateId(), 1L),
                countByUpdateId(allRecords()));
        assertEquals(2, ingest.activityRecorded(), "new messages count, the edit does not");
        assertTrue(activity.isSuperseded(chat, first.messageId()), "a reply to the first message is stale");
        assertFalse(activity.isSuperseded(chat, second.messageId()));
        assertEquals(0, ingest.activityUnavailable());
    }

    @Test
    void givenTheStalenessSignalIsUnreachable_whenMessagesArrive_thenTheyAreStillWrittenAndTheOutageIsCounted()
            throws IOException {
        // given: a staleness signal on a Redis port nobody listens on
        RedisSettings nowhere = IngestHarness.unreachableRedis();
        RedisChatActivity unreachable = harness.track(new RedisChatActivity(
                harness.track(RedisClaimStore.connect(nowhere)), "ingest-test:", Duration.ofMinutes(5)));
        IngestService ingest = harness.startIngest(kafka, redis(), unreachable);

        // when
        UserMessage m = harness.telegram.injectMessage(62, "the signal is down");

        // then: written and confirmed all the same, the failure counted
        Await.until("confirmed", TIMEOUT, () -> harness.telegram.confirmedOffset() == m.updateId() + 1);
        assertEquals(Map.of(m.updateId(), 1L), countByUpdateId(allRecords()));
        assertEquals(1, ingest.activityUnavailable());
        assertEquals(0, ingest.activityRecorded());
        assertTrue(ingest.isPolling());
    }

    // ---- 6. polling never dies silently ---------------------------------------------------------------------

    @Test
    void givenGetUpdatesAnswers500And409_whenPolling_thenItRecoversAndNoUpdateIsLostAndTheTokenIsNeverLogged()
            throws IOException {
        // given: Telegram failing the first getUpdates calls
        harness.telegram.addFault("getUpdates", 500, 2);
        harness.telegram.addFault("getUpdates", 409, 2);
        IngestService ingest = harness.startIngest(kafka, redis());

        // when
        UserMessage m = harness.telegram.injectMessage(51, "after the errors");

        // then
        Await.until("the update written", TIMEOUT, () -> ingest.lastWrittenUpdateId() == m.updateId());
        assertEquals(2, harness.getUpdatesAnswered(500));
        assertEquals(2, harness.getUpdatesAnswered(409));
        assertTrue(ingest.isPolling(), "still polling after the errors");
        assertEquals(Optional.empty(), ingest.failure());
        assertEquals(Map.of(m.updateId(), 1L), countByUpdateId(allRecords()));

        // and the errors were logged without the token
        ingest.close();
        String log = testLog();
        assertTrue(log.contains("getUpdates with offset"), "the getUpdates errors are in the log we search");
        assertFalse(log.contains(harness.tokenSecret()), "the bot token appears in " + testLogPath());
    }

    @Test
    void givenGetUpdatesAnswers429WithRetryAfter_whenPolling_thenTheNextPollWaitsThatLongAndNothingIsLost() {
        // given: Telegram refusing the first getUpdates with 429 and retry_after 2 s (the poller's own first wait
        // would be 250 ms)
        harness.telegram.addFault("getUpdates", 429, 2, 1, null, "Too Many Requests: retry after 2");
        UserMessage m = harness.telegram.injectMessage(52, "after the flood wait");

        // when
        IngestService ingest = harness.startIngest(kafka, redis());

        // then: the update is written, and the poll after the 429 came no earlier than Telegram asked
        Await.until("the update written", TIMEOUT, () -> ingest.lastWrittenUpdateId() == m.updateId());
        List<ApiCall> polls = harness.telegram.calls("getUpdates");
        assertEquals(429, polls.get(0).status());
        long waited = polls.get(1).at() - polls.get(0).at();
        assertTrue(waited >= 1_900, "waited " + waited + " ms after the 429");
        assertEquals(Map.of(m.updateId(), 1L), countByUpdateId(allRecords()));
        assertTrue(ingest.isPolling());
    }

    @Test
    void givenTheConsumerFailsUnexpectedly_whenAnUpdateArrives_thenPollingStopsVisiblyAndTheUpdateStaysUnconfirmed()
            throws InterruptedException {
        // given: a dedup store with a bug (an Error, which no retry loop catches), standing in for any bug in the
        // consumer, which ends the poller's loop
        ClaimStore buggy = new BuggyClaimStore(redis());
        IngestService ingest = harness.startIngest(kafka, buggy);
        assertTrue(ingest.isPolling());

        // when
        UserMessage m = harness.telegram.injectMessage(61, "hits the bug");

        // then: the failure is visible, the service reports itself terminated, and the update is left for the
        // next poller
        Throwable failure = Await.value("ingest to report its failure", TIMEOUT, ingest::failure);
        assertInstanceOf(BuggyClaimStore.Bug.class, failure);
        assertTrue(ingest.awaitTermination(TIMEOUT));
        Await.until("the poll task to end", TIMEOUT, () -> !ingest.isPolling());
        assertEquals(m.updateId(), harness.telegram.confirmedOffset());
        ingest.close();
        assertEquals(m.updateId(), harness.telegram.confirmedOffset(), "closing confirms nothing unwritten");
        assertEquals(1, harness.telegram.pendingUpdates());
        assertEquals(Map.of(), countByUpdateId(allRecords()));
    }

    /** A store whose lookups fail with an Error: the test's stand-in for a bug in the consumer. */
    private static final class BuggyClaimStore extends ForwardingClaimStore {
        static final class Bug extends Error {
            private static final long serialVersionUID = 1L;

            Bug() {
                super("injected bug in the dedup lookup");
            }
        }

        BuggyClaimStore(ClaimStore real) {
            super(real);
        }

        @Override
        public Optional<String> get(String key) {
            throw new Bug();
        }
    }

    // ---- 7. secrets -----------------------------------------------------------------------------------------

    @Test
    void givenTelegramIsUnreachable_whenStarting_thenItFailsNamingTheAddressButNeverTheToken() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        Map<String, String> variables = harness.variables();
        variables.put(TelegramSettings.API_URL, "http://127.0.0.1:" + closedPort);
        IngestConfig config = IngestConfig.from(Config.of(variables));
        IngestService ingest = harness.track(new IngestService(
                config,
                IngestHarness.dependencies(
                        config, kafka, redis(), IntakeRules.openToAll(new Metrics()), Clock.systemUTC())));

        IllegalStateException e = assertThrows(IllegalStateException.class, ingest::start);

        assertTrue(e.getMessage().contains("127.0.0.1:" + closedPort), e.getMessage());
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertFalse(t.toString().contains(harness.tokenSecret()), "token in " + t);
            for (Throwable s : t.getSuppressed()) {
                assertFalse(s.toString().contains(harness.tokenSecret()), "token in " + s);
            }
        }
        assertFalse(ingest.isPolling());
        assertTrue(
                Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().equals("ingest-telegram-poller")),
                "a failed start leaves no poller thread behind");
        assertFalse(testLog().contains(harness.tokenSecret()), "the bot token appears in " + testLogPath());
    }

    static Path testLogPath() {
        return Path.of(System.getProperty("thoughtstream.log.dir", "target/logs"), "test.log");
    }

    static String testLog() throws IOException {
        Path log = testLogPath();
        assertTrue(Files.isRegularFile(log), "the test log exists: " + log.toAbsolutePath());
        return Files.readString(log, StandardCharsets.UTF_8);
    }
}
