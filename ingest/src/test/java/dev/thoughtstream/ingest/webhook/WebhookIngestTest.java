package dev.thoughtstream.ingest.webhook;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ingest.BotApiClient;
import dev.thoughtstream.ingest.IngestConfig;
import dev.thoughtstream.ingest.IngestHarness;
import dev.thoughtstream.ingest.IntakeSetup;
import dev.thoughtstream.ingest.intake.IntakeRules;
import dev.thoughtstream.ingest.write.ActivityRecorder;
import dev.thoughtstream.ingest.write.UpdateWriter;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.EmbeddedKafka;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.UserMessage;
import dev.thoughtstream.testkit.telegram.WebhookInfo;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Webhook mode on real parts: the emulator registers the webhook and delivers updates over HTTP with the secret
 * header (retrying what is not answered 2xx, as Telegram does), raw HTTP requests probe the endpoint's answers, and
 * records land on a real Kafka broker, deduplicated in a real Redis.
 */
class WebhookIngestTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String SECRET = "webhook_Secret-123";

    private final IngestHarness harness = new IngestHarness();
    private final Metrics metrics = new Metrics();
    private EmbeddedKafka ownBroker;

    @TempDir
    Path kafkaDir;

    @AfterEach
    void closeEverything() {
        harness.close();
        if (ownBroker != null) {
            ownBroker.close();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private record Started(WebhookIngest ingest, IngestConfig config, Topics topics, String bootstrap) {
        String endpoint() {
            return "http://127.0.0.1:" + ingest.port() + config.webhook().path();
        }
    }

    private Started start(String prefix, KafkaSettings kafka, String bootstrap, Map<String, String> extra)
            throws IOException {
        int port = freePort();
        Map<String, String> v = new HashMap<>(harness.variables());
        v.put(IngestConfig.MODE, "webhook");
        v.put(IngestConfig.WEBHOOK_PORT, Integer.toString(port));
        v.put(IngestConfig.WEBHOOK_URL, "http://127.0.0.1:" + port);
        v.put(IngestConfig.WEBHOOK_SECRET, SECRET);
        v.put(IngestConfig.WEBHOOK_ACK_TIMEOUT_MS, "1500");
        v.putAll(extra);
        IngestConfig config = IngestConfig.from(Config.of(v));
        String keyPrefix = TestRedis.uniqueKeyPrefix(prefix);
        ClaimStore claims = harness.redis(keyPrefix);
        IntakeRules rules =
                IntakeSetup.rules(config, claims, harness.redisClient(), keyPrefix, metrics, HTTP, Clock.systemUTC());
        WebhookIngest ingest = harness.track(new WebhookIngest(
                config,
                new WebhookIngest.Dependencies(
                        kafka,
                        IntakeSetup.judge(config, claims, rules),
                        ActivityRecorder.none(),
                        metrics,
                        new BotApiClient(config.telegram(), HTTP),
                        Clock.systemUTC())));
        ingest.start();
        return new Started(ingest, config, Topics.withPrefix(kafka.topicPrefix()), bootstrap);
    }

    private Started startOnSharedBroker(TestInfo test, Map<String, String> extra) throws IOException {
        String prefix =
                TestKafka.uniquePrefix(test.getTestMethod().orElseThrow().getName());
        IngestHarness.createTopics(prefix);
        return start(prefix, TestKafka.settings(prefix), TestKafka.bootstrapServers(), extra);
    }

    private static List<ConsumerRecord<Long, StoredUpdate>> records(Started s) {
        return TopicReader.readAll(s.bootstrap(), s.topics().updates(), TIMEOUT);
    }

    private static Map<Long, Long> countsByUpdateId(Started s) {
        return records(s).stream().collect(Collectors.groupingBy(r -> r.value().updateId(), Collectors.counting()));
    }

    private static HttpResponse<String> post(String url, String secret, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (secret != null) {
            request.header(WebhookServer.SECRET_HEADER, secret);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String privateUpdate(long updateId, long chatId, int messageId, String text) {
        return "{\"update_id\":" + updateId + ",\"message\":{\"message_id\":" + messageId + ",\"date\":1700000000,"
                + "\"from\":{\"id\":" + chatId + ",\"is_bot\":false,\"first_name\":\"Raw\"},"
                + "\"chat\":{\"id\":" + chatId + ",\"type\":\"private\"},\"text\":\"" + text + "\"}}";
    }

    private long webhookRequests(int status) {
        return metrics.counter("ingest_webhook_requests_total", "", "status", Integer.toString(status))
                .count();
    }

    @Test
    void givenTheWebhookIsRegistered_whenPeopleWrite_thenTelegramDeliversEachUpdateOnceIntoKafkaAndStopDeletesIt(
            TestInfo test) throws IOException {
        // given
        Started s = startOnSharedBroker(test, Map.of());
        WebhookInfo info = harness.telegram.webhook();
        assertEquals(s.config().webhook().webhookUrl(), info.url());
        assertTrue(info.hasSecretToken());
        assertTrue(info.url().contains("/telegram/"), "a random-looking default path: " + info.url());
        assertFalse(info.url().contains(SECRET));

        // when: two people write; the emulator POSTs each update with the secret header
        UserMessage a1 = harness.telegram.injectMessage(41, "hello from webhook");
        UserMessage b1 = harness.telegram.injectMessage(42, "me too");
        UserMessage a2 = harness.telegram.injectMessage(41, "second");
        Await.until(
                "every update delivered",
                TIMEOUT,
                () -> harness.telegram.webhook().deliveredCount() == 3);

        // then: each is on the topic once, keyed by its chat, with the update id header, in chat order
        List<ConsumerRecord<Long, StoredUpdate>> records = records(s);
        assertEquals(Map.of(a1.updateId(), 1L, b1.updateId(), 1L, a2.updateId(), 1L), countsByUpdateId(s));
        for (ConsumerRecord<Long, StoredUpdate> r : records) {
            assertEquals(r.value().chatId(), r.key());
            Header h = r.headers().lastHeader(UpdateWriter.HEADER_UPDATE_ID);
            assertNotNull(h);
            assertEquals(Long.toString(r.value().updateId()), new String(h.value(), StandardCharsets.UTF_8));
        }
        assertEquals(
                List.of(a1.updateId(), a2.updateId()),
                records.stream()
                        .filter(r -> r.key() == 41)
                        .map(r -> r.value().updateId())
                        .toList());
        assertEquals(0, harness.telegram.webhook().failedAttempts(), "every delivery answered 200 at once");
        assertEquals(3, webhookRequests(200));

        // when: ingest stops
        s.ingest().close();

        // then: the webhook is deleted, and what arrives meanwhile stays pending for the next webhook or poller
        assertFalse(harness.telegram.webhook().isActive());
        harness.telegram.injectMessage(41, "while nobody listens");
        assertEquals(1, harness.telegram.pendingUpdates());
    }

    @Test
    void givenFortyPeopleWriteTwice_whenTelegramDeliversOverTenConnectionsAtOnce_thenEachUpdateLandsOnceInChatOrder(
            TestInfo test) throws IOException {
        // given: eighty updates waiting before the webhook is set, and ten connections
        for (int round = 1; round <= 2; round++) {
            for (long chat = 301; chat <= 340; chat++) {
                harness.telegram.injectMessage(chat, "round " + round);
            }
        }
        Started s = startOnSharedBroker(test, tenConnectionsAnsweredAtOnce());
        assertEquals(10, harness.telegram.webhook().maxConnections(), "setWebhook asked for ten connections");

        // when: Telegram delivers them, ten at a time
        Await.until(
                "every update delivered",
                TIMEOUT,
                () -> harness.telegram.webhook().deliveredCount() == 80);

        // then: each is on the topic once, each chat's two in their order, all answered 200
        List<ConsumerRecord<Long, StoredUpdate>> records = records(s);
        assertEquals(80, records.size());
        assertEquals(80, countsByUpdateId(s).size());
        records.stream()
                .collect(Collectors.groupingBy(ConsumerRecord::key))
                .forEach((chat, ofChat) -> assertEquals(
                        List.of("round 1", "round 2"),
                        ofChat.stream()
                                .map(r -> r.value()
                                        .update()
                                        .path("message")
                                        .path("text")
                                        .asText())
                                .toList(),
                        "chat " + chat));
        assertEquals(80, webhookRequests(200));
        assertEquals(0, harness.telegram.webhook().failedAttempts());
    }

    @Test
    void givenThirtyConcurrentDeliveries_whenEachIsAnswered200_thenItsRecordIsAlreadyInKafka(TestInfo test)
            throws Exception {
        // given: the endpoint, and thirty updates of thirty chats sent at once (they share batches)
        Started s = startOnSharedBroker(test, Map.of());
        AtomicInteger answered = new AtomicInteger();
        List<String> early = new CopyOnWriteArrayList<>();
        List<CompletableFuture<Integer>> statuses = new ArrayList<>();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrap()))) {
            for (int i = 0; i < 30; i++) {
                String update = privateUpdate(910_000 + i, 700 + i, 1, "at once " + i);
                // when: each answer arrives, what the topic holds is counted before anything else happens
                statuses.add(HTTP.sendAsync(
                                HttpRequest.newBuilder(URI.create(s.endpoint()))
                                        .header("Content-Type", "application/json")
                                        .header(WebhookServer.SECRET_HEADER, SECRET)
                                        .POST(HttpRequest.BodyPublishers.ofString(update))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .thenApply(response -> {
                            if (response.statusCode() == 200) {
                                int answeredSoFar = answered.incrementAndGet();
                                long onTopic = recordsOnTopic(
                                        admin, s.topics().updates().name());
                                if (onTopic < answeredSoFar) {
                                    early.add(answeredSoFar + " answered 200 but " + onTopic + " on the topic");
                                }
                            }
                            return response.statusCode();
                        }));
            }

            // then: all answered 200, none before its record was in Kafka, each written once
            for (CompletableFuture<Integer> status : statuses) {
                assertEquals(200, status.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
            }
        }
        assertEquals(List.of(), early);
        assertEquals(30, countsByUpdateId(s).size());
        assertEquals(30, records(s).size());
    }

    /** The records on {@code topic} so far: the sum of its partitions' end offsets. */
    private static long recordsOnTopic(Admin admin, String topic) {
        try {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get()
                    .get(topic)
                    .partitions()
                    .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
            long sum = 0;
            for (ListOffsetsResult.ListOffsetsResultInfo info :
                    admin.listOffsets(latest).all().get().values()) {
                sum += info.offset();
            }
            return sum;
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot read the end offsets of " + topic, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted reading the end offsets of " + topic, e);
        }
    }

    @Test
    void givenTheEndpoint_whenRequestsLackTheRightSecretOrAreNotUpdates_thenTheyAreRefusedAndNothingIsWritten(
            TestInfo test) throws Exception {
        // given
        Started s = startOnSharedBroker(test, Map.of());
        String update = privateUpdate(900_001, 51, 1, "sneaky");

        // when / then
        assertEquals(401, post(s.endpoint(), null, update).statusCode(), "no secret header");
        assertEquals(403, post(s.endpoint(), "wrong-secret", update).statusCode(), "wrong secret");
        assertEquals(
                404,
                post("http://127.0.0.1:" + s.ingest().port() + "/telegram/guess", SECRET, update)
                        .statusCode(),
                "wrong path");
        assertEquals(
                405,
                HTTP.send(
                                HttpRequest.newBuilder(URI.create(s.endpoint()))
                                        .GET()
                                        .header(WebhookServer.SECRET_HEADER, SECRET)
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .statusCode(),
                "not a POST");
        assertEquals(
                400,
                post(s.endpoint(), SECRET, "{\"update_id\": 12, \"message\": {").statusCode(),
                "bad JSON");
        assertEquals(400, post(s.endpoint(), SECRET, "{\"message\": {}}").statusCode(), "no update_id");
        assertEquals(400, post(s.endpoint(), SECRET, "[1, 2]").statusCode(), "not an object");
        assertEquals(List.of(), records(s));
        assertEquals(3, webhookRequests(400));
        assertEquals(1, webhookRequests(401));
        assertEquals(1, webhookRequests(403));

        // when: the same update with the right secret
        HttpResponse<String> accepted = post(s.endpoint(), SECRET, update);

        // then: 200, and the record is already in Kafka when the 200 arrives
        assertEquals(200, accepted.statusCode());
        List<ConsumerRecord<Long, StoredUpdate>> records = records(s);
        assertEquals(1, records.size());
        assertEquals(900_001, records.get(0).value().updateId());
        assertEquals(51, records.get(0).key());
        assertEquals(
                "sneaky",
                records.get(0).value().update().path("message").path("text").asText());

        // when: Telegram delivers it again
        assertEquals(200, post(s.endpoint(), SECRET, update).statusCode());

        // then: not written twice
        assertEquals(1, records(s).size());
        assertEquals(1, s.ingest().duplicatesSkipped());
    }

    @Test
    void givenWebhookMode_whenGroupMessagesArrive_thenTheGroupRulesApplyIncludingTextMentionsOfTheBot(TestInfo test)
            throws Exception {
        // given
        Started s = startOnSharedBroker(test, Map.of());
        long botId = s.config().telegram().botId();
        String group = "\"chat\":{\"id\":-100777,\"type\":\"supergroup\",\"title\":\"Team\"}";
        String from = "\"from\":{\"id\":61,\"is_bot\":false,\"first_name\":\"Ann\"}";
        String chatter = "{\"update_id\":910001,\"message\":{\"message_id\":5,\"date\":1," + from + "," + group
                + ",\"text\":\"lunch?\"}}";
        String textMention = "{\"update_id\":910002,\"message\":{\"message_id\":6,\"date\":1," + from + "," + group
                + ",\"text\":\"Bot, lunch?\",\"entities\":[{\"type\":\"text_mention\",\"offset\":0,\"length\":3,"
                + "\"user\":{\"id\":" + botId + ",\"is_bot\":true,\"first_name\":\"Bot\"}}]}}";

        // when
        HttpResponse<String> ignored = post(s.endpoint(), SECRET, chatter);
        HttpResponse<String> addressed = post(s.endpoint(), SECRET, textMention);

        // then: both are answered 200 (Telegram must not retry the ignored one), only the addressed one is written
        assertEquals(200, ignored.statusCode());
        assertEquals(200, addressed.statusCode());
        assertEquals(Map.of(910_002L, 1L), countsByUpdateId(s));
    }

    @Test
    void
            givenKafkaIsDown_whenTelegramDelivers_thenTheEndpointAnswers503AndTelegramRetriesUntilKafkaIsBackLosingNothing()
                    throws Exception {
        // given: webhook ingest on a broker of its own, which then stops
        ownBroker = EmbeddedKafka.start(kafkaDir, 0);
        String prefix = "webhook-outage.";
        KafkaSettings kafka = KafkaSettings.from(Config.of(Map.of(
                KafkaSettings.BOOTSTRAP,
                ownBroker.bootstrapServers(),
                "TOPIC_PREFIX",
                prefix,
                "TOPIC_PARTITIONS",
                "3",
                "KAFKA_CLIENT_DELIVERY_TIMEOUT_MS",
                "1200",
                "KAFKA_CLIENT_REQUEST_TIMEOUT_MS",
                "1000",
                "KAFKA_CLIENT_RECONNECT_BACKOFF_MAX_MS",
                "200")));
        Started s = start(prefix, kafka, ownBroker.bootstrapServers(), Map.of());
        UserMessage before = harness.telegram.injectMessage(71, "before the outage");
        Await.until(
                "the first update delivered",
                TIMEOUT,
                () -> harness.telegram.webhook().deliveredCount() == 1);
        int port = ownBroker.brokerPort();
        ownBroker.close();

        // when: people keep writing
        UserMessage during1 = harness.telegram.injectMessage(71, "during the outage 1");
        UserMessage during2 = harness.telegram.injectMessage(72, "during the outage 2");

        // then: the endpoint answers 503 within its deadline, Telegram keeps the updates and retries
        Await.until(
                "two failed deliveries",
                TIMEOUT,
                () -> harness.telegram.webhook().failedAttempts() >= 2);
        WebhookInfo failing = harness.telegram.webhook();
        assertEquals("Wrong response from the webhook: 503 Service Unavailable", failing.lastErrorMessage());
        assertEquals(2, failing.pendingUpdateCount());
        assertTrue(webhookRequests(503) >= 2);

        // when: the broker is back on the same data and port
        ownBroker = EmbeddedKafka.start(kafkaDir, port);

        // then: Telegram's retries get through and every update is on the topic exactly once
        Await.until(
                "every update delivered",
                TIMEOUT,
                () -> harness.telegram.webhook().pendingUpdateCount() == 0);
        Started onNewBroker = new Started(s.ingest(), s.config(), s.topics(), ownBroker.bootstrapServers());
        Await.until(
                "the records of every update",
                TIMEOUT,
                () -> countsByUpdateId(onNewBroker)
                        .keySet()
                        .equals(Set.of(before.updateId(), during1.updateId(), during2.updateId())));
        assertEquals(
                Map.of(before.updateId(), 1L, during1.updateId(), 1L, during2.updateId(), 1L),
                countsByUpdateId(onNewBroker));
    }

    /**
     * Ten connections, and the default ack timeout: the tests that expect every delivery answered 200 at first try
     * must not meet the short one of {@link #start} when a loaded machine makes the first write slow.
     */
    private static Map<String, String> tenConnectionsAnsweredAtOnce() {
        return Map.of(IngestConfig.WEBHOOK_MAX_CONNECTIONS, "10", IngestConfig.WEBHOOK_ACK_TIMEOUT_MS, "8000");
    }

    /** Each chat's texts in the order its records are on the topic (a chat's records share one partition). */
    private static Map<Long, List<String>> textsByChat(List<ConsumerRecord<Long, StoredUpdate>> records) {
        return records.stream()
                .collect(Collectors.groupingBy(
                        ConsumerRecord::key,
                        TreeMap::new,
                        Collectors.mapping(
                                r -> r.value()
                                        .update()
                                        .path("message")
                                        .path("text")
                                        .asText(),
                                Collectors.toList())));
    }

    private static List<String> texts(long chat, int messages) {
        List<String> texts = new ArrayList<>();
        for (int n = 1; n <= messages; n++) {
            texts.add(chat + "/" + n);
        }
        return texts;
    }

    @Test
    void
            givenManyChatsWroteSeveralTimes_whenTelegramDeliversInParallelAndOutOfOrderAcrossChats_thenAllLandOnceInChatOrder(
                    TestInfo test) throws IOException {
        // given: 60 chats wrote 5 messages each, round by round and the highest chat id first, before the webhook
        // was set; Telegram sends such a backlog by chat id (lowest first), so chats arrive out of the order they
        // wrote in, and over 10 connections at once
        int chats = 60;
        int messages = 5;
        Map<Long, Long> chatOfUpdate = new HashMap<>();
        for (int n = 1; n <= messages; n++) {
            for (long chat = 500 + chats - 1; chat >= 500; chat--) {
                chatOfUpdate.put(
                        harness.telegram.injectMessage(chat, chat + "/" + n).updateId(), chat);
            }
        }
        Started s = startOnSharedBroker(test, tenConnectionsAnsweredAtOnce());

        // when: Telegram delivers them
        Await.until(
                "every update delivered",
                TIMEOUT,
                () -> harness.telegram.webhook().deliveredCount() == chats * messages);

        // then: each update is on the topic exactly once, and each chat's messages are in the order they were written
        List<ConsumerRecord<Long, StoredUpdate>> records = records(s);
        Map<Long, Long> counts = countsByUpdateId(s);
        assertEquals(chatOfUpdate.keySet(), counts.keySet());
        assertTrue(counts.values().stream().allMatch(c -> c == 1), "no update twice: " + counts);
        Map<Long, List<String>> byChat = textsByChat(records);
        assertEquals(chats, byChat.size());
        byChat.forEach((chat, texts) -> assertEquals(texts(chat, messages), texts, "chat " + chat));
        // and across chats the topic is not in update id order: the delivery really was out of order
        Map<Integer, List<Long>> idsByPartition = records.stream()
                .collect(Collectors.groupingBy(
                        ConsumerRecord::partition,
                        Collectors.mapping(r -> r.value().updateId(), Collectors.toList())));
        assertTrue(
                idsByPartition.values().stream()
                        .anyMatch(ids -> !ids.equals(ids.stream().sorted().toList())),
                "some partition holds a later update before an earlier one of another chat");
        assertEquals(0, harness.telegram.webhook().failedAttempts());
        assertEquals(chats * messages, webhookRequests(200));
    }

    @Test
    void givenKafkaIsDownLongerThanTheAckTimeout_whenTelegramRetriesEveryChatInParallel_thenEachUpdateLandsExactlyOnce(
            @TempDir Path ownKafkaDir) throws Exception {
        // given: webhook ingest on a broker of its own, with the producer's default delivery timeout (30 s): a record
        // sent while the broker is down outlives its delivery's 1.5 s deadline and lands once the broker is back
        ownBroker = EmbeddedKafka.start(ownKafkaDir, 0);
        String prefix = "webhook-parallel-outage.";
        KafkaSettings kafka = KafkaSettings.from(Config.of(Map.of(
                KafkaSettings.BOOTSTRAP,
                ownBroker.bootstrapServers(),
                "TOPIC_PREFIX",
                prefix,
                "TOPIC_PARTITIONS",
                "3",
                "KAFKA_CLIENT_RECONNECT_BACKOFF_MAX_MS",
                "200")));
        Started s = start(prefix, kafka, ownBroker.bootstrapServers(), Map.of());
        UserMessage before = harness.telegram.injectMessage(80, "80/0");
        Await.until(
                "the first update delivered",
                TIMEOUT,
                () -> harness.telegram.webhook().deliveredCount() == 1);
        int port = ownBroker.brokerPort();
        ownBroker.close();

        // when: 20 people write twice while the broker is down, and Telegram delivers each chat's first message,
        // is answered 503 (Retry-After: 1), and retries it while the first record of it is still in the producer
        int chats = 20;
        Set<Long> written = new HashSet<>(Set.of(before.updateId()));
        for (int n = 1; n <= 2; n++) {
            for (long chat = 81; chat < 81 + chats; chat++) {
                written.add(harness.telegram.injectMessage(chat, chat + "/" + n).updateId());
            }
        }
        Await.until(
                "every chat's first message refused twice",
                TIMEOUT,
                () -> harness.telegram.webhook().failedAttempts() >= 2L * chats);
        assertEquals(2 * chats, harness.telegram.webhook().pendingUpdateCount());
        assertEquals(
                "Wrong response from the webhook: 503 Service Unavailable",
                harness.telegram.webhook().lastErrorMessage());

        // when: the broker is back on the same data and port
        ownBroker = EmbeddedKafka.start(ownKafkaDir, port);

        // then: Telegram's retries get through, and every update is on the topic exactly once, in its chat's order
        Await.until(
                "every update delivered",
                TIMEOUT,
                () -> harness.telegram.webhook().pendingUpdateCount() == 0);
        Started onNewBroker = new Started(s.ingest(), s.config(), s.topics(), ownBroker.bootstrapServers());
        Await.until(
                "the records of every update",
                TIMEOUT,
                () -> countsByUpdateId(onNewBroker).keySet().equals(written));
        Map<Long, Long> counts = countsByUpdateId(onNewBroker);
        assertTrue(counts.values().stream().allMatch(c -> c == 1), "no update twice: " + counts);
        Map<Long, List<String>> byChat = textsByChat(records(onNewBroker));
        for (long chat = 81; chat < 81 + chats; chat++) {
            assertEquals(texts(chat, 2), byChat.get(chat), "chat " + chat);
        }
    }
}
