package dev.thoughtstream.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.telegram.TelegramLimits;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.ScaleConfig.Mode;
import dev.thoughtstream.llm.generate.PartSplitter;
import dev.thoughtstream.llm.generate.ReplyGenerator;
import dev.thoughtstream.llm.handle.ThoughtHandler;
import dev.thoughtstream.llm.model.ModelFactory;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.llm.Behavior;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.llm.RecordedRequest;
import dev.thoughtstream.testkit.llm.Responder;
import dev.thoughtstream.testkit.redis.RedisServer;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import redis.clients.jedis.RedisClient;

/**
 * The llm-processor's scale, staleness and idempotence on real parts: testkit's Kafka broker (share groups and
 * classic consumer groups), real Redis (claims and the staleness signal, pub/sub included), and the real LangChain4j
 * Ollama streaming client against {@link FakeLlmServer}. Every test has its own topics, group id and Redis keys;
 * every processor instance has its own metrics, Redis client and staleness subscriber, as separate processes would.
 */
class LlmProcessorScaleTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String MODEL = "scale-model";
    /** One sentence per paragraph, one token per word or full stop: parts "One." "Two." "Three." "Four.". */
    private static final String FOUR_PARAGRAPHS = "One.\n\nTwo.\n\nThree.\n\nFour.";

    private static final List<String> FOUR_PARTS = List.of("One.", "Two.", "Three.", "Four.");
    /**
     * {@code One . \n\nTwo}: a part is sent once text after its blank line arrives, so part 0 is on Kafka and
     * {@code Two} is unfinished; then the stream stays open and silent.
     */
    private static final int STALL_TOKENS = 3;

    private static final String APOLOGY = "Sorry, not now.";
    /** A long reply for paced streaming: part 0 arrives within a second, the whole takes several. */
    private static final List<String> TWELVE_PARTS = List.of(
            "One.", "Two.", "Three.", "Four.", "Five.", "Six.", "Seven.", "Eight.", "Nine.", "Ten.", "Eleven.",
            "Twelve.");

    /** One processor instance, as one process would hold it. */
    private record Instance(
            LlmProcessor processor, Metrics metrics, RedisChatActivity activity, RedisClaimStore claims) {
        long outcome(String outcome) {
            return metrics.counter("llm_thoughts_total", "", "outcome", outcome).count();
        }

        long retried(String reason) {
            return metrics.counter("llm_thoughts_retried_total", "", "reason", reason)
                    .count();
        }

        long redisErrors() {
            return metrics.counter("llm_redis_errors_total", "").count();
        }

        long deadLetters() {
            return metrics.counter("llm_dead_letters_total", "").count();
        }
    }

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final List<Instance> instances = new ArrayList<>();
    private ScheduledThreadPoolExecutor scheduler;
    private KafkaProducer<byte[], byte[]> producer;
    private Admin admin;
    private FakeLlmServer llm;
    private String prefix;
    private Topics topics;
    private String groupId;
    private String keyPrefix;
    /** What ingest does: records each chat's newest message in the staleness signal. */
    private RedisChatActivity ingest;

    @BeforeEach
    void setUp(TestInfo test) {
        prefix = TestKafka.uniquePrefix(
                "scale-" + test.getTestMethod().orElseThrow().getName());
        groupId = prefix + "llm";
        keyPrefix = TestRedis.uniqueKeyPrefix(prefix);
        producer = track(
                new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer()));
        admin = track(Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers())));
        scheduler = new ScheduledThreadPoolExecutor(2, NamedThreads.factory("test-scale-scheduler", true));
        scheduler.setRemoveOnCancelPolicy(true);
        llm = track(FakeLlmServer.builder().modelName(MODEL).build().start());
        RedisClient client = track(RedisClaimStore.connect(TestRedis.settings()));
        ingest = track(new RedisChatActivity(client, keyPrefix, Duration.ofMinutes(5)));
    }

    @AfterEach
    void tearDown() {
        List<Optional<Throwable>> failures = new ArrayList<>();
        for (Instance instance : instances) {
            instance.processor().close();
            failures.add(instance.processor().failure());
        }
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                throw new AssertionError("closing a test resource failed", e);
            }
        }
        scheduler.shutdownNow();
        failures.forEach(f -> assertTrue(f.isEmpty(), () -> "a processor failed: " + f.orElseThrow()));
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.push(resource);
        return resource;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Scale

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Mode.class,
            names = {"SHARE", "GROUP"})
    void twoInstancesAnswerEveryThoughtExactlyOnceWithOneModelCallEach(Mode mode) {
        // given two instances of one group, and a model that takes a moment for every reply
        topics = TestKafka.createTopics(prefix);
        llm.setDefault(Behavior.builder().latency(Duration.ofMillis(150)).build());
        Map<String, String> settings = Map.of(ScaleConfig.MODE, mode.name(), ScaleConfig.MAX_IN_FLIGHT, "2");
        Instance first = start(settings);
        Instance second = start(settings);
        awaitMembers(mode, mode == Mode.SHARE ? 4 : 2); // share: every consumer is a member

        // when four chats (on every partition) each write three thoughts, one after another
        List<Long> chats = chatsCoveringEveryPartition(4);
        Map<Long, List<Thought>> byChat = new LinkedHashMap<>();
        List<Thought> all = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            for (long chat : chats) {
                Thought t = thought(chat, 10L * (round + 1), "chat " + chat + " thought " + round);
                byChat.computeIfAbsent(chat, c -> new ArrayList<>()).add(t);
                all.add(t);
                produce(t);
            }
        }

        // then every thought is answered, once in all, with one model call each
        Await.until(
                "12 thoughts answered by the two instances",
                TIMEOUT,
                () -> first.outcome("answered") + second.outcome("answered") == all.size());
        Map<String, List<RecordedRequest>> requestsByText =
                llm.requests().stream().collect(Collectors.groupingBy(RecordedRequest::lastUserMessage));
        assertEquals(all.size(), llm.requestCount(), "one model call per thought");
        all.forEach(t -> assertEquals(1, requestsByText.get(t.text()).size(), () -> "calls for " + t.thoughtId()));
        List<ReplyPart> replies = values(readAll());
        for (Thought t : all) {
            String reply =
                    Responder.echo().reply(requestsByText.get(t.text()).get(0).messages());
            assertCompleteReply(
                    t, new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(reply), partsOf(replies, t));
        }
        assertEquals(0, first.outcome("duplicate") + second.outcome("duplicate"));
        if (mode == Mode.GROUP) {
            // a chat's thoughts reach the model in the order they were written
            List<String> arrival = llm.requests().stream()
                    .map(RecordedRequest::lastUserMessage)
                    .toList();
            byChat.forEach((chat, thoughts) -> assertEquals(
                    thoughts.stream().map(Thought::text).toList(),
                    arrival.stream()
                            .filter(text -> text.startsWith("chat " + chat + " "))
                            .toList(),
                    "order of chat " + chat));
            // and both instances took part: each owns partitions, and every partition has chats
            assertTrue(
                    first.outcome("answered") > 0 && second.outcome("answered") > 0,
                    () -> "both instances answered: " + first.outcome("answered") + " / " + second.outcome("answered"));
        }
    }

    @Test
    void inShareModeTwoInstancesWorkOnOnePartitionAtTheSameTime() {
        // given a single-partition thoughts topic and two instances with one consumer each
        topics = TestKafka.createTopics(prefix, 1);
        llm.setDefault(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .stallAfterTokens(STALL_TOKENS)
                .build());
        Map<String, String> settings = Map.of(ScaleConfig.MODE, "share", ScaleConfig.MAX_IN_FLIGHT, "1");
        Instance first = start(settings);
        Instance second = start(settings);
        awaitMembers(Mode.SHARE, 2);

        // when two chats write, and their replies take long (the model stalls mid-reply)
        produce(thought(101, 1, "a long question"));
        produce(thought(102, 1, "another long question"));

        // then both thoughts of the one partition are generated at once, one by each instance
        Await.until("both streams stalled mid-reply at the model", TIMEOUT, () -> llm.stalledResponses() == 2);
        Await.until(
                "one generation in flight in each instance",
                TIMEOUT,
                () -> first.processor().inFlight() == 1 && second.processor().inFlight() == 1);
        assertTrue(
                first.metrics().scrape().contains("thoughtstream_llm_in_flight 1"),
                first.metrics().scrape());
    }

    @Test
    void autoModeUsesAShareGroupWhereTheBrokerSupportsIt() {
        // given the test broker, which has share.version 1, and LLM_MODE=auto
        topics = TestKafka.createTopics(prefix);
        Instance instance = start(Map.of(ScaleConfig.MODE, "auto"));

        // when a thought arrives
        Thought t = thought(7, 1, "hello");
        produce(t);

        // then the instance runs in share mode and answers it
        assertEquals(Mode.SHARE, instance.processor().mode());
        Await.until("the thought answered", TIMEOUT, () -> instance.outcome("answered") == 1);
        Await.until("the share group has nothing left to deliver", TIMEOUT, () -> shareLag(partitionOf(7)) == 0);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Staleness

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Mode.class,
            names = {"SHARE", "GROUP"})
    void aThoughtWhoseChatHasANewerMessageIsSkippedWithoutAModelCall(Mode mode) {
        // given a chat whose message 12 was ingested after the thought answering messages 10..11 was closed
        topics = TestKafka.createTopics(prefix);
        Instance instance = start(Map.of(ScaleConfig.MODE, mode.name()));
        Thought stale = thought(31, 10, "first", "second");
        ingest.recordIngested(31, 12);
        Thought fresh = thought(31, 12, "third");

        // when both thoughts arrive
        RecordMetadata staleAt = produce(stale);
        produce(fresh);

        // then the stale one is skipped without a model call, and the fresh one is answered
        Await.until("the fresh thought answered", TIMEOUT, () -> instance.outcome("answered") == 1);
        Await.until("the stale thought skipped", TIMEOUT, () -> instance.outcome("skipped_stale") == 1);
        assertEquals(
                List.of("third"),
                llm.requests().stream().map(RecordedRequest::lastUserMessage).toList());
        assertTrue(partsOf(values(readAll()), stale).isEmpty(), "no reply to the stale thought");
        awaitFinished(mode, staleAt, 2);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Mode.class,
            names = {"SHARE", "GROUP"})
    void aNewerMessageCancelsTheGenerationOfItsChatOnlyAndItsReplyGetsNoFurtherPart(Mode mode) {
        // given two chats whose replies are being streamed slowly
        topics = TestKafka.createTopics(prefix);
        // Paced so that each reply takes several seconds after its first part, whichever starts first.
        llm.setDefault(Behavior.builder()
                .reply(String.join("\n\n", TWELVE_PARTS))
                .tokensPerSecond(6)
                .build());
        // Share mode: at least as many consumers as partitions, so chats on different partitions never wait for one
        // consumer (with a budget of 3, each of the 3 consumers takes one thought at a time; see
        // docs/llm-processor.md).
        Instance instance = start(Map.of(
                ScaleConfig.MODE, mode.name(), ScaleConfig.MAX_IN_FLIGHT, Integer.toString(TestKafka.PARTITIONS)));
        awaitMembers(mode, mode == Mode.SHARE ? TestKafka.PARTITIONS : 1);
        Thought cancelled = thought(41, 5, "tell me a story");
        Thought kept = thought(42, 5, "tell me another");
        produce(cancelled);
        produce(kept);
        Await.until("the first part of both replies on Kafka", TIMEOUT, () -> {
            List<ReplyPart> parts = values(readAll());
            return !partsOf(parts, cancelled).isEmpty() && !partsOf(parts, kept).isEmpty();
        });

        // when the first chat gets a newer message
        ingest.recordIngested(41, 6);

        // then its generation is cancelled (the model sees the stream abandoned), the other chat's goes on
        Await.until("the cancellation counted", TIMEOUT, () -> instance.outcome("cancelled_stale") == 1);
        Await.until("the model's stream abandoned", TIMEOUT, () -> llm.abandonedStreams() == 1);
        int partsWhenCancelled = partsOf(values(readAll()), cancelled).size();
        Await.until("the other chat answered in full", TIMEOUT, () -> instance.outcome("answered") == 1);
        List<ReplyPart> replies = values(readAll());
        assertCompleteReply(kept, TWELVE_PARTS, partsOf(replies, kept));
        // The kept reply streamed on for seconds meanwhile; the cancelled one got nothing more, and no last part.
        List<ReplyPart> cut = partsOf(replies, cancelled);
        assertEquals(partsWhenCancelled, cut.size(), () -> "parts after the cancellation: " + cut);
        assertTrue(cut.size() < TWELVE_PARTS.size(), () -> "the cancelled reply is incomplete: " + cut);
        cut.forEach(p -> assertFalse(p.last(), () -> "a cancelled reply has no last part: " + cut));
        assertEquals(2, llm.requestCount());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Idempotence

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Mode.class,
            names = {"SHARE", "GROUP"})
    void aCrashMidGenerationLeavesTheClaimSoTheSurvivorGeneratesOnceAfterItsTtlAndARedeliveryMakesNoCall(Mode mode) {
        // given two instances; the first model call stalls mid-reply, later ones answer at once
        topics = TestKafka.createTopics(prefix);
        llm.enqueue(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .stallAfterTokens(STALL_TOKENS)
                .build());
        llm.setDefault(Behavior.replying(FOUR_PARAGRAPHS));
        Map<String, String> settings = Map.of(
                ScaleConfig.MODE,
                mode.name(),
                ScaleConfig.MAX_IN_FLIGHT,
                "1",
                LlmConfig.REPLY_TIMEOUT_MS,
                "8000",
                ScaleConfig.CLAIM_TTL_MS,
                "9000");
        Instance first = start(settings);
        Instance second = start(settings);
        awaitMembers(mode, 2);
        Thought t = thought(51, 3, "count to four");
        produce(t);
        Await.until(
                "part 0 of the first attempt on Kafka",
                TIMEOUT,
                () -> partsOf(values(readAll()), t).size() == 1);
        Instance crashed = first.processor().inFlight() == 1 ? first : second;
        Instance survivor = crashed == first ? second : first;
        assertEquals(1, crashed.processor().inFlight(), "the instance generating");

        // when that instance dies without cleaning up (its claim stays in Redis)
        crashed.processor().halt();

        // then the survivor finds the claim, waits for its TTL, and generates the reply once more, in full
        Await.until("the survivor answered", TIMEOUT, () -> survivor.outcome("answered") == 1);
        assertTrue(survivor.retried("claimed_elsewhere") >= 1, "the dead instance's claim held the thought back");
        assertEquals(2, llm.requestCount(), "the model was called by the crashed attempt and the survivor only");
        List<ReplyPart> parts = partsOf(values(readAll()), t);
        assertEquals(
                new ReplyPart(
                        ReplyPart.SCHEMA_VERSION,
                        ReplyPart.replyIdFor(t.thoughtId()),
                        t.thoughtId(),
                        51,
                        t.lastMessageId(),
                        0,
                        false,
                        "One.",
                        parts.get(0).createdAtMs(),
                        t.lastWrittenAtMs()),
                parts.get(0),
                "the crashed attempt's part stays (the emitter's part claims drop its second copy)");
        assertCompleteReply(t, FOUR_PARTS, parts.subList(1, parts.size()));

        // and when the same thought is delivered again, the claim says done: no model call
        produce(t);
        Await.until("the redelivery recognised", TIMEOUT, () -> survivor.outcome("duplicate") == 1);
        assertEquals(2, llm.requestCount(), "no call for the redelivery");
        assertEquals(5, partsOf(values(readAll()), t).size(), "no part for the redelivery");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Failures

    @Test
    void inShareModeAThoughtThatNeverFinishesIsDeadLetteredOnItsLastDeliveryWithoutAModelCall() {
        // given a model that stalls every reply, and a delivery limit of 3
        topics = TestKafka.createTopics(prefix);
        llm.setDefault(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .stallAfterTokens(STALL_TOKENS)
                .build());
        Map<String, String> settings =
                Map.of(ScaleConfig.MODE, "share", ScaleConfig.MAX_IN_FLIGHT, "1", ScaleConfig.MAX_DELIVERIES, "3");
        Thought poison = thought(61, 1, "a thought nobody finishes");
        RecordMetadata at = produce(poison);

        // when two instances in turn take it and stop before finishing it (each release counts a delivery)
        for (int delivery = 1; delivery <= 2; delivery++) {
            Instance instance = start(settings);
            int calls = delivery;
            Await.until("model call " + calls, TIMEOUT, () -> llm.requestCount() == calls);
            instance.processor().close();
        }
        Instance third = start(settings);

        // then the third delivery goes to the dead-letter topic, with no model call, and is not delivered again
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetters(1).get(0);
        assertTrue(
                DeadLetters.header(dead.headers(), DeadLetters.REASON).contains("delivered 3 times"),
                () -> DeadLetters.header(dead.headers(), DeadLetters.REASON));
        assertDeadLetterOf(dead, at, poison);
        Await.until("the dead letter counted", TIMEOUT, () -> third.outcome("dead_lettered") == 1);
        assertEquals(1, third.deadLetters());
        assertEquals(2, llm.requestCount(), "the last delivery never reached the model");
        Await.until("the share group has nothing left to deliver", TIMEOUT, () -> shareLag(partitionOf(61)) == 0);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Mode.class,
            names = {"SHARE", "GROUP"})
    void aFailedGenerationIsApologisedForAndDeadLetteredWithTheErrorAndTheThoughtIsFinished(Mode mode) {
        // given a model that fails every call
        topics = TestKafka.createTopics(prefix);
        llm.setDefault(Behavior.failing(500));
        Instance instance = start(Map.of(ScaleConfig.MODE, mode.name()));
        Thought t = thought(71, 1, "are you there?");

        // when a thought arrives
        RecordMetadata at = produce(t);

        // then the person gets the apology, and the thought goes to the dead-letter topic with the error
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetters(1).get(0);
        assertDeadLetterOf(dead, at, t);
        String reason = DeadLetters.header(dead.headers(), DeadLetters.REASON);
        assertTrue(reason != null && !reason.isBlank(), "the error is in the headers");
        assertEquals(
                ReplyPart.replyIdFor(t.thoughtId()),
                DeadLetters.header(dead.headers(), ThoughtHandler.HEADER_REPLY_ID));
        Await.until("the failure counted", TIMEOUT, () -> instance.outcome("failed") == 1);
        assertEquals(1, instance.deadLetters());
        assertCompleteReply(t, List.of(APOLOGY), partsOf(values(readAll()), t));
        awaitFinished(mode, at, 1);
    }

    @Test
    void withRedisUnreachableTheProcessorAnswersAnywayAndCountsTheErrors() throws IOException {
        // given an instance whose claims and staleness signal point at a port nobody listens on
        topics = TestKafka.createTopics(prefix);
        Instance instance = start(Map.of(ScaleConfig.MODE, "group"), unreachableRedis());
        Thought t = thought(81, 1, "is anyone there?");

        // when a thought arrives
        produce(t);

        // then it is answered (fail open), and each failed Redis call is counted
        Await.until("the thought answered", TIMEOUT, () -> instance.outcome("answered") == 1);
        assertEquals(1, llm.requestCount());
        assertTrue(
                instance.redisErrors() >= 3,
                () -> "staleness check, claim and done marker failed: " + instance.redisErrors());
        assertCompleteReply(
                t,
                new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS)
                        .split(Responder.echo().reply(llm.requests().get(0).messages())),
                partsOf(values(readAll()), t));
    }

    @Test
    void withFailOpenOffAThoughtWaitsWhileRedisIsDownAndIsAnsweredOnceItIsBack() {
        // given an instance on a Redis of its own, which then stops
        topics = TestKafka.createTopics(prefix);
        RedisServer own = RedisServer.start(0);
        int port = own.port();
        RedisSettings settings = RedisSettings.from(
                Config.of(Map.of(RedisSettings.URL, own.url().toString(), "REDIS_TIMEOUT_MS", "300")));
        Instance instance = start(Map.of(ScaleConfig.MODE, "group", ScaleConfig.REDIS_OUTAGE, "fail-closed"), settings);
        own.close();

        // when a thought arrives while Redis is down
        produce(thought(91, 1, "hello?"));

        // then no model is called while the claim cannot be checked
        Await.until(
                "the claim attempt failed and is waiting", TIMEOUT, () -> instance.retried("redis_unavailable") >= 2);
        assertEquals(0, llm.requestCount());

        // and once Redis is back, the thought is answered
        track(RedisServer.start(port));
        Await.until("the thought answered", TIMEOUT, () -> instance.outcome("answered") == 1);
        assertEquals(1, llm.requestCount());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Group mode: chats in parallel, offsets contiguous

    @Test
    void inGroupModeASlowChatHoldsUpNeitherAnotherChatOfItsPartitionNorMoreThanItsOwnOffset() {
        // given one instance; the first model call stalls until the reply timeout ends it
        topics = TestKafka.createTopics(prefix);
        llm.enqueue(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .stallAfterTokens(STALL_TOKENS)
                .build());
        llm.setDefault(Behavior.replying(FOUR_PARAGRAPHS));
        Instance instance = start(
                Map.of(ScaleConfig.MODE, "group", ScaleConfig.MAX_IN_FLIGHT, "2", LlmConfig.REPLY_TIMEOUT_MS, "6000"));
        List<Long> samePartition = chatsOnOnePartition(2);
        Thought slow = thought(samePartition.get(0), 1, "a slow one");
        Thought quick = thought(samePartition.get(1), 1, "a quick one");
        RecordMetadata slowAt = produce(slow);
        Await.until("the slow thought at the model", TIMEOUT, () -> llm.requestCount() == 1);

        // when another chat of the same partition writes
        RecordMetadata quickAt = produce(quick);
        assertEquals(slowAt.partition(), quickAt.partition());

        // then it is answered while the slow one still stalls, and the commit stops before the slow one
        Await.until("the quick thought answered", TIMEOUT, () -> instance.outcome("answered") == 1);
        assertEquals(1, llm.stalledResponses(), "the slow reply is still stalled");
        assertCompleteReply(quick, FOUR_PARTS, partsOf(values(readAll()), quick));
        OptionalLong committed = committedOffset(slowAt);
        assertTrue(
                committed.isEmpty() || committed.getAsLong() <= slowAt.offset(),
                () -> "committed past the unfinished thought at " + slowAt.offset() + ": " + committed);

        // and once the reply timeout ends the slow one, both are committed
        awaitCommitted(quickAt);
        assertCompleteReply(slow, List.of("One.", "Two"), partsOf(values(readAll()), slow));
    }

    @Test
    void inGroupModeARebalanceCancelsTheGenerationOfTheMovedPartitionAndItsNewOwnerAnswersItAtOnce() {
        // given one instance generating a thought on every partition, all three stalled mid-reply
        topics = TestKafka.createTopics(prefix);
        for (int i = 0; i < TestKafka.PARTITIONS; i++) {
            llm.enqueue(Behavior.builder()
                    .reply(FOUR_PARAGRAPHS)
                    .stallAfterTokens(STALL_TOKENS)
                    .build());
        }
        llm.setDefault(Behavior.replying(FOUR_PARAGRAPHS));
        Map<String, String> settings = Map.of(
                ScaleConfig.MODE,
                "group",
                ScaleConfig.MAX_IN_FLIGHT,
                Integer.toString(TestKafka.PARTITIONS),
                LlmConfig.REPLY_TIMEOUT_MS,
                "8000");
        Instance first = start(settings);
        List<Thought> thoughts = new ArrayList<>();
        for (long chat : chatsCoveringEveryPartition(TestKafka.PARTITIONS)) {
            Thought t = thought(chat, 1, "question of chat " + chat);
            thoughts.add(t);
            produce(t);
        }
        Await.until("three replies stalled", TIMEOUT, () -> llm.stalledResponses() == TestKafka.PARTITIONS);

        // when a second instance joins and takes one partition over (cooperative: only that one is revoked)
        Instance second = start(settings);

        // then the first instance cancels that partition's generation and releases its claim, so the new owner
        // answers the thought at once (no wait for the claim's TTL), in full, under the same reply id
        Await.until("the new owner answered", TIMEOUT, () -> second.outcome("answered") == 1);
        assertEquals(1, first.retried("cancelled"), "one generation cancelled by the rebalance");
        assertEquals(0, second.retried("claimed_elsewhere"), "the claim was released, not left to expire");
        assertEquals(TestKafka.PARTITIONS + 1, llm.requestCount());
        Thought moved = thoughts.stream()
                .filter(t -> partsOf(values(readAll()), t).stream()
                                .filter(ReplyPart::last)
                                .count()
                        == 1)
                .findFirst()
                .orElseThrow();
        List<ReplyPart> parts = partsOf(values(readAll()), moved);
        assertEquals("One.", parts.get(0).text(), "the cancelled attempt's part stays");
        assertCompleteReply(moved, FOUR_PARTS, parts.subList(1, parts.size()));

        // and the two partitions that stayed finish with the first instance (cut off by the reply timeout)
        Await.until(
                "the stalled replies ended by the reply timeout",
                TIMEOUT,
                () -> first.outcome("answered") == TestKafka.PARTITIONS - 1);
        for (Thought t : thoughts) {
            if (t != moved) {
                assertCompleteReply(t, List.of("One.", "Two"), partsOf(values(readAll()), t));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    private Instance start(Map<String, String> overrides) {
        return start(overrides, TestRedis.settings());
    }

    /** Builds and starts an instance the way {@link Main} does: from configuration, with its own Redis client. */
    private Instance start(Map<String, String> overrides, RedisSettings redis) {
        Map<String, String> env = new HashMap<>();
        env.put(LlmConfig.PROVIDER, "ollama");
        env.put(LlmConfig.API_URL, llm.ollamaBaseUrl());
        env.put(LlmConfig.MODEL, MODEL);
        env.put(LlmConfig.TIMEOUT_MS, "10000");
        env.put(LlmConfig.APOLOGY_TEXT, APOLOGY);
        env.put(LlmConfig.GROUP_ID, groupId);
        env.putAll(overrides);
        Config config = TestKafka.config(prefix, TestKafka.PARTITIONS).with(env);
        KafkaSettings kafka = KafkaSettings.from(config);
        LlmConfig llmConfig = LlmConfig.from(config);
        StreamingChatModel model = ModelFactory.streaming(llmConfig, scheduler);
        RedisClient client = track(RedisClaimStore.connect(redis));
        RedisClaimStore claims = new RedisClaimStore(client, keyPrefix);
        RedisChatActivity activity = track(new RedisChatActivity(client, keyPrefix, Duration.ofMinutes(5)));
        try {
            activity.startSubscriber(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        Metrics metrics = new Metrics();
        LlmProcessor processor = new LlmProcessor(
                kafka,
                Topics.withPrefix(kafka.topicPrefix()),
                llmConfig,
                ReplyGenerator.from(llmConfig, model, scheduler, Clock.systemUTC()),
                activity,
                claims,
                metrics,
                Clock.systemUTC());
        Instance instance = new Instance(processor, metrics, activity, claims);
        instances.add(instance);
        processor.start();
        return instance;
    }

    private static RedisSettings unreachableRedis() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        return RedisSettings.from(
                Config.of(Map.of(RedisSettings.URL, "redis://127.0.0.1:" + closedPort, "REDIS_TIMEOUT_MS", "200")));
    }

    /** Waits until the group has {@code count} members (share: consumers), each with partitions assigned. */
    private void awaitMembers(Mode mode, int count) {
        Await.until(count + " members with assignments in " + mode + " group " + groupId, TIMEOUT, () -> {
            try {
                if (mode == Mode.SHARE) {
                    var members = admin.describeShareGroups(List.of(groupId))
                            .describedGroups()
                            .get(groupId)
                            .get(10, TimeUnit.SECONDS)
                            .members();
                    return members.size() == count
                            && members.stream()
                                    .allMatch(m ->
                                            !m.assignment().topicPartitions().isEmpty());
                }
                var members = admin.describeConsumerGroups(List.of(groupId))
                        .describedGroups()
                        .get(groupId)
                        .get(10, TimeUnit.SECONDS)
                        .members();
                return members.size() == count
                        && members.stream()
                                .allMatch(m -> !m.assignment().topicPartitions().isEmpty());
            } catch (ExecutionException e) {
                return false; // the group does not exist yet
            } catch (TimeoutException | InterruptedException e) {
                throw new AssertionError("cannot describe group " + groupId, e);
            }
        });
    }

    /** The thought at {@code at} and those before it are finished: committed (group) or acknowledged (share). */
    private void awaitFinished(Mode mode, RecordMetadata at, int recordsOnPartition) {
        if (mode == Mode.GROUP) {
            TopicPartition tp = new TopicPartition(at.topic(), at.partition());
            Await.until(
                    "group commits " + recordsOnPartition + " records of " + tp,
                    TIMEOUT,
                    () -> committedOffset(at).orElse(-1) >= recordsOnPartition);
        } else {
            Await.until(
                    "the share group has nothing left to deliver",
                    TIMEOUT,
                    () -> shareLag(new TopicPartition(at.topic(), at.partition())) == 0);
        }
    }

    private void awaitCommitted(RecordMetadata at) {
        Await.until(
                "group " + groupId + " commits past offset " + at.offset() + " of partition " + at.partition(),
                TIMEOUT,
                () -> committedOffset(at).orElse(-1) == at.offset() + 1);
    }

    private OptionalLong committedOffset(RecordMetadata at) {
        TopicPartition tp = new TopicPartition(at.topic(), at.partition());
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata()
                    .get(10, TimeUnit.SECONDS);
            OffsetAndMetadata offset = offsets.get(tp);
            return offset == null ? OptionalLong.empty() : OptionalLong.of(offset.offset());
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("cannot read the offsets of group " + groupId, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Records of {@code tp} the share group has not finished (delivered or not); -1 when not known yet. */
    private long shareLag(TopicPartition tp) {
        try {
            SharePartitionOffsetInfo info = admin.listShareGroupOffsets(
                            Map.of(groupId, new ListShareGroupOffsetsSpec().topicPartitions(List.of(tp))))
                    .partitionsToOffsetInfo(groupId)
                    .get(10, TimeUnit.SECONDS)
                    .get(tp);
            return info == null ? -1 : info.lag().orElse(-1L);
        } catch (ExecutionException | TimeoutException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private TopicPartition partitionOf(long chat) {
        return new TopicPartition(topics.thoughts().name(), partitionFor(chat, TestKafka.PARTITIONS));
    }

    private static int partitionFor(long chat, int partitions) {
        byte[] key = new LongSerializer().serialize("any", chat);
        return Utils.toPositive(Utils.murmur2(key)) % partitions;
    }

    /** {@code count} chat ids whose thoughts land on every partition between them. */
    private static List<Long> chatsCoveringEveryPartition(int count) {
        Map<Integer, Long> onePerPartition = new LinkedHashMap<>();
        List<Long> chats = new ArrayList<>();
        for (long chat = 1000; chats.size() < count; chat++) {
            boolean newPartition = onePerPartition.putIfAbsent(partitionFor(chat, TestKafka.PARTITIONS), chat) == null;
            if (newPartition || onePerPartition.size() == TestKafka.PARTITIONS) {
                chats.add(chat);
            }
        }
        return chats;
    }

    /** {@code count} chat ids whose thoughts land on the same partition. */
    private static List<Long> chatsOnOnePartition(int count) {
        Map<Integer, List<Long>> byPartition = new HashMap<>();
        for (long chat = 2000; ; chat++) {
            List<Long> chats =
                    byPartition.computeIfAbsent(partitionFor(chat, TestKafka.PARTITIONS), p -> new ArrayList<>());
            chats.add(chat);
            if (chats.size() == count) {
                return chats;
            }
        }
    }

    private static Thought thought(long chatId, long firstMessageId, String... texts) {
        List<ThoughtMessage> messages = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            messages.add(new ThoughtMessage(firstMessageId + i, texts[i], 10_000L + i));
        }
        return new Thought(
                Thought.SCHEMA_VERSION,
                Thought.idFor(chatId, firstMessageId),
                chatId,
                messages,
                firstMessageId,
                firstMessageId + texts.length - 1,
                10_000L,
                12_000L,
                List.of());
    }

    private RecordMetadata produce(Thought thought) {
        String topic = topics.thoughts().name();
        try {
            return producer.send(topics.thoughts().record(thought.chatId(), thought))
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("cannot produce to " + topic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while producing", e);
        }
    }

    private List<ConsumerRecord<Long, ReplyPart>> readAll() {
        return TopicReader.readAll(TestKafka.bootstrapServers(), topics.replies(), TIMEOUT);
    }

    private List<ConsumerRecord<byte[], byte[]>> awaitDeadLetters(int count) {
        return TestKafka.awaitRecords(topics.deadLetters(), count, TIMEOUT);
    }

    private static List<ReplyPart> values(List<ConsumerRecord<Long, ReplyPart>> records) {
        return records.stream().map(ConsumerRecord::value).collect(Collectors.toList());
    }

    /** The parts answering {@code thought}, in the order they are on the topic (one chat: one partition). */
    private static List<ReplyPart> partsOf(List<ReplyPart> parts, Thought thought) {
        String replyId = ReplyPart.replyIdFor(thought.thoughtId());
        return parts.stream().filter(p -> p.replyId().equals(replyId)).collect(Collectors.toList());
    }

    /** {@code parts} are one complete reply to {@code thought}: its ids, seq 0.., the last flag on the final one. */
    private static void assertCompleteReply(Thought thought, List<String> expectedTexts, List<ReplyPart> parts) {
        assertEquals(expectedTexts, parts.stream().map(ReplyPart::text).toList(), "reply of " + thought.thoughtId());
        for (int i = 0; i < parts.size(); i++) {
            ReplyPart part = parts.get(i);
            assertEquals(ReplyPart.replyIdFor(thought.thoughtId()), part.replyId());
            assertEquals(thought.chatId(), part.chatId());
            assertEquals(thought.lastMessageId(), part.lastMessageId());
            assertEquals(i, part.seq(), () -> "seq order: " + parts);
            assertEquals(i == parts.size() - 1, part.last(), () -> "exactly one last part, at the end: " + parts);
        }
    }

    private void assertDeadLetterOf(ConsumerRecord<byte[], byte[]> dead, RecordMetadata source, Thought thought) {
        String topic = topics.thoughts().name();
        assertArrayEquals(
                topics.thoughts().valueSerde().serializer().serialize(topic, thought),
                dead.value(),
                "the original value bytes");
        assertEquals(topic, DeadLetters.header(dead.headers(), DeadLetters.SOURCE_TOPIC));
        assertEquals(Long.toString(source.offset()), DeadLetters.header(dead.headers(), DeadLetters.SOURCE_OFFSET));
        assertEquals(LlmProcessor.SERVICE, DeadLetters.header(dead.headers(), DeadLetters.SERVICE));
        assertEquals(thought.thoughtId(), DeadLetters.header(dead.headers(), ThoughtHandler.HEADER_THOUGHT_ID));
    }
}
