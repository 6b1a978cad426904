package dev.thoughtstream.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.ScaleConfig.Mode;
import dev.thoughtstream.llm.generate.ReplyGenerator;
import dev.thoughtstream.llm.model.ModelFactory;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.llm.Behavior;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.llm.WireFormat;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import redis.clients.jedis.RedisClient;

/**
 * How much one instance holds at once ({@code LLM_MAX_IN_FLIGHT}), on real parts: testkit's broker, real Redis, the
 * real LangChain4j clients over HTTP against {@link FakeLlmServer}, which records how many requests it had at the
 * same time. Concurrency is asserted by that peak and by the threads the instance started, never by timing.
 */
class LlmProcessorInFlightTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final String MODEL = "in-flight-model";
    private static final int MANY = 500;

    /** One processor instance, as one process would hold it. */
    private record Instance(LlmProcessor processor, Metrics metrics) {
        long outcome(String outcome) {
            return metrics.counter("llm_thoughts_total", "", "outcome", outcome).count();
        }

        long retried(String reason) {
            return metrics.counter("llm_thoughts_retried_total", "", "reason", reason)
                    .count();
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

    @BeforeEach
    void setUp(TestInfo test) {
        prefix = TestKafka.uniquePrefix(
                "inflight-" + test.getTestMethod().orElseThrow().getName());
        groupId = prefix + "llm";
        keyPrefix = TestRedis.uniqueKeyPrefix(prefix);
        producer = track(
                new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer()));
        admin = track(Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers())));
        scheduler = new ScheduledThreadPoolExecutor(2, NamedThreads.factory("test-inflight-scheduler", true));
        scheduler.setRemoveOnCancelPolicy(true);
        // One handler thread per request on the fake server's side; the processor's side is what is measured.
        llm = track(FakeLlmServer.builder()
                .modelName(MODEL)
                .maxConcurrentRequests(MANY + 100)
                .probeInterval(Duration.ofSeconds(1))
                .build()
                .start());
    }

    @AfterEach
    void tearDown() {
        for (Instance instance : instances) {
            instance.processor().close();
        }
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                throw new AssertionError("closing a test resource failed", e);
            }
        }
        scheduler.shutdownNow();
        for (Instance instance : instances) {
            assertTrue(
                    instance.processor().failure().isEmpty(),
                    () -> "a processor failed: "
                            + instance.processor().failure().orElseThrow());
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.push(resource);
        return resource;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Mode.class,
            names = {"SHARE", "GROUP"})
    void fiveHundredSlowGenerationsAreInFlightAtOnceWithoutAThreadEach(Mode mode) {
        // given 500 thoughts of 500 chats waiting, and a model whose every stream sends a token and then stays open
        // (share mode over OpenAI's SSE, group mode over Ollama's NDJSON: both wire formats)
        WireFormat wire = mode == Mode.SHARE ? WireFormat.OPENAI : WireFormat.OLLAMA;
        topics = TestKafka.createTopics(prefix, 1);
        llm.setDefault(Behavior.builder()
                .reply("Hello there.\n\nMore.")
                .stallAfterTokens(1)
                .build());
        List<Thought> thoughts = new ArrayList<>();
        for (long chat = 1; chat <= MANY; chat++) {
            thoughts.add(thought(chat, 1, "Hi from chat " + chat));
        }
        produceAll(thoughts);
        Map<Long, String> before = liveThreads();

        // when one instance with a budget above 500 consumes them (share mode: 16 consumers of up to 64 each; a
        // consumer whose first batch the broker filled only partly takes no more while that batch runs, so the
        // budget is an upper bound, and twice the thoughts leaves room for that)
        Instance instance = start(
                wire,
                1,
                Map.of(
                        ScaleConfig.MODE,
                        mode.name(),
                        ScaleConfig.MAX_IN_FLIGHT,
                        "1024",
                        LlmConfig.FIRST_TOKEN_TIMEOUT_MS,
                        "600000",
                        LlmConfig.IDLE_TIMEOUT_MS,
                        "600000",
                        LlmConfig.REPLY_TIMEOUT_MS,
                        "600000"));

        // then the model has all 500 streams open at the same time
        Await.until("500 requests at the model at once", TIMEOUT, () -> llm.peakConcurrentRequests() >= MANY);
        Await.until(
                "500 generations running", TIMEOUT, () -> instance.processor().inFlight() >= MANY);
        // and the instance did it with a few dozen threads, not one per generation or per stream
        Map<Long, String> started = liveThreads();
        started.keySet().removeAll(before.keySet());
        System.out.printf(
                "%s: peak %d concurrent requests, %d generations in flight, %d threads started: %s%n",
                mode,
                llm.peakConcurrentRequests(),
                instance.processor().inFlight(),
                started.size(),
                summary(started.values()));
        assertTrue(
                started.size() < 100,
                () -> started.size() + " threads started for " + MANY + " generations: " + summary(started.values()));
    }

    @Test
    void aGenerationLongerThanTheShareLockIsRenewedAndNotDeliveredTwice() throws Exception {
        // given a share group whose acquisition lock lasts 2 s, and a model that streams for about 6 s
        topics = TestKafka.createTopics(prefix, 1);
        setGroupConfig("share.record.lock.duration.ms", "2000");
        String reply = "One.\n\nTwo.\n\nThree.\n\nFour.\n\nFive.\n\nSix.\n\nSeven.\n\nEight.";
        llm.setDefault(Behavior.builder().reply(reply).tokensPerSecond(3).build());
        Instance instance =
                start(WireFormat.OPENAI, 1, Map.of(ScaleConfig.MODE, "share", ScaleConfig.MAX_IN_FLIGHT, "2"));

        // when one thought comes
        Thought thought = thought(42, 1, "Count to eight, slowly");
        produceAll(List.of(thought));

        // then it is answered once: one model call, no second delivery (which would find the claim held, wait, and
        // end as a duplicate), nothing dead-lettered
        Await.until("the thought answered", TIMEOUT, () -> instance.outcome("answered") == 1);
        List<ReplyPart> parts = TopicReader.readAll(TestKafka.bootstrapServers(), topics.replies(), TIMEOUT).stream()
                .map(ConsumerRecord::value)
                .toList();
        assertEquals(8, parts.size(), parts::toString);
        assertEquals(1, parts.stream().filter(ReplyPart::last).count());
        assertEquals(1, llm.requestCount());
        assertEquals(0, instance.outcome("duplicate"));
        assertEquals(0, instance.retried("claimed_elsewhere"));
        assertEquals(0, instance.outcome("dead_lettered"));
        Duration took = Duration.ofMillis(
                parts.get(parts.size() - 1).createdAtMs() - parts.get(0).createdAtMs());
        assertTrue(took.compareTo(Duration.ofSeconds(2)) > 0, "the reply outlasted the lock: " + took);
    }

    @Test
    void atTheBudgetAShareInstanceAcquiresNothingMoreAndGoesOnWhenItsThoughtsFinish() throws Exception {
        // given an instance with a budget of 2 and six thoughts waiting; the model holds every request
        topics = TestKafka.createTopics(prefix, 1);
        llm.holdRequests();
        Instance instance =
                start(WireFormat.OPENAI, 1, Map.of(ScaleConfig.MODE, "share", ScaleConfig.MAX_IN_FLIGHT, "2"));
        List<Thought> thoughts = new ArrayList<>();
        for (long chat = 1; chat <= 6; chat++) {
            thoughts.add(thought(chat, 1, "Hello " + chat));
        }
        produceAll(thoughts);

        // when the instance holds two generations at the model
        Await.until("two requests held at the model", TIMEOUT, () -> llm.activeRequests() == 2);
        assertEquals(2, instance.processor().inFlight());

        // then the other four were not acquired: another consumer of the group gets them (and gives them back)
        Set<Long> others = new HashSet<>();
        try (KafkaShareConsumer<byte[], byte[]> other = new KafkaShareConsumer<>(otherShareConsumer())) {
            other.subscribe(List.of(topics.thoughts().name()));
            Await.until("another consumer receives the four others", TIMEOUT, () -> {
                for (ConsumerRecord<byte[], byte[]> r : other.poll(Duration.ofMillis(200))) {
                    others.add(r.offset());
                    other.acknowledge(r, AcknowledgeType.RELEASE);
                }
                return others.size() == 4;
            });
            other.commitSync(Duration.ofSeconds(10));
        }
        assertEquals(2, llm.activeRequests(), "still two at the model");

        // and once the model answers, the instance goes on and answers all six, never more than two at once
        llm.releaseRequests();
        Await.until("all six answered", TIMEOUT, () -> instance.outcome("answered") == 6);
        assertEquals(2, llm.peakConcurrentRequests());
        assertEquals(6, llm.requestCount());
    }

    @Test
    void atTheBudgetAGroupInstancePausesItsPartitionsAndResumesWhenItsThoughtsFinish() {
        // given six thoughts of six chats waiting on one partition, and a model that holds every request
        topics = TestKafka.createTopics(prefix, 1);
        llm.holdRequests();
        List<Thought> thoughts = new ArrayList<>();
        for (long chat = 1; chat <= 6; chat++) {
            thoughts.add(thought(chat, 1, "Hello " + chat));
        }
        produceAll(thoughts);

        // when an instance with a budget of two, buffering no more than that, consumes them
        Instance instance = start(
                WireFormat.OLLAMA,
                1,
                Map.of(ScaleConfig.MODE, "group", ScaleConfig.MAX_IN_FLIGHT, "2", ScaleConfig.MAX_BUFFERED, "2"));

        // then it holds two, at the model, and stops fetching: its partition is paused
        Await.until("two requests held at the model", TIMEOUT, () -> llm.activeRequests() == 2);
        Await.until("the partition paused", TIMEOUT, () -> instance.processor().pausedPartitions() == 1);
        assertEquals(2, instance.processor().buffered(), "one poll of at most two, then nothing more");

        // and once the model answers, it resumes and answers all six, never more than two at once
        llm.releaseRequests();
        Await.until("all six answered", TIMEOUT, () -> instance.outcome("answered") == 6);
        assertEquals(2, llm.peakConcurrentRequests());
        assertEquals(6, llm.requestCount());
    }

    // ---------------------------------------------------------------------------------------------------------

    /** Builds and starts an instance as {@link Main} does, with its own Redis client and metrics. */
    private Instance start(WireFormat wire, int partitions, Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put(LlmConfig.PROVIDER, wire.name().toLowerCase(Locale.ROOT));
        env.put(LlmConfig.API_URL, wire == WireFormat.OPENAI ? llm.openAiBaseUrl() : llm.ollamaBaseUrl());
        env.put(LlmConfig.MODEL, MODEL);
        env.put(LlmConfig.TIMEOUT_MS, "60000");
        env.put(LlmConfig.GROUP_ID, groupId);
        env.putAll(overrides);
        Config config = TestKafka.config(prefix, partitions).with(env);
        KafkaSettings kafka = KafkaSettings.from(config);
        LlmConfig llmConfig = LlmConfig.from(config);
        StreamingChatModel model = ModelFactory.streaming(llmConfig, scheduler);
        RedisClient client = track(RedisClaimStore.connect(TestRedis.settings()));
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
        Instance instance = new Instance(processor, metrics);
        instances.add(instance);
        processor.start();
        return instance;
    }

    private Properties otherShareConsumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    private void setGroupConfig(String name, String value) throws Exception {
        ConfigResource group = new ConfigResource(ConfigResource.Type.GROUP, groupId);
        admin.incrementalAlterConfigs(Map.of(
                        group, List.of(new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET))))
                .all()
                .get(30, TimeUnit.SECONDS);
    }

    private void produceAll(List<Thought> thoughts) {
        String topic = topics.thoughts().name();
        var sends = thoughts.stream()
                .map(t -> producer.send(topics.thoughts().record(t.chatId(), t)))
                .toList();
        try {
            for (var send : sends) {
                send.get(30, TimeUnit.SECONDS);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("cannot produce to " + topic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while producing", e);
        }
    }

    /** Live threads by id, except the fake server's handlers (one per request it holds, by its design). */
    private static Map<Long, String> liveThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .filter(t -> !t.getName().startsWith("fake-llm-"))
                .collect(Collectors.toMap(Thread::getId, Thread::getName, (a, b) -> a, HashMap::new));
    }

    /** Thread names grouped by their prefix (the name without its trailing number), with counts. */
    private static String summary(java.util.Collection<String> names) {
        return names.stream()
                .collect(Collectors.groupingBy(
                        n -> n.replaceAll("[-#]?\\d+$", ""), java.util.TreeMap::new, Collectors.counting()))
                .toString();
    }

    private static Thought thought(long chatId, long firstMessageId, String text) {
        return new Thought(
                Thought.SCHEMA_VERSION,
                Thought.idFor(chatId, firstMessageId),
                chatId,
                List.of(new ThoughtMessage(firstMessageId, text, 10_000L)),
                firstMessageId,
                firstMessageId,
                10_000L,
                12_000L,
                List.of());
    }
}
