package dev.thoughtstream.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeout;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.telegram.TelegramLimits;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.generate.PartSplitter;
import dev.thoughtstream.llm.generate.ReplyGenerator;
import dev.thoughtstream.llm.model.ModelFactory;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.llm.Behavior;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.llm.LlmMessage;
import dev.thoughtstream.testkit.llm.RecordedRequest;
import dev.thoughtstream.testkit.llm.Responder;
import dev.thoughtstream.testkit.llm.Tokens;
import dev.thoughtstream.testkit.llm.WireFormat;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
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
 * The llm-processor end to end: testkit's real Kafka broker, the real LangChain4j streaming clients built by
 * {@link ModelFactory} from configuration as {@link Main} builds them, talking HTTP to {@link FakeLlmServer} in the
 * OpenAI (SSE) and Ollama (NDJSON) wire formats, in mode {@code group} (offsets are what these tests look at; the
 * share mode and the scale, staleness and idempotence behaviour are {@link LlmProcessorScaleTest}'s). Claims and the
 * staleness signal are on real Redis. Every test has its own topics, consumer group and Redis keys.
 */
class LlmProcessorKafkaTest {
    /** Generous: every awaited event takes well under a second on an idle machine. */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static final long CHAT = 4242L;
    private static final String MODEL = "test-model";
    private static final String API_KEY = "sk-test-llm-kafka";
    private static final String SYSTEM_PROMPT = "You are a test companion. Answer in short paragraphs.";
    private static final String APOLOGY = "Sorry, no answer right now.";
    private static final List<ContextMessage> CONTEXT = List.of(
            new ContextMessage(ContextMessage.Role.USER, "I started a balcony garden.", 1_000L),
            new ContextMessage(ContextMessage.Role.ASSISTANT, "How lovely! What are you growing?", 2_000L));
    private static final String REPLY =
            "Tomatoes, nice!\n\nThey love sun and steady water.\n\nWhich kind did you pick?";
    /**
     * One sentence per paragraph, one token per word or full stop, the paragraph break travelling with the next word.
     * A part is sent once text after its blank line arrives, so a stall after {@link #FIRST_PART_TOKENS} tokens
     * ({@code One . \n\nTwo}) leaves exactly part 0 on Kafka, and one after {@link #STALL_TOKENS} tokens
     * ({@code One . \n\nTwo . \n\nThree}) leaves parts 0 and 1, with {@code Three} unfinished.
     */
    private static final String FOUR_PARAGRAPHS = "One.\n\nTwo.\n\nThree.\n\nFour.";

    private static final int FIRST_PART_TOKENS = 3;
    private static final int STALL_TOKENS = 5;
    /** For tests about what one failed model call leads to: no retry hides it. */
    private static final Map<String, String> NO_RETRIES = Map.of(LlmConfig.MAX_ATTEMPTS, "1");

    /** How the processor reaches the model; each builds the real LangChain4j client of its wire format. */
    enum Wire {
        OPENAI("openai", WireFormat.OPENAI, API_KEY),
        OPENAI_COMPATIBLE_WITHOUT_KEY("openai", WireFormat.OPENAI, null),
        OLLAMA("ollama", WireFormat.OLLAMA, null);

        final String provider;
        final WireFormat format;
        final String apiKey;

        Wire(String provider, WireFormat format, String apiKey) {
            this.provider = provider;
            this.format = format;
            this.apiKey = apiKey;
        }

        String baseUrl(FakeLlmServer server) {
            return format == WireFormat.OPENAI ? server.openAiBaseUrl() : server.ollamaBaseUrl();
        }
    }

    private final List<LlmProcessor> processors = new ArrayList<>();
    private ScheduledThreadPoolExecutor scheduler;
    private KafkaProducer<byte[], byte[]> producer;
    private Admin admin;
    private FakeLlmServer llm;
    private String prefix;
    private Topics topics;
    private String groupId;
    private RedisClaimStore claims;
    private RedisChatActivity activity;

    @BeforeEach
    void setUp(TestInfo test) {
        prefix = TestKafka.uniquePrefix(
                "llm-" + test.getTestMethod().orElseThrow().getName());
        String keyPrefix = TestRedis.uniqueKeyPrefix(prefix);
        RedisClient redis = RedisClaimStore.connect(TestRedis.settings());
        claims = new RedisClaimStore(redis, keyPrefix); // closing it closes the client both use
        activity = new RedisChatActivity(redis, keyPrefix, Duration.ofMinutes(5));
        topics = TestKafka.createTopics(prefix);
        groupId = prefix + "llm-processor";
        producer = new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()));
        scheduler = new ScheduledThreadPoolExecutor(2, NamedThreads.factory("test-llm-scheduler", true));
        scheduler.setRemoveOnCancelPolicy(true);
    }

    @AfterEach
    void tearDown() {
        List<Optional<Throwable>> failures = new ArrayList<>();
        for (LlmProcessor processor : processors) {
            processor.close();
            failures.add(processor.failure());
        }
        if (llm != null) {
            llm.close();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(10));
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(10));
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        if (activity != null) {
            activity.close();
        }
        if (claims != null) {
            claims.close();
        }
        failures.forEach(f -> assertTrue(f.isEmpty(), () -> "a processor's poll loop failed: " + f.orElseThrow()));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Answering

    @ParameterizedTest(name = "{0}")
    @EnumSource(Wire.class)
    void aThoughtIsAnsweredWithItsRepliesPartsInSeqOrderEndingInExactlyOneLastPart(Wire wire) {
        // given
        startFakeLlm(wire);
        llm.enqueue(Behavior.replying(REPLY));
        startProcessor(wire, Map.of());
        Thought thought = thought(CHAT, 10, CONTEXT, "I planted tomatoes today", "on the balcony");

        // when
        RecordMetadata at = produce(thought);

        // then
        List<String> expected = new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(REPLY);
        assertEquals(3, expected.size(), "the reply is meant to have several parts");
        awaitReplyRecords(expected.size());
        // The commit follows the acknowledgement of every part, so after it the topic holds the whole reply.
        awaitCommitted("the answered thought", at);
        List<ConsumerRecord<Long, ReplyPart>> records = readAll(topics.replies());
        records.forEach(r -> assertEquals(CHAT, r.key(), "replies are keyed by chat id"));
        records.forEach(r -> assertEquals(at.partition(), r.partition(), "co-partitioned with the chat's thoughts"));
        assertCompleteReply(thought, expected, values(records));

        RecordedRequest request = single(llm.requests());
        assertEquals(wire.format, request.format());
        assertTrue(request.stream(), "the processor streams");
        assertEquals(MODEL, request.model());
        assertEquals(wire.apiKey != null, request.authorizationPresent(), "an API key is sent when one is configured");
        assertEquals(
                List.of(
                        LlmMessage.system(SYSTEM_PROMPT),
                        LlmMessage.user("I started a balcony garden."),
                        LlmMessage.assistant("How lovely! What are you growing?"),
                        LlmMessage.user("I planted tomatoes today\non the balcony")),
                request.messages());
    }

    @Test
    void thoughtsOfChatsOnEveryPartitionAreEachAnsweredWithTheFakesOwnReply() {
        // given one chat per partition, and the fake's default responder (its reply depends on the thought's text)
        startFakeLlm(Wire.OLLAMA);
        startProcessor(Wire.OLLAMA, Map.of());
        List<Thought> thoughts = new ArrayList<>();
        for (long chat : chatsOnEveryPartition()) {
            thoughts.add(thought(chat, 1, CONTEXT, "Chat " + chat + " says hi", "twice"));
        }

        // when
        List<RecordMetadata> at = thoughts.stream().map(this::produce).collect(Collectors.toList());

        // then
        assertEquals(
                TestKafka.PARTITIONS,
                at.stream().map(RecordMetadata::partition).distinct().count(),
                "one thought on every partition");
        for (RecordMetadata thoughtAt : at) {
            awaitCommitted("the thought on partition " + thoughtAt.partition(), thoughtAt);
        }
        List<ConsumerRecord<Long, ReplyPart>> records = readAll(topics.replies());
        Map<String, RecordedRequest> requestByText =
                llm.requests().stream().collect(Collectors.toMap(RecordedRequest::lastUserMessage, r -> r));
        assertEquals(thoughts.size(), requestByText.size(), "one model call per thought");
        for (Thought thought : thoughts) {
            String fakeReply =
                    Responder.echo().reply(requestByText.get(thought.text()).messages());
            assertCompleteReply(
                    thought,
                    new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(fakeReply),
                    partsOf(records, thought));
            records.stream()
                    .filter(r -> r.value().chatId() == thought.chatId())
                    .forEach(r -> assertEquals(thought.chatId(), r.key(), "replies are keyed by chat id"));
        }
    }

    @Test
    void aPacedMultiParagraphReplyArrivesInOrderInPartsNoLongerThanTheLimit() {
        // given
        String reply = "Good morning! I hope you slept well. The weather looks fine today.\n\n"
                + "Take a jacket anyway, the wind can be sharp by the river.\n\n"
                + "Have a lovely walk.";
        startFakeLlm(Wire.OLLAMA);
        llm.enqueue(Behavior.builder().reply(reply).tokensPerSecond(200).build());
        startProcessor(Wire.OLLAMA, Map.of(LlmConfig.MAX_PART_CHARS, "40"));
        Thought thought = thought(CHAT, 20, List.of(), "Going for a walk by the river");

        // when
        produce(thought);

        // then
        List<String> expected = new PartSplitter(40).split(reply);
        assertTrue(expected.size() >= 5, () -> "the limit is meant to split paragraphs too: " + expected);
        List<ReplyPart> parts = values(awaitReplyRecords(expected.size()));
        assertCompleteReply(thought, expected, parts);
        parts.forEach(p -> assertTrue(p.text().length() <= 40, () -> "part over the limit: " + p));
        assertEquals(Tokens.count(reply), llm.tokensStreamed(), "the reply was streamed token by token");
    }

    @Test
    void replyPartsReachKafkaWhileTheModelIsStillStreaming() {
        // given a model that sends the first paragraphs, then stays silent with the stream open
        startFakeLlm(Wire.OPENAI);
        llm.enqueue(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .tokensPerSecond(100)
                .stallAfterTokens(FIRST_PART_TOKENS)
                .build());
        startProcessor(Wire.OPENAI, Map.of());
        Thought thought = thought(CHAT, 30, List.of(), "Count to four, slowly");

        // when
        produce(thought);

        // then: the first part is on the topic although the model has not finished (and never will)
        ReplyPart first = single(values(awaitReplyRecords(1)));
        assertEquals(
                new ReplyPart(
                        ReplyPart.SCHEMA_VERSION,
                        ReplyPart.replyIdFor(thought.thoughtId()),
                        thought.thoughtId(),
                        CHAT,
                        thought.lastMessageId(),
                        0,
                        false,
                        "One.",
                        first.createdAtMs(),
                        thought.lastWrittenAtMs()),
                first);
        Await.until("the model's stream stalls, open and unfinished", TIMEOUT, () -> llm.stalledResponses() == 1);
        assertEquals(0, llm.completedStreams(), "the model's stream has not ended");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Failures

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Wire.class,
            names = {"OPENAI", "OLLAMA"})
    void aModelErrorIsAnsweredWithOneApologyAndTheNextThoughtIsAnsweredNormally(Wire wire) {
        // given
        startFakeLlm(wire);
        llm.enqueue(Behavior.failing(500));
        llm.enqueue(Behavior.replying(REPLY));
        startProcessor(wire, NO_RETRIES);
        Thought failed = thought(CHAT, 40, CONTEXT, "Are you there?");
        Thought next = thought(CHAT, 42, CONTEXT, "Hello again");

        // when
        produce(failed);
        RecordMetadata nextAt = produce(next);

        // then
        awaitCommitted("both thoughts", nextAt);
        List<ConsumerRecord<Long, ReplyPart>> records = readAll(topics.replies());
        assertCompleteReply(failed, List.of(APOLOGY), partsOf(records, failed));
        assertCompleteReply(
                next, new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(REPLY), partsOf(records, next));
        assertEquals(2, llm.requestCount());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Wire.class,
            names = {"OPENAI", "OLLAMA"})
    void aStreamCutOffMidReplyEndsWithTheApologyAfterThePartsThatArrived(Wire wire) {
        // given a model that drops the connection in the middle of the third paragraph
        startFakeLlm(wire);
        llm.enqueue(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .tokensPerSecond(100)
                .cutOffAfterTokens(STALL_TOKENS)
                .build());
        llm.enqueue(Behavior.replying(REPLY));
        startProcessor(wire, NO_RETRIES);
        Thought cut = thought(CHAT, 50, List.of(), "Count to four");
        Thought next = thought(CHAT, 51, List.of(), "Thanks");

        // when
        produce(cut);
        RecordMetadata nextAt = produce(next);

        // then: the reply is a prefix of the complete paragraphs (the client may lose tokens it had not read when
        // the connection broke), closed by the apology; the stream's unfinished paragraph is never sent
        awaitCommitted("both thoughts", nextAt);
        List<ConsumerRecord<Long, ReplyPart>> records = readAll(topics.replies());
        List<ReplyPart> cutParts = partsOf(records, cut);
        List<String> texts = texts(cutParts);
        int arrived = texts.size() - 1;
        assertTrue(arrived <= 2, () -> "at most the two complete paragraphs arrived: " + texts);
        List<String> expected = new ArrayList<>(List.of("One.", "Two.").subList(0, arrived));
        expected.add(APOLOGY);
        assertCompleteReply(cut, expected, cutParts);
        assertCompleteReply(
                next, new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(REPLY), partsOf(records, next));
    }

    @Test
    void aStalledStreamIsEndedByTheReplyTimeoutWithWhatArrived() {
        // given a model that goes silent in the third paragraph and a short reply timeout
        startFakeLlm(Wire.OLLAMA);
        llm.enqueue(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .stallAfterTokens(STALL_TOKENS)
                .build());
        llm.enqueue(Behavior.replying(REPLY));
        startProcessor(Wire.OLLAMA, Map.of(LlmConfig.REPLY_TIMEOUT_MS, "3000"));
        Thought stalled = thought(CHAT, 60, List.of(), "Count to four");
        Thought next = thought(CHAT, 61, List.of(), "Thanks");

        // when
        produce(stalled);
        RecordMetadata nextAt = produce(next);

        // then: everything that arrived, the unfinished paragraph included, then the next thought's reply
        awaitCommitted("both thoughts", nextAt);
        List<ConsumerRecord<Long, ReplyPart>> records = readAll(topics.replies());
        assertCompleteReply(stalled, List.of("One.", "Two.", "Three"), partsOf(records, stalled));
        assertCompleteReply(
                next, new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(REPLY), partsOf(records, next));
        Await.until("the stalled stream is closed by the processor", TIMEOUT, () -> llm.abandonedStreams() == 1);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Wire.class,
            names = {"OPENAI", "OLLAMA"})
    void aModelThatNeverRespondsIsCutOffByTheClientTimeoutAndApologisedFor(Wire wire) {
        // given a model that never sends response headers, and a short HTTP timeout
        startFakeLlm(wire);
        llm.enqueue(Behavior.hanging());
        llm.enqueue(Behavior.replying(REPLY));
        startProcessor(wire, Map.of(LlmConfig.TIMEOUT_MS, "1000", LlmConfig.MAX_ATTEMPTS, "1"));
        Thought hung = thought(CHAT, 62, List.of(), "Hello?");
        Thought next = thought(CHAT, 63, List.of(), "Anyone?");

        // when
        produce(hung);
        RecordMetadata nextAt = produce(next);

        // then
        awaitCommitted("both thoughts", nextAt);
        List<ConsumerRecord<Long, ReplyPart>> records = readAll(topics.replies());
        assertCompleteReply(hung, List.of(APOLOGY), partsOf(records, hung));
        assertCompleteReply(
                next, new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(REPLY), partsOf(records, next));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Wire.class,
            names = {"OPENAI", "OLLAMA"})
    void aStreamThatStallsBeforeItsFirstTokenIsApologisedForWhenTheReplyTimeoutPasses(Wire wire) {
        // given a model that sends the response headers and then nothing, and a short reply timeout
        startFakeLlm(wire);
        llm.enqueue(Behavior.stallingAfter(0));
        llm.enqueue(Behavior.replying(REPLY));
        startProcessor(wire, Map.of(LlmConfig.REPLY_TIMEOUT_MS, "1000"));
        Thought stalled = thought(CHAT, 64, List.of(), "Hello?");
        Thought next = thought(CHAT, 65, List.of(), "Anyone?");

        // when
        produce(stalled);
        RecordMetadata nextAt = produce(next);

        // then
        awaitCommitted("both thoughts", nextAt);
        List<ConsumerRecord<Long, ReplyPart>> records = readAll(topics.replies());
        assertCompleteReply(stalled, List.of(APOLOGY), partsOf(records, stalled));
        assertCompleteReply(
                next, new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(REPLY), partsOf(records, next));
        // With no token LangChain4j gives no StreamingHandle; the HTTP client of ModelFactory closes the stream anyway.
        Await.until("the silent stream is closed by the processor", TIMEOUT, () -> llm.abandonedStreams() == 1);
    }

    @Test
    void unreadableRecordsGoToTheDeadLetterTopicAndTheFollowingThoughtIsStillAnswered() {
        // given
        startFakeLlm(Wire.OPENAI);
        llm.enqueue(Behavior.replying(REPLY));
        startProcessor(Wire.OPENAI, Map.of());
        byte[] chatKey = topics.thoughts()
                .keySerde()
                .serializer()
                .serialize(topics.thoughts().name(), CHAT);
        byte[] garbage = "{\"thoughtId\": oops".getBytes(StandardCharsets.UTF_8);
        byte[] shortKey = {1, 2, 3};
        Thought valid = thought(CHAT, 70, List.of(), "Still there?");
        byte[] validValue = topics.thoughts()
                .valueSerde()
                .serializer()
                .serialize(topics.thoughts().name(), valid);

        // when: two unreadable records, then a valid thought, all on the same partition
        RecordMetadata badValueAt = produceRaw(null, chatKey, garbage);
        RecordMetadata badKeyAt = produceRaw(badValueAt.partition(), shortKey, validValue);
        RecordMetadata validAt = produceRaw(badValueAt.partition(), chatKey, validValue);

        // then
        awaitCommitted("the dead letters and the valid thought", validAt);
        List<ConsumerRecord<byte[], byte[]>> dead = readAll(topics.deadLetters());
        assertEquals(2, dead.size(), "dead letters");
        // Dead letters keep the original key, so they may land on different partitions: match them by source.
        Map<String, ConsumerRecord<byte[], byte[]>> bySourceOffset = dead.stream()
                .collect(Collectors.toMap(d -> DeadLetters.header(d.headers(), DeadLetters.SOURCE_OFFSET), d -> d));
        assertDeadLetter(bySourceOffset.get(Long.toString(badValueAt.offset())), badValueAt, chatKey, garbage);
        assertDeadLetter(bySourceOffset.get(Long.toString(badKeyAt.offset())), badKeyAt, shortKey, validValue);
        assertCompleteReply(
                valid,
                new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(REPLY),
                values(readAll(topics.replies())));
        assertEquals(1, llm.requestCount(), "unreadable records never reach the model");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Offsets and lifecycle

    @Test
    void aThoughtInterruptedByCloseIsNotCommittedAndTheNextInstanceAnswersItAgainUnderTheSameReplyId() {
        // given a processor in the middle of a reply: part 0 is on Kafka, the model's stream stalls
        startFakeLlm(Wire.OLLAMA);
        llm.setDefault(Behavior.replying(FOUR_PARAGRAPHS));
        llm.enqueue(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .stallAfterTokens(FIRST_PART_TOKENS)
                .build());
        Map<String, String> settings = Map.of();
        LlmProcessor first = startProcessor(Wire.OLLAMA, settings);
        Thought thought = thought(CHAT, 80, CONTEXT, "Count to four for me");
        RecordMetadata at = produce(thought);
        ReplyPart firstAttempt = single(values(awaitReplyRecords(1)));
        assertEquals(0, firstAttempt.seq());

        // when
        first.close();

        // then: no commit covers the thought, and a new instance of the group answers it in full
        Await.until("the model's stream is closed", TIMEOUT, () -> llm.abandonedStreams() == 1);
        OptionalLong committed = committedOffset(partitionOf(at));
        assertTrue(
                committed.isEmpty() || committed.getAsLong() <= at.offset(),
                () -> "the interrupted thought at offset " + at.offset() + " was committed: " + committed);

        startProcessor(Wire.OLLAMA, settings);
        awaitCommitted("the thought answered by the second instance", at);
        List<ReplyPart> parts = partsOf(readAll(topics.replies()), thought);
        assertEquals(firstAttempt, parts.get(0), "the first attempt's part stays on the topic");
        // The same reply id and seqs again: the emitter's claims are what keep part 0 from being sent twice.
        assertCompleteReply(
                thought,
                new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(FOUR_PARAGRAPHS),
                parts.subList(1, parts.size()));
        assertEquals(2, llm.requestCount(), "the thought was asked twice");
    }

    @Test
    void closeDuringAGenerationReturnsPromptlyStopsTheModelAndLeavesNoThreadRunning() {
        // given a processor whose model stream stalls after the first parts
        startFakeLlm(Wire.OPENAI);
        llm.enqueue(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .stallAfterTokens(STALL_TOKENS)
                .build());
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        LlmProcessor processor = startProcessor(Wire.OPENAI, Map.of());
        produce(thought(CHAT, 90, List.of(), "Count to four"));
        awaitReplyRecords(1);
        assertTrue(processor.isRunning());

        // when: generous bound, far below the processor's own 30 s close guards, which must not be what ends it
        assertTimeout(Duration.ofSeconds(15), processor::close);

        // then
        assertFalse(processor.isRunning());
        assertTrue(processor.failure().isEmpty(), () -> "close is not a failure: " + processor.failure());
        Await.until("the model's stream is closed", TIMEOUT, () -> llm.abandonedStreams() == 1);
        Await.until(
                "no thread started by the processor still runs",
                TIMEOUT,
                () -> lingeringThreads(before).isEmpty());
    }

    @Test
    void closeOfAnIdleProcessorReturnsPromptlyAndLeavesNoThreadRunning() {
        // given a processor that has joined its group and polls an empty topic
        startFakeLlm(Wire.OLLAMA);
        llm.enqueue(Behavior.replying(REPLY));
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        LlmProcessor processor = startProcessor(Wire.OLLAMA, Map.of());
        RecordMetadata at = produce(thought(CHAT, 95, List.of(), "Hi"));
        awaitCommitted("the thought", at);

        // when
        assertTimeout(Duration.ofSeconds(15), processor::close);

        // then
        assertFalse(processor.isRunning());
        assertTrue(processor.failure().isEmpty(), () -> "close is not a failure: " + processor.failure());
        Await.until(
                "no thread started by the processor still runs",
                TIMEOUT,
                () -> lingeringThreads(before).isEmpty());
    }

    @Test
    void inGroupModeItIsNotReadyUntilItsGroupHasAssignedItsPartitionsAndItHasPolledSince() throws Exception {
        startFakeLlm(Wire.OPENAI);
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        try (KafkaConsumer<byte[], byte[]> holder =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            // given a member of the processor's group that holds every partition and then stops polling, so that
            // the group's next rebalance waits for it
            holder.subscribe(List.of(topics.thoughts().name()));
            Await.until("the holder's assignment", TIMEOUT, () -> {
                holder.poll(Duration.ofMillis(100));
                return holder.assignment().size() == TestKafka.PARTITIONS;
            });

            // when a processor starts and asks to join
            LlmProcessor processor = startProcessor(Wire.OPENAI, Map.of());
            Await.until(
                    "the group rebalancing for the processor",
                    TIMEOUT,
                    () -> groupState() == GroupState.PREPARING_REBALANCE);

            // then it runs, but is not ready: a thought written now would wait for the rebalance
            assertTrue(processor.isRunning());
            assertFalse(processor.isReady(), "not ready before its group has assigned it partitions");

            // when the holder leaves, then the processor becomes ready, holding partitions by then
            holder.close();
            Await.until("the processor ready", TIMEOUT, processor::isReady);
            ConsumerGroupDescription group =
                    admin.describeConsumerGroups(List.of(groupId)).all().get().get(groupId);
            assertEquals(GroupState.STABLE, group.groupState());
            assertEquals(
                    TestKafka.PARTITIONS,
                    group.members()
                            .iterator()
                            .next()
                            .assignment()
                            .topicPartitions()
                            .size());
        }
    }

    private GroupState groupState() {
        try {
            return admin.describeConsumerGroups(List.of(groupId))
                    .all()
                    .get()
                    .get(groupId)
                    .groupState();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot describe group " + groupId, e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    private void startFakeLlm(Wire wire) {
        FakeLlmServer.Builder builder = FakeLlmServer.builder().modelName(MODEL);
        if (wire.apiKey != null) {
            builder.apiKey(wire.apiKey); // a wrong or missing key would be answered 401, then the apology
        }
        llm = builder.build().start();
    }

    /** Builds and starts a processor the way {@link Main} does, from configuration. */
    private LlmProcessor startProcessor(Wire wire, Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put(LlmConfig.PROVIDER, wire.provider);
        env.put(LlmConfig.API_URL, wire.baseUrl(llm));
        if (wire.apiKey != null) {
            env.put(LlmConfig.API_KEY, wire.apiKey);
        }
        env.put(LlmConfig.MODEL, MODEL);
        env.put(LlmConfig.TIMEOUT_MS, "10000");
        env.put(LlmConfig.SYSTEM_PROMPT, SYSTEM_PROMPT);
        env.put(LlmConfig.APOLOGY_TEXT, APOLOGY);
        env.put(LlmConfig.GROUP_ID, groupId);
        env.put(ScaleConfig.MODE, "group");
        env.putAll(overrides);
        Config config = TestKafka.config(prefix, TestKafka.PARTITIONS).with(env);
        KafkaSettings kafka = KafkaSettings.from(config);
        LlmConfig llmConfig = LlmConfig.from(config);
        StreamingChatModel model = ModelFactory.streaming(llmConfig, scheduler);
        LlmProcessor processor = new LlmProcessor(
                kafka,
                Topics.withPrefix(kafka.topicPrefix()),
                llmConfig,
                ReplyGenerator.from(llmConfig, model, scheduler, Clock.systemUTC()),
                activity,
                claims,
                new Metrics(),
                Clock.systemUTC());
        processors.add(processor);
        processor.start();
        return processor;
    }

    /** The first chat ids whose keys the default partitioner puts on each of the topics' partitions. */
    private static List<Long> chatsOnEveryPartition() {
        Map<Integer, Long> byPartition = new HashMap<>();
        for (long chat = 1; byPartition.size() < TestKafka.PARTITIONS; chat++) {
            byte[] key = new LongSerializer().serialize("any", chat);
            byPartition.putIfAbsent(Utils.toPositive(Utils.murmur2(key)) % TestKafka.PARTITIONS, chat);
        }
        return List.copyOf(byPartition.values());
    }

    private static Thought thought(long chatId, long firstMessageId, List<ContextMessage> context, String... texts) {
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
                context);
    }

    private RecordMetadata produce(Thought thought) {
        String topic = topics.thoughts().name();
        return produceRaw(
                null,
                topics.thoughts().keySerde().serializer().serialize(topic, thought.chatId()),
                topics.thoughts().valueSerde().serializer().serialize(topic, thought));
    }

    private RecordMetadata produceRaw(Integer partition, byte[] key, byte[] value) {
        try {
            return producer.send(new ProducerRecord<>(topics.thoughts().name(), partition, key, value))
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("cannot produce to " + topics.thoughts().name(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while producing", e);
        }
    }

    private List<ConsumerRecord<Long, ReplyPart>> awaitReplyRecords(int atLeast) {
        return TestKafka.awaitRecords(topics.replies(), atLeast, TIMEOUT);
    }

    /**
     * Everything on {@code topic} right now, each partition in offset order. Called after the processor committed,
     * which it does only once every record it produced for that input was acknowledged.
     */
    private static <K, V> List<ConsumerRecord<K, V>> readAll(Topic<K, V> topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(
                p, topic.keySerde().deserializer(), topic.valueSerde().deserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic.name(), TIMEOUT).stream()
                    .map(info -> new TopicPartition(info.topic(), info.partition()))
                    .collect(Collectors.toList());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, TIMEOUT);
            List<ConsumerRecord<K, V>> records = new ArrayList<>();
            Await.until("reading " + topic.name() + " up to its end offsets " + ends, TIMEOUT, () -> {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
                return partitions.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp));
            });
            return records;
        }
    }

    /** The parts answering {@code thought}, in the order they are on the topic (one chat: one partition). */
    private static List<ReplyPart> partsOf(List<ConsumerRecord<Long, ReplyPart>> records, Thought thought) {
        String replyId = ReplyPart.replyIdFor(thought.thoughtId());
        return values(records).stream().filter(p -> p.replyId().equals(replyId)).collect(Collectors.toList());
    }

    private static List<ReplyPart> values(List<ConsumerRecord<Long, ReplyPart>> records) {
        return records.stream().map(ConsumerRecord::value).collect(Collectors.toList());
    }

    private static List<String> texts(List<ReplyPart> parts) {
        return parts.stream().map(ReplyPart::text).collect(Collectors.toList());
    }

    /** {@code parts} are one complete reply to {@code thought}: its ids, seq 0.., the last flag on the final one. */
    private static void assertCompleteReply(Thought thought, List<String> expectedTexts, List<ReplyPart> parts) {
        assertEquals(expectedTexts, texts(parts), "reply texts of " + thought.thoughtId());
        for (int i = 0; i < parts.size(); i++) {
            ReplyPart part = parts.get(i);
            assertEquals(ReplyPart.replyIdFor(thought.thoughtId()), part.replyId());
            assertEquals(thought.thoughtId(), part.thoughtId());
            assertEquals(thought.chatId(), part.chatId());
            assertEquals(thought.lastMessageId(), part.lastMessageId());
            assertEquals(i, part.seq(), () -> "seq order: " + parts);
            assertEquals(i == parts.size() - 1, part.last(), () -> "exactly one last part, at the end: " + parts);
        }
    }

    private void assertDeadLetter(
            ConsumerRecord<byte[], byte[]> dead, RecordMetadata source, byte[] key, byte[] value) {
        assertTrue(dead != null, () -> "no dead letter for offset " + source.offset());
        assertArrayEquals(key, dead.key(), "the original key bytes");
        assertArrayEquals(value, dead.value(), "the original value bytes");
        String reason = DeadLetters.header(dead.headers(), DeadLetters.REASON);
        assertTrue(reason != null && !reason.isBlank(), "a reason");
        assertEquals(topics.thoughts().name(), DeadLetters.header(dead.headers(), DeadLetters.SOURCE_TOPIC));
        assertEquals(
                Integer.toString(source.partition()), DeadLetters.header(dead.headers(), DeadLetters.SOURCE_PARTITION));
        assertEquals(Long.toString(source.offset()), DeadLetters.header(dead.headers(), DeadLetters.SOURCE_OFFSET));
        assertEquals(LlmProcessor.SERVICE, DeadLetters.header(dead.headers(), DeadLetters.SERVICE));
    }

    private static TopicPartition partitionOf(RecordMetadata at) {
        return new TopicPartition(at.topic(), at.partition());
    }

    private void awaitCommitted(String what, RecordMetadata at) {
        TopicPartition tp = partitionOf(at);
        Await.until(
                "group " + groupId + " commits " + what + " (" + tp + " past offset " + at.offset() + ")",
                TIMEOUT,
                () -> committedOffset(tp).orElse(-1) == at.offset() + 1);
    }

    private OptionalLong committedOffset(TopicPartition tp) {
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            OffsetAndMetadata offset = offsets.get(tp);
            return offset == null ? OptionalLong.empty() : OptionalLong.of(offset.offset());
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("cannot read the offsets of group " + groupId, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while reading offsets", e);
        }
    }

    /**
     * Threads started since {@code before} that still run and would keep a JVM alive, or that belong to the
     * processor or its Kafka clients (daemon or not). Daemon threads of the HTTP client belong to the model,
     * which the processor does not own.
     */
    private static List<String> lingeringThreads(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.isAlive())
                .filter(t -> !t.isDaemon()
                        || t.getName().startsWith(LlmProcessor.SERVICE)
                        || t.getName().startsWith("kafka-"))
                .map(t -> t.getName() + (t.isDaemon() ? " (daemon)" : ""))
                .collect(Collectors.toList());
    }

    private static <T> T single(List<T> list) {
        assertEquals(1, list.size(), () -> "expected exactly one: " + list);
        return list.get(0);
    }
}
